//! `GET /admin/users`: the local users with their console roles, whether they are enabled, and
//! when they were created; `GET /admin/users/{user}`: one user's account and the consents they
//! gave, with (for admins) the buttons that change them ([`super::user_change`]). Reading needs
//! `tessera.users.read`, which every console role has; `{user}` is a username or a user id.

use super::clients::{person_for_page, segment};
use super::session::{self, Person};
use super::templates::{ConsentRow, FieldError, UserPage, UserRow, UsersPage, date};
use crate::net::RemoteAddr;
use crate::pages::render;
use crate::state::{AppState, SharedState};
use crate::users::User;
use crate::users::ops::{self, UserError};
use crate::users::role::Operation;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

/// The address of a user's page: by username, or by id for a user named `new` (that address is
/// the new-user form).
pub fn user_href(u: &User) -> String {
    if u.username == "new" {
        format!("/admin/users/{}", segment(&u.id))
    } else {
        format!("/admin/users/{}", segment(&u.username))
    }
}

/// `GET /admin/users`.
pub async fn list(
    State(state): State<SharedState>,
    headers: HeaderMap,
    remote: RemoteAddr,
    uri: Uri,
) -> Response {
    let person = match person_for_page(&state, &headers, remote, &uri).await {
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
            href: user_href(&u),
            role: u.role.map_or("—", |r| r.as_str()),
            enabled: u.enabled,
            created: date(u.created_at),
            username: u.username,
            email: u.email,
        })
        .collect();
    let t = UsersPage {
        shell: person.shell(&state, "users"),
        can_write: person.may(Operation::UserWrite),
        rows,
    };
    render::page(&state, StatusCode::OK, &t)
}

/// The user `id_or_name`, or the page to answer with instead (404, or 503).
pub async fn find_or_page(
    state: &AppState,
    person: &Person,
    id_or_name: &str,
) -> Result<User, Response> {
    match ops::find(state, id_or_name).await {
        Ok(u) => Ok(u),
        Err(UserError::NotFound(_)) => Err(session::message(
            state,
            Some(person),
            StatusCode::NOT_FOUND,
            "No such user",
            &format!("There is no user {id_or_name:?}."),
            Some(("/admin/users", "Back to the users")),
        )),
        Err(_) => Err(render::unavailable(state)),
    }
}

/// `GET /admin/users/{user}`.
pub async fn show(
    State(state): State<SharedState>,
    headers: HeaderMap,
    remote: RemoteAddr,
    uri: Uri,
    Path(user): Path<String>,
) -> Response {
    let person = match person_for_page(&state, &headers, remote, &uri).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let user = match find_or_page(&state, &person, &user).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    page(&state, &person, user, Vec::new(), StatusCode::OK).await
}

/// A user's page (again with `errors` after a refused role change).
pub async fn page(
    state: &AppState,
    person: &Person,
    user: User,
    errors: Vec<FieldError>,
    status: StatusCode,
) -> Response {
    let consents = match state.store.list_consents(&user.id).await {
        Ok(c) => c,
        Err(_) => return render::unavailable(state),
    };
    let href = user_href(&user);
    let consents = consents
        .into_iter()
        .map(|c| ConsentRow {
            client_name: state
                .registry
                .client(&c.client_id)
                .map(|k| k.client.name.clone())
                .unwrap_or_default(),
            revoke_href: format!("{href}/consents/{}", segment(&c.client_id)),
            granted: date(c.granted_at),
            scope: c.scope,
            client_id: c.client_id,
        })
        .collect();
    let t = UserPage {
        shell: person.shell(state, "users"),
        role: user.role.map_or("", |r| r.as_str()),
        created: date(user.created_at),
        password_set: user
            .password_hash
            .as_ref()
            .map(|_| user.password_changed_at.map(date).unwrap_or_default()),
        can_write: person.may(Operation::UserWrite),
        href,
        user,
        errors,
        consents,
    };
    render::page(state, status, &t)
}
