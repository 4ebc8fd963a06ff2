//! The one-time sign-up link for the console's first admin.
//!
//! While no enabled user holds the console role `admin`, every start of the server makes a link
//! `{issuer}/admin/signup/{token}` ([`issue`]) and prints it to the terminal (with JSON logs, in
//! the start-up log event) — never in an HTTP answer. The token is 256 random bits; only its
//! keyed hash is stored (`console_signup_links`), so a lookup by hash is the comparison. A link
//! works for [`LINK_VALID_SECS`] and once; links made by earlier starts (or by other instances
//! sharing the database) stay valid until they expire, and every one of them is refused as soon
//! as an enabled admin exists.
//!
//! `GET /admin/signup/{token}` shows the form (username, name, password twice, with the user
//! service's rules); `POST` creates the user with the role `admin` and uses the link up in one
//! transaction, audited as `user.create` by the actor `signup-link`, then sends the person to
//! sign in. An unknown, expired or used link, or one used after an admin exists, gets 410.

use super::session;
use super::templates::{FieldError, Shell, SignupPage};
use crate::admin::audit::Actor;
use crate::crypto::{CryptoError, ct_eq, random_token};
use crate::model::now;
use crate::net::RemoteAddr;
use crate::pages::form::{field, read};
use crate::pages::render;
use crate::state::{AppState, SharedState};
use crate::store::StoreError;
use crate::store::console_signup::SignupUse;
use crate::users::model::check_text;
use crate::users::ops::{self, UserError};
use crate::users::password::{self, MIN_PASSWORD_CHARS};
use crate::users::{NewUser, Role, Username};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::SecretString;

/// How long a sign-up link works: 15 minutes.
pub const LINK_VALID_SECS: i64 = 15 * 60;

/// The audit actor of a user created through a sign-up link.
pub const ACTOR: &str = "signup-link";

/// Why a sign-up link could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SignupLinkError {
    /// No random token.
    #[error(transparent)]
    Random(#[from] CryptoError),
    /// Not stored.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The keyed hash under which a link's token is stored.
pub fn link_hash(state: &AppState, token: &str) -> Vec<u8> {
    state.keys.hash(&format!("console-signup:{token}"))
}

fn csrf(state: &AppState, token: &str) -> String {
    URL_SAFE_NO_PAD.encode(state.keys.hash(&format!("console-signup-csrf:{token}")))
}

/// Makes and stores a new sign-up link valid for [`LINK_VALID_SECS`]; returns its address (a
/// secret: it is printed to the terminal only).
pub async fn issue(state: &AppState) -> Result<SecretString, SignupLinkError> {
    let token = random_token("")?;
    let t = now();
    state
        .store
        .insert_signup_link(&link_hash(state, &token), t, t + LINK_VALID_SECS)
        .await?;
    Ok(SecretString::from(format!(
        "{}/admin/signup/{token}",
        state.issuer
    )))
}

/// Deletes expired links (housekeeping); a failure is logged.
pub async fn purge(state: &AppState) {
    match state.store.purge_signup_links(now()).await {
        Ok(n) if n > 0 => tracing::debug!(rows = n, "purged expired console sign-up links"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "could not purge expired console sign-up links"),
    }
}

/// The page for a link that cannot be used.
fn gone(state: &AppState) -> Response {
    session::message(
        state,
        None,
        StatusCode::GONE,
        "This sign-up link cannot be used",
        "It has expired, it was used already, or the console has an admin now. Sign in to the console; while it has no admin, each start of the server prints a new link (or run: tessera user create YOUR_NAME --role admin).",
        Some(("/admin/", "To the console")),
    )
}

/// Whether `token` can be a link's token at all (a quick refusal of anything else).
fn plausible(token: &str) -> bool {
    token.len() == 43
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

async fn usable(state: &AppState, token: &str) -> Result<bool, StoreError> {
    if !plausible(token) {
        return Ok(false);
    }
    state
        .store
        .signup_link_usable(&link_hash(state, token), now())
        .await
}

fn form_page(
    state: &AppState,
    token: &str,
    username: String,
    display_name: String,
    errors: Vec<FieldError>,
) -> Response {
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let t = SignupPage {
        shell: Shell::signed_out(state),
        action: format!("/admin/signup/{token}"),
        csrf: csrf(state, token),
        username,
        display_name,
        errors,
        min_password: MIN_PASSWORD_CHARS,
    };
    render::page(state, status, &t)
}

/// `GET /admin/signup/{token}`.
pub async fn show(State(state): State<SharedState>, Path(token): Path<String>) -> Response {
    match usable(&state, &token).await {
        Ok(true) => form_page(&state, &token, String::new(), String::new(), Vec::new()),
        Ok(false) => gone(&state),
        Err(_) => render::unavailable(&state),
    }
}

/// `POST /admin/signup/{token}`.
pub async fn submit(
    State(state): State<SharedState>,
    headers: HeaderMap,
    remote: RemoteAddr,
    Path(token): Path<String>,
    body: Body,
) -> Response {
    let form = match read(&state, &headers, body).await {
        Ok(f) => f,
        Err(page) => return page,
    };
    match usable(&state, &token).await {
        Ok(true) => {}
        Ok(false) => return gone(&state),
        Err(_) => return render::unavailable(&state),
    }
    let csrf_ok =
        field(&form, "csrf").is_some_and(|c| ct_eq(c.as_bytes(), csrf(&state, &token).as_bytes()));
    if !csrf_ok {
        return session::forbidden(
            &state,
            None,
            "This form was not sent from the sign-up page (CSRF token missing or wrong).",
        );
    }
    let typed_name = field(&form, "username").unwrap_or("").trim().to_owned();
    let display_name = field(&form, "display_name").unwrap_or("").trim().to_owned();
    let typed_password = field(&form, "password").unwrap_or("");
    let mut errors = Vec::new();
    let username = match Username::parse(&typed_name) {
        Ok(u) => Some(u),
        Err(e) => {
            errors.push(FieldError::new("username", e));
            None
        }
    };
    if let Err(e) = check_text("display_name", &display_name) {
        errors.push(FieldError::new("display_name", e));
    }
    if let Err(e) = password::check_new(typed_password) {
        errors.push(FieldError::new("password", e.to_string()));
    } else if field(&form, "password_again") != Some(typed_password) {
        errors.push(FieldError::new(
            "password_again",
            "The two passwords differ.",
        ));
    }
    let (Some(username), true) = (username, errors.is_empty()) else {
        return form_page(&state, &token, typed_name, display_name, errors);
    };
    let new = NewUser {
        username,
        password: Some(SecretString::from(typed_password.to_owned())),
        password_temporary: false,
        email: String::new(),
        email_verified: false,
        display_name: display_name.clone(),
        enabled: None,
        role: Some(Role::Admin),
    };
    let user = match ops::prepare(new).await {
        Ok(u) => u,
        Err(UserError::Invalid(m)) => {
            errors.push(FieldError::new("", m));
            return form_page(&state, &token, typed_name, display_name, errors);
        }
        Err(_) => return render::unavailable(&state),
    };
    match state
        .store
        .create_user_with_signup_link(&link_hash(&state, &token), now(), &user)
        .await
    {
        Ok(SignupUse::Created) => {}
        Ok(SignupUse::Refused) => return gone(&state),
        Err(StoreError::Conflict) => {
            errors.push(FieldError::new(
                "username",
                UserError::Exists(user.username).to_string(),
            ));
            return form_page(&state, &token, typed_name, display_name, errors);
        }
        Err(_) => return render::unavailable(&state),
    }
    let actor = Actor {
        id: ACTOR.into(),
        remote_addr: Some(remote.0.to_string()),
    };
    crate::admin::users::audited(&state, &actor, "user.create", None, Some(&user)).await;
    tracing::info!(username = %user.username, "the console's first admin was created with the sign-up link");
    session::message(
        &state,
        None,
        StatusCode::OK,
        "Admin created",
        &format!(
            "{} is an admin of the console now. Sign in with the password you chose.",
            user.username
        ),
        Some(("/admin/login", "Sign in")),
    )
}
