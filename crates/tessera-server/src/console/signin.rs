//! Signing in to the console with Tessera's own authorization code flow with PKCE, and out.
//!
//! `GET /admin/login` sets a short-lived cookie of 256 random bits from which the request's
//! `state` and PKCE `code_verifier` are derived (HMACs under the server's pepper: nothing is
//! stored), and sends the browser to `/oauth2/authorize` as the console's client. The
//! authorization endpoint signs the person in (the usual sign-in page) and, the console being
//! first-party, asks no consent. `GET /admin/callback` checks `state` and `iss` (RFC 9207),
//! exchanges the code through the authorization code grant itself, reads who signed in from the
//! access token, and starts a console session for a person with a console role.
//! `POST /admin/logout` ends the console session and the sign-in session of the pages.
//!
//! `GET /admin/login?return_to=/admin/…` comes back to that console page after signing in
//! instead of the overview (kept meanwhile, base64url-encoded, in the cookie
//! `tessera_console_return`; only a path under `/admin/` is taken, when it is set and again when
//! it is read, so it cannot send anybody elsewhere).

use super::client::{self, CLIENT_ID};
use super::session::{self, AUTH_COOKIE, COOKIE, NoPerson};
use crate::crypto::{ct_eq, random_token};
use crate::model::{AuditEvent, now};
use crate::net::RemoteAddr;
use crate::oauth::grants::authorization_code;
use crate::own_tokens;
use crate::pages::browser::{Browser, read_cookie};
use crate::pages::form::{field, read};
use crate::pages::render;
use crate::state::{AppState, SharedState};
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use tessera_proto::FormParams;

/// Seconds a sign-in may take from `/admin/login` back to `/admin/callback`.
const SIGN_IN_WINDOW_SECS: u64 = 600;

fn derived(state: &AppState, purpose: &str, v: &str) -> String {
    URL_SAFE_NO_PAD.encode(state.keys.hash(&format!("console-{purpose}:{v}")))
}

/// The cookie that carries where to go after signing in.
const RETURN_COOKIE: &str = "tessera_console_return";

/// `path` when it is a console page to come back to: under `/admin/`, on this server, made of
/// the characters a path and query may hold as they are.
fn return_path(path: &str) -> Option<&str> {
    let ok = path.starts_with("/admin/")
        && path.len() <= 512
        && !path.contains("//")
        && !path.contains("/../")
        && path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/-._~%!$&'()*+=:@?".contains(&b));
    ok.then_some(path)
}

/// The console's sign-in address, coming back to `page` when it is a console page to come back
/// to ([`return_path`]).
pub fn login_url(page: &str) -> String {
    match return_path(page) {
        Some(p) => format!(
            "/admin/login?{}",
            tessera_proto::form::encode([("return_to", p)])
        ),
        None => "/admin/login".to_owned(),
    }
}

/// The console page the request's `tessera_console_return` cookie names, if it is one.
fn returning_to(headers: &HeaderMap) -> Option<String> {
    let value = headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == RETURN_COOKIE)
        .map(|(_, v)| v)?;
    let bytes = URL_SAFE_NO_PAD.decode(value).ok()?;
    let path = String::from_utf8(bytes).ok()?;
    return_path(&path).map(str::to_owned)
}

/// `GET /admin/login[?return_to=/admin/…]`: starts the authorization code flow.
pub async fn start(State(state): State<SharedState>, RawQuery(query): RawQuery) -> Response {
    let q = match FormParams::parse(query.unwrap_or_default().as_bytes()) {
        Ok(q) => q,
        Err(e) => return crate::pages::form::unreadable_query(&state, &e),
    };
    let return_to = field(&q, "return_to").and_then(return_path);
    if let Err(e) = client::ensure(&state).await {
        tracing::warn!(error = %e, "could not register the console's client");
        return render::unavailable(&state);
    }
    let Ok(v) = random_token("") else {
        return render::unavailable(&state);
    };
    let verifier = derived(&state, "pkce", &v);
    let query = tessera_proto::form::encode([
        ("response_type", "code"),
        ("client_id", CLIENT_ID),
        ("redirect_uri", &client::redirect_uri(&state)),
        ("scope", "openid"),
        ("state", &derived(&state, "state", &v)),
        ("code_challenge", &crate::oauth::pkce::s256(&verifier)),
        ("code_challenge_method", "S256"),
    ]);
    // Lax, not Strict: the browser comes back to the callback by a redirect from the
    // authorization endpoint, at the end of a navigation that may have started elsewhere.
    let cookie = session::cookie_header(&state, AUTH_COOKIE, Some(&v), SIGN_IN_WINDOW_SECS, "Lax");
    let back = match return_to {
        Some(p) => session::cookie_header(
            &state,
            RETURN_COOKIE,
            Some(&URL_SAFE_NO_PAD.encode(p)),
            SIGN_IN_WINDOW_SECS,
            "Lax",
        ),
        None => session::cookie_header(&state, RETURN_COOKIE, None, 0, "Lax"),
    };
    session::with_cookie(
        session::with_cookie(
            render::see_other(&state, &format!("/oauth2/authorize?{query}")),
            cookie,
        ),
        back,
    )
}

fn failed(state: &AppState, status: StatusCode, text: &str) -> Response {
    let clear = session::cookie_header(state, AUTH_COOKIE, None, 0, "Lax");
    session::with_cookie(
        session::message(
            state,
            None,
            status,
            "Sign-in failed",
            text,
            Some(("/admin/login", "Sign in again")),
        ),
        clear,
    )
}

/// `GET /admin/callback?code=…&state=…&iss=…` (or `error=…`).
pub async fn callback(
    State(state): State<SharedState>,
    headers: HeaderMap,
    remote: RemoteAddr,
    RawQuery(query): RawQuery,
) -> Response {
    let q = match FormParams::parse(query.unwrap_or_default().as_bytes()) {
        Ok(q) => q,
        Err(e) => return crate::pages::form::unreadable_query(&state, &e),
    };
    let Some(v) = read_cookie(&headers, AUTH_COOKIE) else {
        return failed(
            &state,
            StatusCode::BAD_REQUEST,
            "This sign-in was not started here or took too long. Please sign in again.",
        );
    };
    let state_ok = field(&q, "state")
        .is_some_and(|s| ct_eq(s.as_bytes(), derived(&state, "state", &v).as_bytes()));
    if !state_ok {
        return failed(
            &state,
            StatusCode::BAD_REQUEST,
            "The answer of the sign-in does not belong to this browser's sign-in (state mismatch).",
        );
    }
    if field(&q, "iss") != Some(state.issuer.as_str()) {
        return failed(
            &state,
            StatusCode::BAD_REQUEST,
            "The answer of the sign-in does not come from this server (iss mismatch).",
        );
    }
    if let Some(error) = field(&q, "error") {
        let description = field(&q, "error_description").unwrap_or("");
        return failed(
            &state,
            StatusCode::FORBIDDEN,
            &format!("The sign-in was refused ({error}): {description}"),
        );
    }
    let Some(code) = field(&q, "code") else {
        return failed(
            &state,
            StatusCode::BAD_REQUEST,
            "The answer of the sign-in has no code.",
        );
    };
    let Some(console) = state.registry.client(CLIENT_ID) else {
        return failed(
            &state,
            StatusCode::SERVICE_UNAVAILABLE,
            "The console's client registration is missing; restart the server to restore it.",
        );
    };
    let form = tessera_proto::form::encode([
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", &client::redirect_uri(&state)),
        ("code_verifier", &derived(&state, "pkce", &v)),
    ]);
    let Ok(form) = FormParams::parse(form.as_bytes()) else {
        return failed(
            &state,
            StatusCode::BAD_REQUEST,
            "The code could not be read.",
        );
    };
    let tokens = match authorization_code::handle(&state, &console, &form).await {
        Ok(t) => t,
        Err(e) => {
            return failed(
                &state,
                e.status,
                &format!("The code could not be exchanged: {}", e.description),
            );
        }
    };
    let user_id = match own_tokens::lookup(&state, &tokens.access_token).await {
        Ok(Some(t)) => t
            .claims
            .get("sub")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned),
        Ok(None) => None,
        Err(_) => return render::unavailable(&state),
    };
    let Some(user_id) = user_id else {
        return failed(
            &state,
            StatusCode::INTERNAL_SERVER_ERROR,
            "The console could not tell who signed in.",
        );
    };
    let user = match state.store.get_user(&user_id).await {
        Ok(Some(u)) if u.enabled => u,
        Ok(_) => {
            return failed(&state, StatusCode::FORBIDDEN, "This account is disabled.");
        }
        Err(_) => return render::unavailable(&state),
    };
    let Some(role) = user.role else {
        return failed(
            &state,
            StatusCode::FORBIDDEN,
            &format!(
                "The account {} has no console role. An administrator gives one with: tessera user update {} --role viewer",
                user.username, user.username
            ),
        );
    };
    let cookie = match session::start(&state, &user.id).await {
        Ok(c) => c,
        Err(_) => return render::unavailable(&state),
    };
    state
        .audit_now(AuditEvent {
            id: 0,
            at: now(),
            actor: format!("user:{}", user.username),
            action: "console.sign_in".into(),
            target: user.id.clone(),
            before: None,
            after: Some(serde_json::json!({ "role": role })),
            remote_addr: Some(remote.0.to_string()),
        })
        .await;
    let absolute = state.config.console.absolute_timeout_secs;
    let back = returning_to(&headers);
    let resp = render::see_other(&state, back.as_deref().unwrap_or("/admin/"));
    let resp = session::with_cookie(
        resp,
        session::cookie_header(&state, RETURN_COOKIE, None, 0, "Lax"),
    );
    let resp = session::with_cookie(
        resp,
        session::cookie_header(&state, COOKIE, Some(&cookie), absolute, "Strict"),
    );
    session::with_cookie(
        resp,
        session::cookie_header(&state, AUTH_COOKIE, None, 0, "Lax"),
    )
}

/// `POST /admin/logout`: ends the console session (and the pages' sign-in session, so that
/// signing in again asks for the password).
pub async fn logout(
    State(state): State<SharedState>,
    headers: HeaderMap,
    remote: RemoteAddr,
    body: Body,
) -> Response {
    let form = match read(&state, &headers, body).await {
        Ok(f) => f,
        Err(page) => return page,
    };
    let person = match session::load(&state, &headers, Some(remote.0.to_string())).await {
        Ok(p) => p,
        Err(_) => return render::unavailable(&state),
    };
    let person = match person {
        Ok(p) => p,
        Err(NoPerson::SignedOut | NoPerson::NoRole) => {
            return session::forbidden(&state, None, "Your console session has ended.");
        }
    };
    if !person.csrf_ok(&state, field(&form, "csrf")) {
        return session::forbidden(
            &state,
            Some(&person),
            "This form was not sent from this console session (CSRF token missing or wrong).",
        );
    }
    if session::end(&state, &headers).await.is_err() {
        return render::unavailable(&state);
    }
    let mut browser = match Browser::load(&state, &headers).await {
        Ok(b) => b,
        Err(_) => return render::unavailable(&state),
    };
    if browser.signed_in.is_some() && browser.sign_out(&state).await.is_err() {
        return render::unavailable(&state);
    }
    state
        .audit_now(AuditEvent {
            id: 0,
            at: now(),
            actor: person.actor().id,
            action: "console.sign_out".into(),
            target: person.user.id.clone(),
            before: None,
            after: None,
            remote_addr: person.remote_addr.clone(),
        })
        .await;
    let resp = render::see_other(&state, "/admin/?signed_out=1");
    let resp = session::with_cookie(
        resp,
        session::cookie_header(&state, COOKIE, None, 0, "Strict"),
    );
    browser.finish(&state, resp)
}

#[cfg(test)]
mod tests {
    use super::return_path;

    #[test]
    fn only_console_pages_are_returned_to() {
        assert_eq!(return_path("/admin/scopes"), Some("/admin/scopes"));
        assert_eq!(
            return_path("/admin/scopes?q=core"),
            Some("/admin/scopes?q=core")
        );
        for bad in [
            "https://evil.example/admin/",
            "//evil.example/admin/",
            "/admin//evil.example",
            "/admin/../login",
            "/adminx",
            "/admin/a b",
            "/admin/\\evil",
            "/admin/\r\nSet-Cookie:x",
        ] {
            assert_eq!(return_path(bad), None, "{bad}");
        }
    }
}
