//! Console sessions: a cookie of 256 random bits, `tessera_console`, `Path=/admin`, `HttpOnly`,
//! `SameSite=Strict`, `Secure` under an `https` issuer; stored only as its keyed hash in
//! `console_sessions`. A session ends after `console.idle_timeout_secs` without a request and
//! `console.absolute_timeout_secs` after sign-in, at sign-out, and when its person is disabled,
//! loses their password or is deleted. The person's role is read at every request, so a change
//! of role takes effect at once.
//!
//! Every console form carries a CSRF token, the HMAC of the cookie value under the server's
//! pepper; a POST without the matching token is answered 403 and changes nothing.

use super::templates::{ConsoleMessage, Shell};
use crate::admin::audit::Actor;
use crate::crypto::{ct_eq, random_token};
use crate::model::now;
use crate::pages::browser::read_cookie;
use crate::pages::render;
use crate::state::AppState;
use crate::store::StoreError;
use crate::users::role::Operation;
use crate::users::{Role, User};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The console session cookie.
pub const COOKIE: &str = "tessera_console";

/// The cookie that carries a sign-in in progress (its `state` and PKCE verifier derive from it).
pub const AUTH_COOKIE: &str = "tessera_console_auth";

/// A person signed in to the console, with a console role.
pub struct Person {
    /// The user (enabled).
    pub user: User,
    /// Their console role, as it is now.
    pub role: Role,
    /// The caller's address.
    pub remote_addr: Option<String>,
    cookie: String,
}

impl std::fmt::Debug for Person {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Person")
            .field("user", &self.user.username)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

impl Person {
    /// The CSRF token of this session's forms.
    pub fn csrf(&self, state: &AppState) -> String {
        csrf_for(state, &self.cookie)
    }

    /// Whether `presented` is this session's CSRF token.
    pub fn csrf_ok(&self, state: &AppState, presented: Option<&str>) -> bool {
        presented.is_some_and(|p| ct_eq(self.csrf(state).as_bytes(), p.as_bytes()))
    }

    /// The person as the audit log names them: `user:<username>`.
    pub fn actor(&self) -> Actor {
        Actor {
            id: format!("user:{}", self.user.username),
            remote_addr: self.remote_addr.clone(),
        }
    }

    /// Whether the person's role allows `op`.
    pub fn may(&self, op: Operation) -> bool {
        self.role.may(op)
    }

    /// `None` when the person's role allows `op`; otherwise the 403 page saying that the role
    /// does not allow `doing` (such as "rotating keys").
    pub fn refused(&self, state: &AppState, op: Operation, doing: &str) -> Option<Response> {
        (!self.may(op)).then(|| {
            forbidden(
                state,
                Some(self),
                &format!("Your console role ({}) does not allow {doing}.", self.role),
            )
        })
    }

    /// The page frame for this person: name, role, navigation, sign-out form.
    pub fn shell(&self, state: &AppState, current: &'static str) -> Shell {
        Shell {
            chrome: render::chrome(state),
            person: Some((self.user.shown_name().to_owned(), self.role.as_str())),
            csrf: self.csrf(state),
            current,
        }
    }
}

fn csrf_for(state: &AppState, cookie: &str) -> String {
    URL_SAFE_NO_PAD.encode(state.keys.hash(&format!("console-csrf:{cookie}")))
}

fn session_hash(state: &AppState, cookie: &str) -> Vec<u8> {
    state.keys.hash(&format!("console-session:{cookie}"))
}

/// Why nobody is signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoPerson {
    /// No cookie, or a session that ended (idle, absolute, signed out).
    SignedOut,
    /// The user behind the session is disabled or has no console role (any more).
    NoRole,
}

/// The person signed in to the console by the request's cookie.
pub async fn load(
    state: &AppState,
    headers: &HeaderMap,
    remote_addr: Option<String>,
) -> Result<Result<Person, NoPerson>, StoreError> {
    let Some(cookie) = read_cookie(headers, COOKIE) else {
        return Ok(Err(NoPerson::SignedOut));
    };
    let t = now();
    let idle = state.config.console.idle_timeout_secs as i64;
    let Some(row) = state
        .store
        .touch_console_session(&session_hash(state, &cookie), t, t - idle)
        .await?
    else {
        return Ok(Err(NoPerson::SignedOut));
    };
    let Some(user) = state.store.get_user(&row.user_id).await? else {
        return Ok(Err(NoPerson::SignedOut));
    };
    match user.role {
        Some(role) if user.enabled => Ok(Ok(Person {
            user,
            role,
            remote_addr,
            cookie,
        })),
        _ => Ok(Err(NoPerson::NoRole)),
    }
}

/// Starts a session for `user_id`; returns the cookie value.
pub async fn start(state: &AppState, user_id: &str) -> Result<String, StoreError> {
    let cookie = random_token("").map_err(|e| StoreError::Unavailable(e.to_string()))?;
    let t = now();
    state
        .store
        .insert_console_session(
            &session_hash(state, &cookie),
            user_id,
            t,
            t + state.config.console.absolute_timeout_secs as i64,
        )
        .await?;
    Ok(cookie)
}

/// Ends the session of the request's cookie, if any.
pub async fn end(state: &AppState, headers: &HeaderMap) -> Result<(), StoreError> {
    if let Some(cookie) = read_cookie(headers, COOKIE) {
        state
            .store
            .delete_console_session(&session_hash(state, &cookie))
            .await?;
    }
    Ok(())
}

/// Deletes ended sessions (housekeeping); a failure is logged.
pub async fn purge(state: &AppState) {
    let t = now();
    let idle = state.config.console.idle_timeout_secs as i64;
    match state.store.purge_console_sessions(t, t - idle).await {
        Ok(n) if n > 0 => tracing::debug!(rows = n, "purged ended console sessions"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "could not purge ended console sessions"),
    }
}

/// A `Set-Cookie` value for a console cookie: `value` for `max_age` seconds, or removal.
pub fn cookie_header(
    state: &AppState,
    name: &str,
    value: Option<&str>,
    max_age: u64,
    same_site: &str,
) -> Option<HeaderValue> {
    let mut c = match value {
        Some(v) => {
            format!("{name}={v}; Path=/admin; HttpOnly; SameSite={same_site}; Max-Age={max_age}")
        }
        None => format!("{name}=; Path=/admin; HttpOnly; SameSite={same_site}; Max-Age=0"),
    };
    if state.issuer.starts_with("https://") {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).ok()
}

/// Adds a `Set-Cookie` to `resp`.
pub fn with_cookie(mut resp: Response, cookie: Option<HeaderValue>) -> Response {
    if let Some(c) = cookie {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    resp
}

/// A console message page: `status`, a title and a sentence, with an optional link.
pub fn message(
    state: &AppState,
    person: Option<&Person>,
    status: StatusCode,
    title: &str,
    text: &str,
    link: Option<(&str, &str)>,
) -> Response {
    let shell = match person {
        Some(p) => p.shell(state, ""),
        None => Shell::signed_out(state),
    };
    let t = ConsoleMessage {
        shell,
        title: title.to_owned(),
        text: text.to_owned(),
        is_error: status.is_client_error() || status.is_server_error(),
        link: link.map(|(a, b)| (a.to_owned(), b.to_owned())),
    };
    render::page(state, status, &t)
}

/// The 403 page for a change the person's role does not allow, or a form without the session's
/// CSRF token.
pub fn forbidden(state: &AppState, person: Option<&Person>, why: &str) -> Response {
    message(
        state,
        person,
        StatusCode::FORBIDDEN,
        "Not allowed",
        why,
        Some(("/admin/", "Back to the console")),
    )
}

/// The page for a request that cannot be answered because the database is unreachable.
pub fn unavailable(state: &AppState) -> Response {
    render::unavailable(state)
}
