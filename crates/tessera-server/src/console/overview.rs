//! `GET /admin/`: the overview for a signed-in person, the sign-in page for anybody else. The
//! overview counts clients, scopes and users, names the server's version, issuer and database,
//! and charts the token endpoint's last hour ([`super::activity`]: this instance's in-memory
//! counts).

use super::chart;
use super::session::{self, NoPerson};
use super::templates::{GrantTotal, OverviewPage, Shell, SignInPage};
use crate::model::now;
use crate::net::RemoteAddr;
use crate::pages::render;
use crate::state::SharedState;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

/// `GET /admin/`.
pub async fn show(
    State(state): State<SharedState>,
    headers: HeaderMap,
    remote: RemoteAddr,
    RawQuery(query): RawQuery,
) -> Response {
    let person = match session::load(&state, &headers, Some(remote.0.to_string())).await {
        Ok(p) => p,
        Err(_) => return render::unavailable(&state),
    };
    let person = match person {
        Ok(p) => p,
        Err(why) => {
            let note = match why {
                NoPerson::NoRole => Some(
                    "Your account has no console role (any more). Ask an administrator for one."
                        .to_owned(),
                ),
                NoPerson::SignedOut if query.as_deref() == Some("signed_out=1") => {
                    Some("You are signed out.".to_owned())
                }
                NoPerson::SignedOut => None,
            };
            let t = SignInPage {
                shell: Shell::signed_out(&state),
                note,
            };
            return render::page(&state, StatusCode::OK, &t);
        }
    };
    let (clients, scopes, _keys) = match state.store.row_counts().await {
        Ok(c) => c,
        Err(_) => return render::unavailable(&state),
    };
    let Ok(users) = state.store.count_users().await else {
        return render::unavailable(&state);
    };
    let series = state.activity.last_hour(now());
    let totals = series
        .iter()
        .map(|s| GrantTotal {
            grant: s.grant.as_str(),
            colour: chart::colour(s.grant),
            issued: s.issued.iter().sum(),
            failed: s.failed.iter().sum(),
        })
        .collect();
    let t = OverviewPage {
        shell: person.shell(&state, "overview"),
        clients,
        scopes,
        users,
        version: env!("CARGO_PKG_VERSION"),
        issuer: state.issuer.clone(),
        database: state.store.backend(),
        issued: chart::chart("issued", "Tokens issued", &series, |s| &s.issued),
        failed: chart::chart("failed", "Failed client authentications", &series, |s| {
            &s.failed
        }),
        totals,
    };
    render::page(&state, StatusCode::OK, &t)
}
