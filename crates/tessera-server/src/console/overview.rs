//! `GET /admin/`: the overview for a signed-in person, the sign-in page for anybody else.

use super::session::{self, NoPerson};
use super::templates::{OverviewPage, Shell, SignInPage};
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
    let t = OverviewPage {
        shell: person.shell(&state, "overview"),
    };
    render::page(&state, StatusCode::OK, &t)
}
