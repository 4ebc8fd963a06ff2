//! `GET /admin/clients/{client_id}/delete`: the page that deletes a client once the person has
//! typed its name (admins); `POST` to the same address deletes it through the admin API's own
//! code ([`crate::admin::clients::delete_client`], as `DELETE /admin/api/v1/clients/{id}`: its
//! secrets, opaque tokens and refresh tokens end with it; audited as `client.delete` under the
//! person's name) when the typed name is the client's, and otherwise shows the page again with
//! the reason next to the field, nothing changed.

use super::clients::person_for_post;
use super::edit::changeable;
use super::session::{self, Person};
use super::templates::{DeletePage, FieldError};
use crate::admin::clients::delete_client;
use crate::model::Client;
use crate::net::RemoteAddr;
use crate::pages::form::field;
use crate::pages::render;
use crate::state::AppState;
use crate::users::role::Operation;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use tessera_proto::FormParams;

fn page(
    state: &AppState,
    person: &Person,
    client: &Client,
    typed: String,
    error: Option<FieldError>,
) -> Response {
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let t = DeletePage {
        shell: person.shell(state, "clients"),
        action: format!(
            "/admin/clients/{}/delete",
            super::clients::segment(&client.client_id)
        ),
        name: client.name.clone(),
        client_id: client.client_id.clone(),
        typed,
        errors: error.into_iter().collect(),
    };
    render::page(state, status, &t)
}

/// The delete page.
pub async fn confirm(state: &AppState, person: &Person, client_id: &str) -> Response {
    if let Some(r) = person.refused(state, Operation::ClientWrite, "deleting clients") {
        return r;
    }
    match changeable(state, person, client_id).await {
        Ok(c) => page(state, person, &c, String::new(), None),
        Err(r) => r,
    }
}

/// Deletes the client when the typed name is its name.
pub async fn submit(
    state: &AppState,
    headers: &HeaderMap,
    remote: RemoteAddr,
    client_id: &str,
    form: &FormParams,
) -> Response {
    let person = match person_for_post(state, headers, remote, form, Operation::ClientWrite).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let client = match changeable(state, &person, client_id).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let typed = field(form, "confirm_name").unwrap_or("").to_owned();
    if typed.trim() != client.name.trim() {
        let why = if typed.trim().is_empty() {
            "Type the client's name to delete it.".to_owned()
        } else {
            format!(
                "{:?} is not the client's name; type {:?} to delete it.",
                typed.trim(),
                client.name
            )
        };
        return page(
            state,
            &person,
            &client,
            typed,
            Some(FieldError::new("confirm_name", why)),
        );
    }
    match delete_client(state, &person.actor(), client_id).await {
        Ok(c) => session::message(
            state,
            Some(&person),
            StatusCode::OK,
            "Client deleted",
            &format!(
                "{} ({}) is deleted: the token endpoint refuses it, and its tokens and secrets are gone.",
                c.name, c.client_id
            ),
            Some(("/admin/clients", "Back to the clients")),
        ),
        Err(e) if e.http_status().is_server_error() => render::unavailable(state),
        Err(e) => session::message(
            state,
            Some(&person),
            e.http_status(),
            "Not done",
            e.description(),
            Some(("/admin/clients", "Back to the clients")),
        ),
    }
}
