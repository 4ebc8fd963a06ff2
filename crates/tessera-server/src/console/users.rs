//! `GET /admin/users`: the local users with their console roles, whether they are enabled, and
//! when they were created (read only here; the CLI and the admin API change them). Reading needs
//! `tessera.users.read`, which every console role has.

use super::clients::person_for_page;
use super::templates::{UserRow, UsersPage, date};
use crate::net::RemoteAddr;
use crate::pages::render;
use crate::state::SharedState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

/// `GET /admin/users`.
pub async fn list(
    State(state): State<SharedState>,
    headers: HeaderMap,
    remote: RemoteAddr,
) -> Response {
    let person = match person_for_page(&state, &headers, remote).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let users = match state.store.list_users().await {
        Ok(u) => u,
        Err(_) => return render::unavailable(&state),
    };
    let rows = users
        .into_iter()
        .map(|u| UserRow {
            name: u.shown_name().to_owned(),
            role: u.role.map_or("—", |r| r.as_str()),
            enabled: u.enabled,
            created: date(u.created_at),
            username: u.username,
            email: u.email,
        })
        .collect();
    let t = UsersPage {
        shell: person.shell(&state, "users"),
        rows,
    };
    render::page(&state, StatusCode::OK, &t)
}
