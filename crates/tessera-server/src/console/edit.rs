//! `GET /admin/clients/{client_id}/edit`: the client form ([`super::client_form`]) filled with a
//! client's registration (admins); `POST` to the same address saves it through the admin API's
//! own code ([`crate::admin::clients::update_client`], as `PATCH /admin/api/v1/clients/{id}`:
//! the same validation and messages, the same `client.update` audit record, under the person's
//! name). A refused form comes back with its values and each reason next to its field, and
//! nothing changed. When the change of authentication method issued a new secret, it is shown
//! once.

use super::client_form::{self, Saved, Target, Typed};
use super::clients::person_for_post;
use super::session::{self, Person};
use super::templates::RotatedPage;
use crate::model::Client;
use crate::net::RemoteAddr;
use crate::pages::render;
use crate::state::AppState;
use crate::store::StoreError;
use crate::users::role::Operation;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use secrecy::ExposeSecret;
use tessera_proto::FormParams;

/// The client `client_id` for a change from the console, or the page saying why not (no such
/// client; the console's own client, which the server manages).
pub(super) async fn changeable(
    state: &AppState,
    person: &Person,
    client_id: &str,
) -> Result<Client, Response> {
    if super::client::is_first_party(client_id) {
        return Err(session::message(
            state,
            Some(person),
            StatusCode::CONFLICT,
            "Not done",
            "The console's own client is managed by the server, which puts it back as it must be; it is not changed from the console.",
            Some(("/admin/clients", "Back to the clients")),
        ));
    }
    match state.store.get_client(client_id).await {
        Ok(c) => Ok(c),
        Err(StoreError::NotFound) => Err(session::message(
            state,
            Some(person),
            StatusCode::NOT_FOUND,
            "No such client",
            &format!("There is no client {client_id:?}."),
            Some(("/admin/clients", "Back to the clients")),
        )),
        Err(_) => Err(render::unavailable(state)),
    }
}

/// The edit form, filled with the registration.
pub async fn show(state: &AppState, person: &Person, client_id: &str) -> Response {
    if let Some(r) = person.refused(state, Operation::ClientWrite, "editing clients") {
        return r;
    }
    let client = match changeable(state, person, client_id).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let typed = Typed::from_client(&client);
    client_form::page(
        state,
        person,
        &Target::Edit(Box::new(client)),
        typed,
        Vec::new(),
        StatusCode::OK,
    )
    .await
}

/// Saves the edited registration.
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
    let target = Target::Edit(Box::new(client));
    let saved = match client_form::save(state, &person, &target, Typed::from_form(form)).await {
        Saved::Client(c) => c,
        Saved::Page(page) => return page,
    };
    match &saved.client_secret {
        Some(secret) => {
            let t = RotatedPage {
                shell: person.shell(state, "clients"),
                client_id: saved.client.client_id.clone(),
                secret: secret.expose_secret().to_owned(),
                previous: format!(
                    "The client was saved; its new authentication methods ({}) needed a new secret, and the previous one no longer works.",
                    saved.client.auth_methods_text()
                ),
            };
            super::create::with_own_scripts(state, render::page(state, StatusCode::OK, &t))
        }
        None => session::message(
            state,
            Some(&person),
            StatusCode::OK,
            "Client saved",
            &format!(
                "{} ({}) is saved.",
                saved.client.name, saved.client.client_id
            ),
            Some(("/admin/clients", "Back to the clients")),
        ),
    }
}
