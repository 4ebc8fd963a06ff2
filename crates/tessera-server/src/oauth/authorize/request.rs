//! Reading and checking an authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3, OpenID Connect
//! Core §3.1.2.1). The client and the redirect URI are checked first: until both are known good,
//! an error is shown to the person (never redirected, RFC 6749 §4.1.2.1); after that, errors go
//! back to the client's redirect URI. `resource` (RFC 8707) follows the token endpoint's rule:
//! each value must be an audience the client may ask for, else `invalid_target` goes back to the
//! client; the values go with the code into the token's `aud`.

use super::redirect_uri;
use crate::oauth::grants::common::requested_audiences;
use crate::oauth::grants::user_scope::choose_user_scopes;
use crate::oauth::pkce;
use crate::registry::ClientEntry;
use crate::state::AppState;
use std::sync::Arc;
use tessera_proto::{ErrorCode, FormParams, GrantType, ScopeSet};

/// The `prompt` values (Core §3.1.2.1) this server honours.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prompt {
    /// `none`: no page may be shown.
    pub none: bool,
    /// `login` (and `select_account`): the user must authenticate again.
    pub login: bool,
    /// `consent`: the consent page must be shown.
    pub consent: bool,
}

/// A checked authorization request.
#[derive(Debug, Clone)]
pub struct AuthorizationRequest {
    /// The client.
    pub client: Arc<ClientEntry>,
    /// Where the response goes.
    pub redirect_uri: String,
    /// Whether the request named the redirect URI.
    pub redirect_uri_sent: bool,
    /// The client's `state`, returned unchanged.
    pub state: Option<String>,
    /// The scopes asked for (or the client's defaults).
    pub scope: ScopeSet,
    /// The S256 `code_challenge`.
    pub code_challenge: Option<String>,
    /// The OpenID Connect `nonce`.
    pub nonce: Option<String>,
    /// The `prompt` values.
    pub prompt: Prompt,
    /// `max_age` in seconds.
    pub max_age: Option<i64>,
    /// The `resource` values (RFC 8707), each an audience of the client; empty when none.
    pub resources: Vec<String>,
}

/// Why a request was refused.
#[derive(Debug, Clone)]
pub enum RequestError {
    /// Shown on an error page: the client or the redirect URI is not trusted.
    Page(String),
    /// Sent to the redirect URI as `error`, `error_description`, `state` and `iss`.
    Redirect {
        /// The checked redirect URI.
        redirect_uri: String,
        /// The client's `state`.
        state: Option<String>,
        /// The error code.
        code: ErrorCode,
        /// A sentence for the developer.
        description: String,
    },
}

/// Parses and checks the request in `query` (a query string or a posted form body).
pub fn parse(state: &AppState, query: &str) -> Result<AuthorizationRequest, RequestError> {
    let form =
        FormParams::parse(query.as_bytes()).map_err(|e| RequestError::Page(e.to_string()))?;
    let page = |m: &str| RequestError::Page(m.to_owned());
    if let Some(name) = form.first_repeated(&["resource"]) {
        return Err(RequestError::Page(format!(
            "the parameter {name} is included more than once"
        )));
    }
    let get = |name: &str| form.get(name).ok().flatten();
    let client_id = get("client_id")
        .ok_or_else(|| page("The request does not name a client (client_id is missing)."))?;
    let client = state
        .registry
        .client(client_id)
        .filter(|c| c.client.enabled)
        .ok_or_else(|| {
            page("The application that sent you here is not registered or is disabled.")
        })?;
    let registered = &client.client.redirect_uris;
    let (redirect_uri, sent) = match get("redirect_uri") {
        Some(r) => {
            if !registered.iter().any(|reg| redirect_uri::matches(reg, r)) {
                return Err(page(
                    "The application asked to send you to an address it did not register (redirect_uri mismatch).",
                ));
            }
            (r.to_owned(), true)
        }
        None if registered.len() == 1 => (registered[0].clone(), false),
        None => {
            return Err(page(
                "The request does not say where to return (redirect_uri is missing).",
            ));
        }
    };
    let client_state = get("state").map(str::to_owned);
    let fail = |code: ErrorCode, d: &str| RequestError::Redirect {
        redirect_uri: redirect_uri.clone(),
        state: client_state.clone(),
        code,
        description: d.to_owned(),
    };
    if get("request").is_some() {
        return Err(fail(
            ErrorCode::Other("request_not_supported".into()),
            "request objects are not supported",
        ));
    }
    if get("request_uri").is_some() {
        return Err(fail(
            ErrorCode::Other("request_uri_not_supported".into()),
            "request_uri is not supported",
        ));
    }
    match get("response_type") {
        Some("code") => {}
        Some(_) => {
            return Err(fail(
                ErrorCode::UnsupportedResponseType,
                "only response_type=code is supported",
            ));
        }
        None => return Err(fail(ErrorCode::InvalidRequest, "response_type is missing")),
    }
    if let Some(mode) = get("response_mode")
        && mode != "query"
    {
        return Err(fail(
            ErrorCode::InvalidRequest,
            "only response_mode=query is supported",
        ));
    }
    if !client
        .client
        .grant_types
        .contains(&GrantType::AuthorizationCode)
    {
        return Err(fail(
            ErrorCode::UnauthorizedClient,
            "the client may not use the authorization code grant",
        ));
    }
    let scope = choose_user_scopes(state, &client, get("scope"))
        .map_err(|e| fail(e.code.clone(), &e.description))?;
    let resources = requested_audiences(&client, form.get_all("resource"), std::iter::empty())
        .map_err(|e| fail(e.code.clone(), &e.description))?;
    let code_challenge = match (get("code_challenge"), get("code_challenge_method")) {
        (Some(c), Some("S256")) => {
            if !pkce::is_s256_challenge(c) {
                return Err(fail(
                    ErrorCode::InvalidRequest,
                    "code_challenge must be the base64url SHA-256 of the code_verifier (43 characters)",
                ));
            }
            Some(c.to_owned())
        }
        (Some(_), Some("plain")) | (Some(_), None) => {
            return Err(fail(
                ErrorCode::InvalidRequest,
                "code_challenge_method must be S256; plain is refused (RFC 9700 §2.1.1)",
            ));
        }
        (Some(_), Some(_)) => {
            return Err(fail(
                ErrorCode::InvalidRequest,
                "code_challenge_method must be S256",
            ));
        }
        (None, Some(_)) => {
            return Err(fail(
                ErrorCode::InvalidRequest,
                "code_challenge_method was sent without code_challenge",
            ));
        }
        (None, None) => None,
    };
    let public = client.client.is_public();
    let required = client
        .client
        .require_pkce
        .unwrap_or(state.config.authorize.require_pkce);
    if code_challenge.is_none() && (public || required) {
        return Err(fail(
            ErrorCode::InvalidRequest,
            "PKCE is required: send code_challenge with code_challenge_method=S256 (RFC 7636)",
        ));
    }
    let nonce = get("nonce").map(str::to_owned);
    if nonce.as_ref().is_some_and(|n| n.len() > 512) {
        return Err(fail(
            ErrorCode::InvalidRequest,
            "nonce is longer than 512 characters",
        ));
    }
    let mut prompt = Prompt::default();
    if let Some(p) = get("prompt") {
        for v in p.split(' ').filter(|v| !v.is_empty()) {
            match v {
                "none" => prompt.none = true,
                "login" | "select_account" => prompt.login = true,
                "consent" => prompt.consent = true,
                other => {
                    return Err(fail(
                        ErrorCode::InvalidRequest,
                        &format!("prompt value {other:?} is not supported"),
                    ));
                }
            }
        }
        if prompt.none && (prompt.login || prompt.consent) {
            return Err(fail(
                ErrorCode::InvalidRequest,
                "prompt=none cannot be combined with other values",
            ));
        }
    }
    let max_age = match get("max_age") {
        Some(m) => Some(m.parse::<u32>().map(i64::from).map_err(|_| {
            fail(
                ErrorCode::InvalidRequest,
                "max_age must be a non-negative number of seconds",
            )
        })?),
        None => None,
    };
    Ok(AuthorizationRequest {
        client,
        redirect_uri,
        redirect_uri_sent: sent,
        state: client_state,
        scope,
        code_challenge,
        nonce,
        prompt,
        max_age,
        resources,
    })
}

/// The parameter that carries the sign-in marker (see `super::login_marker`); not part of any
/// standard, ignored by everything but the authorization endpoint.
pub const LOGIN_MARKER_PARAM: &str = "tessera_login_after";

/// `query` with the sign-in marker set to `marker` (replacing an older one).
pub fn with_login_marker(query: &str, marker: &str) -> String {
    let mut ser = form_urlencoded::Serializer::new(String::new());
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        if k != LOGIN_MARKER_PARAM {
            ser.append_pair(&k, &v);
        }
    }
    ser.append_pair(LOGIN_MARKER_PARAM, marker);
    ser.finish()
}

/// The sign-in marker of `query`, if it has one.
pub fn login_marker_of(query: &str) -> Option<&str> {
    query
        .split('&')
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| *k == LOGIN_MARKER_PARAM)
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::{login_marker_of, with_login_marker};

    #[test]
    fn the_login_marker_is_set_once() {
        let q = with_login_marker("client_id=a&prompt=login&tessera_login_after=1.x", "2.y");
        assert_eq!(q, "client_id=a&prompt=login&tessera_login_after=2.y");
        assert_eq!(login_marker_of(&q), Some("2.y"));
        assert_eq!(login_marker_of("client_id=a"), None);
    }
}
