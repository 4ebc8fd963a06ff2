//! The authorization request (RFC 6749 §4.1.1, RFC 7636, OpenID Connect Core §3.1.2.1): the input
//! is the query string, checked by `oauth::authorize::request::parse` against the real server's
//! registered clients, then posted to `/oauth2/authorize` (no one is signed in).
//!
//! Holds: no panic; an accepted request names a registered, enabled client that may use the code
//! grant, a redirect URI the client registered, scopes it may ask for, an S256 challenge of 43
//! characters (required for a public client); an error sent to the client goes only to a
//! registered redirect URI and carries an RFC error code; the endpoint never answers 5xx, and a
//! redirect to the client carries `error` (RFC 6749 §4.1.2.1) with an RFC code and the `state`.
#![no_main]

use axum::body::Body;
use http::{Request, header};
use libfuzzer_sys::fuzz_target;
use tessera_fuzz::server;
use tessera_server::oauth::authorize::redirect_uri;
use tessera_server::oauth::authorize::request::{self, RequestError};

/// The error codes an authorization endpoint sends to the client.
const AUTHZ_ERRORS: [&str; 11] = [
    "invalid_request",
    "unauthorized_client",
    "access_denied",
    "unsupported_response_type",
    "invalid_scope",
    "request_not_supported",
    "request_uri_not_supported",
    "login_required",
    "consent_required",
    "interaction_required",
    "account_selection_required",
];

// The server (a SQLite database, keys, clients) is made before fuzzing starts, so that no input is
// timed with it.
fuzz_target!(init: { server(); }, |data: &[u8]| {
    let Ok(query) = std::str::from_utf8(data) else {
        return;
    };
    let s = server();
    match request::parse(&s.state, query) {
        Ok(r) => {
            let c = &r.client.client;
            assert!(c.enabled);
            assert!(
                c.grant_types
                    .contains(&tessera_proto::GrantType::AuthorizationCode)
            );
            assert!(
                c.redirect_uris
                    .iter()
                    .any(|reg| redirect_uri::matches(reg, &r.redirect_uri))
            );
            for scope in r.scope.iter() {
                assert!(
                    c.allowed_scopes.iter().any(|a| a == scope),
                    "scope {scope:?} is not allowed to {}",
                    c.client_id
                );
            }
            if let Some(ch) = &r.code_challenge {
                assert_eq!(ch.len(), 43);
            }
            if c.is_public() {
                assert!(r.code_challenge.is_some(), "a public client without PKCE");
            }
        }
        Err(RequestError::Page(_)) => {}
        Err(RequestError::Redirect {
            redirect_uri: uri,
            code,
            ..
        }) => {
            assert!(
                AUTHZ_ERRORS.contains(&code.as_str()),
                "error {:?} sent to the client",
                code.as_str()
            );
            let registered = s
                .state
                .registry
                .client(form_value(query, "client_id").as_deref().unwrap_or(""))
                .map(|c| c.client.redirect_uris.clone())
                .unwrap_or_default();
            assert!(
                registered
                    .iter()
                    .any(|reg| redirect_uri::matches(reg, &uri)),
                "an error sent to {uri:?}, which the client did not register"
            );
        }
    }
    let Ok(req) = Request::builder()
        .method("POST")
        .uri("/oauth2/authorize")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(data.to_vec()))
    else {
        return;
    };
    let a = s.call(req);
    assert!(
        a.status.as_u16() < 500,
        "the authorization endpoint answered {}",
        a.status
    );
    if let Some(loc) = a
        .headers
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        && (loc.starts_with("https://app.example/") || loc.starts_with("http://127.0.0.1"))
    {
        let (_, q) = loc.split_once('?').unwrap_or((loc, ""));
        let error = form_value(q, "error");
        let code = form_value(q, "code");
        assert!(
            error.as_deref().is_some_and(|e| AUTHZ_ERRORS.contains(&e)) || code.is_some(),
            "a redirect to the client with neither an RFC error nor a code: {loc}"
        );
        assert_eq!(
            form_value(q, "state"),
            form_value(query, "state"),
            "the state changed on the way back"
        );
    }
});

/// The first value of `name` in a form-encoded string.
fn form_value(q: &str, name: &str) -> Option<String> {
    form_urlencoded::parse(q.as_bytes())
        .find(|(k, v)| k == name && !v.is_empty())
        .map(|(_, v)| v.into_owned())
}
