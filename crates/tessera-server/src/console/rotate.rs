//! `GET /admin/clients/{client_id}/rotate-secret`: the form that rotates a client's secret, with
//! an optional grace period during which the previous secrets keep working; `POST` to the same
//! address rotates it through the admin API's own code ([`crate::admin::secrets::rotate_secret`],
//! audited as `client.secret_rotate` under the person's name) and shows the new secret this
//! once. For a migration the form takes a secret to import instead (the one the client already
//! uses): it is checked and stored as the admin API stores an imported `client_secret`, never
//! shown back. Operators and admins.

use super::clients::person_for_post;
use super::session::{self, Person};
use super::templates::{FieldError, RotatePage, RotatedPage, date};
use crate::admin::clients::GivenSecret;
use crate::admin::secrets::rotate_secret;
use crate::net::RemoteAddr;
use crate::pages::form::field;
use crate::pages::render;
use crate::state::AppState;
use crate::store::StoreError;
use crate::users::role::Operation;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use secrecy::{ExposeSecret, SecretString};
use tessera_proto::FormParams;

/// The rotation form (again with the grace period typed and `error` after a refusal; a secret
/// to import is never shown back).
pub async fn confirm(
    state: &AppState,
    person: &Person,
    client_id: &str,
    error: Option<(String, FieldError)>,
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
    let (grace, errors) = match error {
        Some((g, e)) => (g, vec![e]),
        None => (String::new(), Vec::new()),
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
        errors,
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
                        FieldError::new(
                            "grace",
                            format!(
                                "{grace_text:?} is not a duration (for example 24h, 30m or 7days)"
                            ),
                        ),
                    )),
                )
                .await;
            }
        }
    };
    let imported = field(form, "imported_secret")
        .filter(|s| !s.is_empty())
        .map(|s| GivenSecret::Imported(SecretString::from(s.to_owned())));
    let rotated =
        match rotate_secret(state, &person.actor(), client_id, grace, imported.as_ref()).await {
            Ok(r) => r,
            Err(e) if e.http_status() == StatusCode::BAD_REQUEST => {
                let field = match e.field() {
                    Some("client_secret") => "imported_secret",
                    _ => "grace",
                };
                let mut message = e.description().to_owned();
                if field == "imported_secret" {
                    message.push_str(" (type the secret again)");
                }
                return confirm(
                    state,
                    &person,
                    client_id,
                    Some((grace_text, FieldError::new(field, message))),
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
    let previous = if grace == 0 {
        "The previous secret no longer works.".to_owned()
    } else {
        format!(
            "The previous secrets keep working until {} UTC.",
            date(rotated.previous_secrets_expire_at)
        )
    };
    // An imported secret is not shown back: the person has it.
    let Some(secret) = rotated.client_secret.as_ref() else {
        return session::message(
            state,
            Some(&person),
            StatusCode::OK,
            "Secret imported",
            &format!(
                "The imported secret is now the secret of {}; it is marked as imported until the next rotation to a generated one. {previous}",
                rotated.client_id
            ),
            Some(("/admin/clients", "Back to the clients")),
        );
    };
    let t = RotatedPage {
        shell: person.shell(state, "clients"),
        client_id: rotated.client_id.clone(),
        secret: secret.expose_secret().to_owned(),
        previous,
    };
    super::create::with_own_scripts(state, render::page(state, StatusCode::OK, &t))
}
