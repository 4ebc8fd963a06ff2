//! The authorization endpoint, `GET`/`POST /oauth2/authorize` (RFC 6749 §4.1.1, OpenID Connect
//! Core §3.1.2): checks the request, makes sure the person is signed in recently enough
//! (`prompt=login`, `max_age`), asks for consent unless a remembered one covers the scopes
//! (`prompt=consent` forces the question, `prompt=none` forbids any page), and sends an
//! authorization code back with `state` and `iss` (RFC 9207).

pub mod consent;
pub mod redirect_uri;
pub mod request;

use crate::crypto::random_token;
use crate::model::now;
use crate::pages::browser::{Browser, SignedIn};
use crate::pages::login::login_url;
use crate::pages::render;
use crate::state::{AppState, SharedState};
use crate::store::grants::CodeRecord;
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use request::{AuthorizationRequest, RequestError};
use tessera_proto::{ErrorCode, ScopeSet};

/// Prefix of authorization codes, so leak scanners can find them.
pub const CODE_PREFIX: &str = "tac_";

/// `GET /oauth2/authorize`.
pub async fn authorize_get(
    State(state): State<SharedState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    handle(&state, &headers, query.unwrap_or_default()).await
}

/// `POST /oauth2/authorize` (form-encoded, OpenID Connect Core §3.1.2.1).
pub async fn authorize_post(
    State(state): State<SharedState>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let bytes = match axum::body::to_bytes(body, state.config.http.max_body_bytes).await {
        Ok(b) => b,
        Err(_) => {
            return render::message(
                &state,
                StatusCode::PAYLOAD_TOO_LARGE,
                "Something went wrong",
                "The request is too large.",
                None,
            );
        }
    };
    handle(
        &state,
        &headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
    .await
}

async fn handle(state: &AppState, headers: &HeaderMap, query: String) -> Response {
    let req = match request::parse(state, &query) {
        Ok(r) => r,
        Err(e) => return error_response(state, e),
    };
    let browser = match Browser::load(state, headers).await {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(error = %e, "could not read the session");
            return redirect_error(
                state,
                &req,
                ErrorCode::TemporarilyUnavailable,
                "the server cannot reach its database",
            );
        }
    };
    let t = now();
    // A sign-in made for this very request (see `login_marker`) satisfies prompt=login and
    // max_age; otherwise max_age=0 asks for a new sign-in, as prompt=login does (Core §3.1.2.1).
    let marker = request::login_marker_of(&query).and_then(|m| verify_login_marker(state, m, t));
    let just_signed_in = |s: &SignedIn| marker.is_some_and(|since| s.auth_time >= since);
    let fresh_enough = |s: &SignedIn| req.max_age.is_none_or(|m| m > 0 && t - s.auth_time <= m);
    let signed_in = browser
        .signed_in
        .as_ref()
        .filter(|s| just_signed_in(s) || (!req.prompt.login && fresh_enough(s)));
    let Some(signed_in) = signed_in else {
        if req.prompt.none {
            return redirect_error(
                state,
                &req,
                ErrorCode::LoginRequired,
                "the user is not signed in (prompt=none)",
            );
        }
        let return_to = format!(
            "/oauth2/authorize?{}",
            request::with_login_marker(&query, &login_marker(state, t))
        );
        return browser.finish(state, render::see_other(state, &login_url(&return_to)));
    };
    let remembered = match state
        .store
        .get_consent(&signed_in.user.id, &req.client.client.client_id)
        .await
    {
        Ok(c) => c.and_then(|c| ScopeSet::parse(&c.scope).ok()),
        Err(e) => {
            tracing::warn!(error = %e, "could not read consents");
            return redirect_error(
                state,
                &req,
                ErrorCode::TemporarilyUnavailable,
                "the server cannot reach its database",
            );
        }
    };
    let covered = remembered.is_some_and(|r| req.scope.is_subset(&r));
    // Tessera's own console is first-party: nobody is asked to let it act for them.
    let first_party = crate::console::client::is_first_party(&req.client.client.client_id);
    if !first_party && (req.prompt.consent || !covered) {
        if req.prompt.none {
            return redirect_error(
                state,
                &req,
                ErrorCode::ConsentRequired,
                "the user has not approved these scopes (prompt=none)",
            );
        }
        return browser.finish(
            state,
            consent::page(state, &browser, signed_in, &req, &query),
        );
    }
    issue_code(state, &req, signed_in).await
}

/// How long a sign-in made for a request counts as one (`prompt=login`, `max_age`), seconds.
const LOGIN_MARKER_LIFETIME: i64 = 300;

/// A marker added to the request the sign-in page returns to: the time the sign-in was asked for,
/// with an HMAC so it cannot be forged. Back at the authorization endpoint, a session whose
/// `auth_time` is at or after that time satisfies `prompt=login` and `max_age` — the person signed
/// in for this request — while the request keeps its parameters (and a copy of the address taken
/// from the browser's history later no longer counts once the marker is old).
fn login_marker(state: &AppState, t: i64) -> String {
    format!("{t}.{}", login_marker_mac(state, t))
}

fn login_marker_mac(state: &AppState, t: i64) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(state.keys.hash(&format!("login-after:{t}")))
}

/// The time in a valid, recent marker.
fn verify_login_marker(state: &AppState, marker: &str, now: i64) -> Option<i64> {
    let (t, mac) = marker.split_once('.')?;
    let t: i64 = t.parse().ok()?;
    let ok = crate::crypto::ct_eq(login_marker_mac(state, t).as_bytes(), mac.as_bytes());
    (ok && now - t <= LOGIN_MARKER_LIFETIME && t <= now).then_some(t)
}

/// Sends the error to the client's redirect URI (RFC 6749 §4.1.2.1), with `state` and `iss`.
pub fn redirect_error(
    state: &AppState,
    req: &AuthorizationRequest,
    code: ErrorCode,
    description: &str,
) -> Response {
    error_response(
        state,
        RequestError::Redirect {
            redirect_uri: req.redirect_uri.clone(),
            state: req.state.clone(),
            code,
            description: description.to_owned(),
        },
    )
}

/// The response for a refused request: an error page, or a redirect with the error.
pub fn error_response(state: &AppState, e: RequestError) -> Response {
    match e {
        RequestError::Page(message) => render::message(
            state,
            StatusCode::BAD_REQUEST,
            "This sign-in link is not valid",
            message,
            None,
        ),
        RequestError::Redirect {
            redirect_uri,
            state: client_state,
            code,
            description,
        } => {
            let mut params = vec![
                ("error", code.as_str()),
                ("error_description", description.as_str()),
            ];
            if let Some(s) = &client_state {
                params.push(("state", s));
            }
            params.push(("iss", &state.issuer));
            render::see_other(state, &redirect_uri::with_params(&redirect_uri, &params))
        }
    }
}

/// Issues a code for the signed-in user and sends it to the client (RFC 6749 §4.1.2, RFC 9207).
pub async fn issue_code(
    state: &AppState,
    req: &AuthorizationRequest,
    signed_in: &SignedIn,
) -> Response {
    let Ok(code) = random_token(CODE_PREFIX) else {
        return redirect_error(
            state,
            req,
            ErrorCode::ServerError,
            "the random source failed",
        );
    };
    let t = now();
    let rec = CodeRecord {
        client_id: req.client.client.client_id.clone(),
        user_id: signed_in.user.id.clone(),
        redirect_uri: req.redirect_uri.clone(),
        redirect_uri_sent: req.redirect_uri_sent,
        scope: req.scope.to_string(),
        code_challenge: req.code_challenge.clone(),
        nonce: req.nonce.clone(),
        auth_time: signed_in.auth_time,
        created_at: t,
        expires_at: t + state.config.authorize.code_lifetime_secs as i64,
        used_at: None,
        access_jti: None,
        access_exp: None,
        family_id: None,
        resource: if req.resources.is_empty() {
            None
        } else {
            serde_json::to_string(&req.resources).ok()
        },
    };
    if let Err(e) = state.store.insert_code(&state.keys.hash(&code), &rec).await {
        tracing::warn!(error = %e, "could not store an authorization code");
        return redirect_error(
            state,
            req,
            ErrorCode::TemporarilyUnavailable,
            "the server could not store the authorization code",
        );
    }
    if rec.code_challenge.is_none() {
        // A confidential client let off PKCE (require_pkce = false, a migration aid): counted
        // so that operators see who still relies on it.
        metrics::counter!("tessera_authorize_without_pkce_total").increment(1);
    }
    let mut params = vec![("code", code.as_str())];
    if let Some(s) = &req.state {
        params.push(("state", s));
    }
    params.push(("iss", &state.issuer));
    render::see_other(
        state,
        &redirect_uri::with_params(&req.redirect_uri, &params),
    )
}
