//! `GET /admin/scopes/new`: the form that registers a scope, its name and description (admins,
//! `tessera.scopes.write`); `POST` to the same address creates it through the admin API's own
//! code ([`crate::admin::scopes::create_scope`], as `POST /admin/api/v1/scopes`: the same
//! validation and messages, the same `scope.create` audit record, under the person's name). A
//! refused form comes back with its values and the reason next to its field.

use super::clients::{person_who_may, posted, segment};
use super::session::{self, Person};
use super::templates::{FieldError, NewScopePage};
use crate::admin::scopes::{NewScope, create_scope};
use crate::net::RemoteAddr;
use crate::pages::form::field;
use crate::pages::render;
use crate::state::{AppState, SharedState};
use crate::users::role::Operation;
use axum::body::Body;
use axum::extract::State;
use axum::http::Uri;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

fn page(
    state: &AppState,
    person: &Person,
    name: String,
    description: String,
    errors: Vec<FieldError>,
    status: StatusCode,
) -> Response {
    let t = NewScopePage {
        shell: person.shell(state, "scopes"),
        name,
        description,
        errors,
    };
    render::page(state, status, &t)
}

/// `GET /admin/scopes/new`.
pub async fn show(
    State(state): State<SharedState>,
    headers: HeaderMap,
    remote: RemoteAddr,
    uri: Uri,
) -> Response {
    let person = match person_who_may(
        &state,
        &headers,
        remote,
        &uri,
        Operation::ScopeWrite,
        "creating scopes",
    )
    .await
    {
        Ok(p) => p,
        Err(r) => return r,
    };
    page(
        &state,
        &person,
        String::new(),
        String::new(),
        Vec::new(),
        StatusCode::OK,
    )
}

/// `POST /admin/scopes/new`.
pub async fn submit(
    State(state): State<SharedState>,
    headers: HeaderMap,
    remote: RemoteAddr,
    body: Body,
) -> Response {
    let (form, person) = match posted(&state, &headers, remote, body, Operation::ScopeWrite).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let name = field(&form, "name").unwrap_or("").trim().to_owned();
    let description = field(&form, "description").unwrap_or("").to_owned();
    let new = NewScope {
        name: name.clone(),
        description: description.trim().to_owned(),
        permissions: Vec::new(),
    };
    match create_scope(&state, &person.actor(), new).await {
        Ok(s) => {
            let href = format!("/admin/scopes/{}", segment(&s.name));
            session::message(
                &state,
                Some(&person),
                StatusCode::CREATED,
                "Scope created",
                &format!(
                    "The scope {} is registered; clients may now be allowed it.",
                    s.name
                ),
                Some((&href, "See the scope")),
            )
        }
        Err(e) if e.http_status().is_server_error() => render::unavailable(&state),
        Err(e) => {
            let field = match e.field() {
                Some("description") => "description",
                _ => "name",
            };
            let status = e.http_status();
            page(
                &state,
                &person,
                name,
                description,
                vec![FieldError::new(field, e.description())],
                status,
            )
        }
    }
}
