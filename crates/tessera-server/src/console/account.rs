//! A signed-in person's own account: `GET /admin/account/password` is the form where they change
//! their password (any console role), `POST` changes it.
//!
//! The current password is checked first, and a wrong one counts as a failed sign-in of that
//! username from that address ([`crate::users::limits`]): the form is no way around the sign-in
//! page's limits. The new password follows the rules of every password
//! ([`password::check_new`]), is typed twice and differs from the current one. It is set through
//! the admin API's code ([`set_password_of`], audited `user.set_password` under the person's name),
//! which ends every session of theirs (this one too) and revokes their refresh tokens; the answer
//! says so and links to the sign-in.

use super::clients::{person_for_page, signed_in_post};
use super::session::{self, COOKIE, Person};
use super::templates::{AccountPasswordPage, FieldError};
use crate::admin::users::set_password_of;
use crate::model::{AuditEvent, now};
use crate::net::RemoteAddr;
use crate::pages::form::field;
use crate::pages::render;
use crate::state::{AppState, SharedState};
use crate::users::ops::UserError;
use crate::users::password::{self, MIN_PASSWORD_CHARS};
use axum::body::Body;
use axum::extract::State;
use axum::http::Uri;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use secrecy::SecretString;

/// Where the form is.
pub const PASSWORD_PATH: &str = "/admin/account/password";

fn form_page(
    state: &AppState,
    person: &Person,
    status: StatusCode,
    errors: Vec<FieldError>,
) -> Response {
    let page = AccountPasswordPage {
        shell: person.shell(state, "account"),
        username: person.user.username.clone(),
        min_password: MIN_PASSWORD_CHARS,
        errors,
    };
    render::page(state, status, &page)
}

/// The 429 page while the person's username and address are blocked from guessing.
fn too_many(state: &AppState, person: &Person, wait: u64) -> Response {
    let resp = session::message(
        state,
        Some(person),
        StatusCode::TOO_MANY_REQUESTS,
        "Too many attempts",
        &format!("Too many wrong passwords. Please wait {wait} seconds and try again."),
        Some((PASSWORD_PATH, "Back to the form")),
    );
    render::with_retry_after(resp, wait)
}

/// `GET /admin/account/password`.
pub async fn show(
    State(state): State<SharedState>,
    headers: HeaderMap,
    remote: RemoteAddr,
    uri: Uri,
) -> Response {
    match person_for_page(&state, &headers, remote, &uri).await {
        Ok(person) => form_page(&state, &person, StatusCode::OK, Vec::new()),
        Err(page) => page,
    }
}

/// `POST /admin/account/password`: `current_password`, `password`, `password_again`.
pub async fn change(
    State(state): State<SharedState>,
    headers: HeaderMap,
    remote: RemoteAddr,
    body: Body,
) -> Response {
    let form = match crate::pages::form::read(&state, &headers, body).await {
        Ok(f) => f,
        Err(page) => return page,
    };
    let person = match signed_in_post(&state, &headers, remote, &form).await {
        Ok(p) => p,
        Err(page) => return page,
    };
    let guess_key = person.user.username.to_lowercase();
    if let Some(wait) = state.guesses.login_blocked(&guess_key, remote.0) {
        return too_many(&state, &person, wait);
    }
    let current = field(&form, "current_password").unwrap_or("");
    let new = field(&form, "password").unwrap_or("");
    let mut errors = Vec::new();
    if !password::verify(current, person.user.password_hash.as_deref()).await {
        state.audit(AuditEvent {
            id: 0,
            at: now(),
            actor: person.actor().id,
            action: "user.password_change_failed".into(),
            target: person.user.id.clone(),
            before: None,
            after: None,
            remote_addr: person.remote_addr.clone(),
        });
        if let Some(wait) = state.guesses.login_failed(&guess_key, remote.0) {
            return too_many(&state, &person, wait);
        }
        errors.push(FieldError::new(
            "current_password",
            "This is not your current password.",
        ));
    }
    if let Err(e) = password::check_new(new) {
        errors.push(FieldError::new("password", e.to_string()));
    } else if field(&form, "password_again") != Some(new) {
        errors.push(FieldError::new(
            "password_again",
            "The two new passwords differ.",
        ));
    } else if errors.is_empty() && new == current {
        errors.push(FieldError::new(
            "password",
            "The new password is the same as the current one.",
        ));
    }
    if !errors.is_empty() {
        return form_page(&state, &person, StatusCode::BAD_REQUEST, errors);
    }
    let new = SecretString::from(new.to_owned());
    match set_password_of(&state, &person.actor(), &person.user.id, Some(&new), false).await {
        Ok(_) => {}
        Err(e @ (UserError::Invalid(_) | UserError::NotFound(_))) => {
            return form_page(
                &state,
                &person,
                StatusCode::BAD_REQUEST,
                vec![FieldError::new("", e.to_string())],
            );
        }
        Err(_) => return render::unavailable(&state),
    }
    tracing::info!(user_id = %person.user.id, "password changed by its owner");
    let resp = session::message(
        &state,
        None,
        StatusCode::OK,
        "Password changed",
        "Your password is changed. Every session of yours has ended, here and in other browsers, \
         and your refresh tokens are revoked: sign in with the new password.",
        Some(("/admin/login", "Sign in")),
    );
    session::with_cookie(
        resp,
        session::cookie_header(&state, COOKIE, None, 0, "Strict"),
    )
}
