//! Changing a user from the console, admins only (`tessera.users.write`), each through the admin
//! API's own code ([`crate::admin::users`]) with its audit record under the person's name:
//!
//! - `GET /admin/users/{user}/{enable|disable|delete}` asks, `POST` does it;
//! - `GET /admin/users/{user}/password` is the reset form (a password generated and shown once,
//!   or typed), `POST` sets it (their sessions end, their refresh tokens are revoked);
//! - `POST /admin/users/{user}/role` gives another console role (the form is on the user's page);
//! - `GET /admin/users/{user}/consents/{client_id}` asks, `POST` withdraws that consent.
//!
//! The user service refuses to disable, demote or delete the last enabled admin; the console
//! shows its message.

use super::clients::{person_who_may, posted};
use super::session::{self, Person};
use super::templates::{ConfirmPage, FieldError, PasswordShownPage, UserPasswordPage};
use super::user_new::{chosen_password, password_mode, password_temporary};
use super::users::{find_or_page, user_href};
use crate::admin::users::{
    delete_user, revoke_consents, set_enabled, set_password_of, update_user,
};
use crate::net::RemoteAddr;
use crate::pages::form::field;
use crate::pages::render;
use crate::state::{AppState, SharedState};
use crate::users::ops::UserError;
use crate::users::role::Operation;
use crate::users::{Role, User, UserPatch};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use secrecy::ExposeSecret;

fn back_to(user: &User) -> (String, String) {
    (user_href(user), format!("Back to {}", user.username))
}

/// The page for a change the user service refused (or the database failing).
fn refused(state: &AppState, person: &Person, user: &User, e: &UserError) -> Response {
    let status = match e {
        UserError::Invalid(_) => StatusCode::BAD_REQUEST,
        UserError::NotFound(_) => StatusCode::NOT_FOUND,
        UserError::Exists(_) | UserError::LastAdmin(_) => StatusCode::CONFLICT,
        UserError::Store(_) | UserError::Hash(_) => return render::unavailable(state),
    };
    let (href, text) = back_to(user);
    session::message(
        state,
        Some(person),
        status,
        "Not done",
        &e.to_string(),
        Some((href.as_str(), text.as_str())),
    )
}

/// `GET /admin/users/{user}/{action}`: the confirmation of enable, disable and delete, and the
/// password form.
pub async fn confirm(
    State(state): State<SharedState>,
    headers: HeaderMap,
    remote: RemoteAddr,
    uri: Uri,
    Path((user, action)): Path<(String, String)>,
) -> Response {
    let person = match person_who_may(
        &state,
        &headers,
        remote,
        &uri,
        Operation::UserWrite,
        "changing users",
    )
    .await
    {
        Ok(p) => p,
        Err(r) => return r,
    };
    let user = match find_or_page(&state, &person, &user).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let href = user_href(&user);
    let (title, question, button) = match action.as_str() {
        "enable" => (
            "Enable user",
            format!("Enable {}? They can sign in again.", user.username),
            "Enable",
        ),
        "disable" => (
            "Disable user",
            format!(
                "Disable {}? They can no longer sign in; their sessions end and their refresh tokens are revoked.",
                user.username
            ),
            "Disable",
        ),
        "delete" => (
            "Delete user",
            format!(
                "Delete {} ({})? Their sessions, consents and refresh tokens go with them. This cannot be undone; the username can be given again later, the id never.",
                user.username, user.id
            ),
            "Delete",
        ),
        "password" => {
            let t = UserPasswordPage {
                shell: person.shell(&state, "users"),
                username: user.username.clone(),
                href,
                password_mode: "generate".into(),
                password_temporary: true,
                errors: Vec::new(),
            };
            return render::page(&state, StatusCode::OK, &t);
        }
        _ => {
            return session::message(
                &state,
                Some(&person),
                StatusCode::NOT_FOUND,
                "Not found",
                "There is no such page.",
                Some(("/admin/users", "Back to the users")),
            );
        }
    };
    let t = ConfirmPage {
        shell: person.shell(&state, "users"),
        title,
        question,
        action: format!("{href}/{action}"),
        button,
        cancel: href,
    };
    render::page(&state, StatusCode::OK, &t)
}

/// `POST /admin/users/{user}/{enable|disable|delete|password|role}`.
pub async fn act(
    State(state): State<SharedState>,
    headers: HeaderMap,
    remote: RemoteAddr,
    Path((user, action)): Path<(String, String)>,
    body: Body,
) -> Response {
    let (form, person) = match posted(&state, &headers, remote, body, Operation::UserWrite).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let target = match find_or_page(&state, &person, &user).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let actor = person.actor();
    let (href, back) = back_to(&target);
    match action.as_str() {
        "enable" | "disable" => {
            let enable = action == "enable";
            match set_enabled(&state, &actor, &target.id, enable).await {
                Ok(u) => session::message(
                    &state,
                    Some(&person),
                    StatusCode::OK,
                    if enable {
                        "User enabled"
                    } else {
                        "User disabled"
                    },
                    &if enable {
                        format!("{} can sign in again.", u.username)
                    } else {
                        format!(
                            "{} can no longer sign in; their sessions ended and their refresh tokens were revoked.",
                            u.username
                        )
                    },
                    Some((href.as_str(), back.as_str())),
                ),
                Err(e) => refused(&state, &person, &target, &e),
            }
        }
        "delete" => match delete_user(&state, &actor, &target.id).await {
            Ok(u) => session::message(
                &state,
                Some(&person),
                StatusCode::OK,
                "User deleted",
                &format!("{} ({}) is deleted.", u.username, u.id),
                Some(("/admin/users", "Back to the users")),
            ),
            Err(e) => refused(&state, &person, &target, &e),
        },
        "role" => {
            let role = match field(&form, "role").unwrap_or("") {
                "none" | "" => None,
                r => match Role::parse(r) {
                    Ok(r) => Some(r),
                    Err(e) => {
                        return role_refused(&state, &person, target, e, StatusCode::BAD_REQUEST)
                            .await;
                    }
                },
            };
            let patch = UserPatch {
                role: Some(role),
                ..UserPatch::default()
            };
            match update_user(&state, &actor, &target.id, patch).await {
                Ok(u) => render::see_other(&state, &user_href(&u)),
                Err(e @ UserError::LastAdmin(_)) => {
                    role_refused(&state, &person, target, e.to_string(), StatusCode::CONFLICT).await
                }
                Err(UserError::Invalid(m)) => {
                    role_refused(&state, &person, target, m, StatusCode::BAD_REQUEST).await
                }
                Err(e) => refused(&state, &person, &target, &e),
            }
        }
        "password" => {
            let mut errors = Vec::new();
            let chosen = match chosen_password(&form, &mut errors) {
                Ok(c) => c,
                Err(_) => return render::unavailable(&state),
            };
            let Some((password, generated)) = chosen else {
                let t = UserPasswordPage {
                    shell: person.shell(&state, "users"),
                    username: target.username.clone(),
                    href,
                    password_mode: password_mode(&form),
                    password_temporary: password_temporary(&form),
                    errors,
                };
                return render::page(&state, StatusCode::BAD_REQUEST, &t);
            };
            let temporary = password_temporary(&form);
            match set_password_of(&state, &actor, &target.id, Some(&password), temporary).await {
                Ok(u) if generated => {
                    let t = PasswordShownPage {
                        shell: person.shell(&state, "users"),
                        title: "Password reset",
                        username: u.username,
                        user_href: href,
                        password: password.expose_secret().to_owned(),
                    };
                    super::create::with_own_scripts(
                        &state,
                        render::page(&state, StatusCode::OK, &t),
                    )
                }
                Ok(u) => session::message(
                    &state,
                    Some(&person),
                    StatusCode::OK,
                    "Password reset",
                    &format!(
                        "{} has a new password; their sessions ended and their refresh tokens were revoked.",
                        u.username
                    ),
                    Some((href.as_str(), back.as_str())),
                ),
                Err(e) => refused(&state, &person, &target, &e),
            }
        }
        _ => session::forbidden(&state, Some(&person), "There is no such action."),
    }
}

/// The user's page again, answered with `status`, with `message` next to the role field.
async fn role_refused(
    state: &AppState,
    person: &Person,
    user: User,
    message: String,
    status: StatusCode,
) -> Response {
    let mut errors = Vec::new();
    errors.push(FieldError::new("role", message));
    super::users::page(state, person, user, errors, status).await
}

/// `GET /admin/users/{user}/consents/{client_id}`: the confirmation.
pub async fn confirm_revoke(
    State(state): State<SharedState>,
    headers: HeaderMap,
    remote: RemoteAddr,
    uri: Uri,
    Path((user, client_id)): Path<(String, String)>,
) -> Response {
    let person = match person_who_may(
        &state,
        &headers,
        remote,
        &uri,
        Operation::UserWrite,
        "revoking consents",
    )
    .await
    {
        Ok(p) => p,
        Err(r) => return r,
    };
    let user = match find_or_page(&state, &person, &user).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let href = user_href(&user);
    let t = ConfirmPage {
        shell: person.shell(&state, "users"),
        title: "Revoke a consent",
        question: format!(
            "Withdraw the consent {} gave to {client_id}? The client's refresh tokens for them are revoked, and it asks for consent again next time.",
            user.username
        ),
        action: format!("{href}/consents/{}", super::clients::segment(&client_id)),
        button: "Revoke",
        cancel: href,
    };
    render::page(&state, StatusCode::OK, &t)
}

/// `POST /admin/users/{user}/consents/{client_id}`.
pub async fn revoke(
    State(state): State<SharedState>,
    headers: HeaderMap,
    remote: RemoteAddr,
    Path((user, client_id)): Path<(String, String)>,
    body: Body,
) -> Response {
    let (_, person) = match posted(&state, &headers, remote, body, Operation::UserWrite).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let target = match find_or_page(&state, &person, &user).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let (href, back) = back_to(&target);
    match revoke_consents(&state, &person.actor(), &target.id, Some(&client_id)).await {
        Ok(n) => session::message(
            &state,
            Some(&person),
            StatusCode::OK,
            "Consent revoked",
            &if n == 0 {
                format!("{} had no consent for {client_id}.", target.username)
            } else {
                format!(
                    "{} no longer consents to {client_id}; its refresh tokens for them are revoked.",
                    target.username
                )
            },
            Some((href.as_str(), back.as_str())),
        ),
        Err(e) => refused(&state, &person, &target, &e),
    }
}
