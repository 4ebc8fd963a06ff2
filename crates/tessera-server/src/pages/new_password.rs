//! The password a user chooses at sign-in when theirs is temporary (set by an administrator with
//! `temporary`, or generated in the console): `POST /login` with the right temporary password
//! answers with this form instead of signing in, and `POST /login/password` sets the new password
//! (the same rules as every password, typed twice, not the temporary one again), then signs in.
//!
//! The form carries a ticket: an expiry [`TICKET_SECS`] ahead and the keyed hash of the user id,
//! that expiry and when the password was last set. It shows that the temporary password was typed,
//! and it works once: setting the password changes that time.

use super::browser::Browser;
use super::form::field;
use super::login::{complete_sign_in, login_url, read_sign_in_post};
use super::render::{self, chrome};
use super::templates::NewPasswordPage;
use crate::admin::audit::Actor;
use crate::admin::users::set_password_of;
use crate::model::now;
use crate::net::RemoteAddr;
use crate::state::{AppState, SharedState};
use crate::users::{User, password};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::SecretString;

/// How long the form works after the temporary password was typed, in seconds.
pub const TICKET_SECS: i64 = 600;

/// What the ticket's hash covers.
fn ticket_text(user: &User, expires: i64) -> String {
    format!(
        "new-password-ticket:{}:{}:{expires}",
        user.id,
        user.password_changed_at.unwrap_or(0)
    )
}

/// A ticket for `user`, valid until `expires`.
fn ticket(state: &AppState, user: &User, expires: i64) -> String {
    let mac = state.keys.hash(&ticket_text(user, expires));
    format!("{expires}.{}", URL_SAFE_NO_PAD.encode(mac))
}

/// Whether `presented` is a ticket for `user` that has not expired at `t`.
fn ticket_ok(state: &AppState, user: &User, presented: &str, t: i64) -> bool {
    let Some((expires, mac)) = presented.split_once('.') else {
        return false;
    };
    let (Ok(expires), Ok(mac)) = (expires.parse::<i64>(), URL_SAFE_NO_PAD.decode(mac)) else {
        return false;
    };
    expires > t
        && expires <= t + TICKET_SECS
        && state.keys.verify_hash(&ticket_text(user, expires), &mac)
}

/// The form for `user`, with a new ticket, and `error` from the last attempt.
pub fn form_page(
    state: &AppState,
    browser: &Browser,
    status: StatusCode,
    return_to: &str,
    user: &User,
    error: Option<String>,
) -> Response {
    let t = NewPasswordPage {
        chrome: chrome(state),
        title: "Choose a new password",
        error,
        csrf: browser.csrf(state),
        return_to: return_to.to_owned(),
        user_id: user.id.clone(),
        username: user.username.clone(),
        ticket: ticket(state, user, now() + TICKET_SECS),
        min_password: password::MIN_PASSWORD_CHARS,
    };
    browser.finish(state, render::page(state, status, &t))
}

/// The answer to a form that is no longer good (expired, used, or for a password that is no
/// longer temporary): sign in again.
fn expired(state: &AppState, browser: &Browser, return_to: &str) -> Response {
    let again = login_url(return_to);
    browser.finish(
        state,
        render::message(
            state,
            StatusCode::BAD_REQUEST,
            "Please sign in again",
            "This form has expired or was already used.",
            Some((again.as_str(), "Sign in")),
        ),
    )
}

/// `POST /login/password`: `csrf`, `return_to`, `user`, `ticket`, `password`, `password_again`.
pub async fn submit(
    State(state): State<SharedState>,
    RemoteAddr(remote): RemoteAddr,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let (form, browser, return_to) = match read_sign_in_post(&state, &headers, body).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    if !browser.csrf_ok(&state, field(&form, "csrf")) {
        return expired(&state, &browser, &return_to);
    }
    let user = match state
        .store
        .get_user(field(&form, "user").unwrap_or(""))
        .await
    {
        Ok(u) => u,
        Err(e) => {
            tracing::warn!(error = %e, "could not read the user");
            return render::unavailable(&state);
        }
    };
    let presented = field(&form, "ticket").unwrap_or("");
    let Some(user) = user
        .filter(|u| u.enabled && u.password_temporary && ticket_ok(&state, u, presented, now()))
    else {
        return expired(&state, &browser, &return_to);
    };
    let new = field(&form, "password").unwrap_or("");
    let refusal = if let Err(e) = password::check_new(new) {
        Some(format!("The new password is not usable: {e}."))
    } else if field(&form, "password_again") != Some(new) {
        Some("The two passwords differ.".to_owned())
    } else if password::verify(new, user.password_hash.as_deref()).await {
        Some("Choose a password other than the one you were given.".to_owned())
    } else {
        None
    };
    if let Some(error) = refusal {
        return form_page(
            &state,
            &browser,
            StatusCode::BAD_REQUEST,
            &return_to,
            &user,
            Some(error),
        );
    }
    let address = remote.to_string();
    let actor = Actor {
        id: format!("user:{}", user.username),
        remote_addr: Some(address.clone()),
    };
    let new = SecretString::from(new.to_owned());
    let user = match set_password_of(&state, &actor, &user.id, Some(&new), false).await {
        Ok(u) => u,
        Err(e) => {
            tracing::warn!(error = %e, "could not set the new password");
            return render::unavailable(&state);
        }
    };
    tracing::info!(user_id = %user.id, "temporary password replaced at sign-in");
    complete_sign_in(&state, browser, user, &return_to, address).await
}
