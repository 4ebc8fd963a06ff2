//! `GET /admin/clients/{client_id}/rotate-secret`: the form that rotates a client's secret, with
//! an optional grace period during which the previous secrets keep working; `POST` to the same
//! address rotates it through the admin API's own code ([`crate::admin::secrets::rotate_secret`],
//! audited as `client.secret_rotate` under the person's name) and shows the new secret this
//! once. Operators and admins.

use super::clients::person_for_post;
use super::session::{self, Person};
use super::templates::{RotatePage, RotatedPage, date};
use crate::admin::secrets::rotate_secret;
use crate::net::RemoteAddr;
use crate::pages::form::field;
use crate::pages::render;
use crate::state::AppState;
use crate::store::StoreError;
use crate::users::role::Operation;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use secrecy::ExposeSecret;
use tessera_proto::FormParams;

/// The rotation form (again with `error` after a refusal).
pub async fn confirm(
    state: &AppState,
    person: &Person,
    client_id: &str,
    error: Option<(String, String)>,
) -> Response {
    if let Some(r) = person.refused(state, Operation::ClientSecretRotate, "rotating secrets") {
        return r;
    }
    let client = match state.store.get_client(client_id).await {
        Ok(c) => c,
        Err(StoreError::NotFound) => {
            return session::message(
                state,
                Some(person),
                StatusCode::NOT_FOUND,
                "No such client",
                &format!("There is no client {client_id:?}."),
                Some(("/admin/clients", "Back to the clients")),
            );
        }
        Err(_) => return render::unavailable(state),
    };
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let (grace, error) = match error {
        Some((g, e)) => (g, Some(e)),
        None => (String::new(), None),
    };
    let t = RotatePage {
        shell: person.shell(state, "clients"),
        action: format!(
            "/admin/clients/{}/rotate-secret",
            super::clients::segment(&client.client_id)
        ),
        name: client.name,
        client_id: client.client_id,
        grace,
        error,
    };
    render::page(state, status, &t)
}

/// Rotates the secret as the form asks.
pub async fn submit(
    state: &AppState,
    headers: &HeaderMap,
    remote: RemoteAddr,
    client_id: &str,
    form: &FormParams,
) -> Response {
    let person =
        match person_for_post(state, headers, remote, form, Operation::ClientSecretRotate).await {
            Ok(p) => p,
            Err(r) => return r,
        };
    let grace_text = field(form, "grace").unwrap_or("").trim().to_owned();
    let grace = if grace_text.is_empty() || grace_text == "0" {
        0
    } else {
        match humantime::parse_duration(&grace_text) {
            Ok(d) => d.as_secs(),
            Err(_) => {
                return confirm(
                    state,
                    &person,
                    client_id,
                    Some((
                        grace_text.clone(),
                        format!("{grace_text:?} is not a duration (for example 24h, 30m or 7days)"),
                    )),
                )
                .await;
            }
        }
    };
    let rotated = match rotate_secret(state, &person.actor(), client_id, grace, None).await {
        Ok(r) => r,
        Err(e) if e.http_status() == StatusCode::BAD_REQUEST => {
            return confirm(
                state,
                &person,
                client_id,
                Some((grace_text, e.description().to_owned())),
            )
            .await;
        }
        Err(e) if e.http_status().is_server_error() => return render::unavailable(state),
        Err(e) => {
            return session::message(
                state,
                Some(&person),
                e.http_status(),
                "Not done",
                e.description(),
                Some(("/admin/clients", "Back to the clients")),
            );
        }
    };
    // Nothing is imported here, so the rotation generated the secret it returns.
    let Some(secret) = rotated.client_secret.as_ref() else {
        return render::unavailable(state);
    };
    let t = RotatedPage {
        shell: person.shell(state, "clients"),
        client_id: rotated.client_id.clone(),
        secret: secret.expose_secret().to_owned(),
        previous: if grace == 0 {
            "The previous secret no longer works.".into()
        } else {
            format!(
                "The previous secrets keep working until {} UTC.",
                date(rotated.previous_secrets_expire_at)
            )
        },
    };
    super::create::with_own_scripts(state, render::page(state, StatusCode::OK, &t))
}
