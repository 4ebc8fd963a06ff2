//! The guard's answers (RFC 6750 §3): status, `WWW-Authenticate: Bearer` challenge and a JSON
//! body with the same `error` and `error_description`.
//!
//! | case | status | challenge |
//! | --- | --- | --- |
//! | no token (or another scheme) | 401 | `Bearer realm="…"` (no error code, §3.1) |
//! | malformed request, token sent twice | 400 | `error="invalid_request"` |
//! | expired, bad signature, wrong `iss`/`aud`… | 401 | `error="invalid_token"` |
//! | missing scope | 403 | `error="insufficient_scope"`, `scope="…"` (the required scopes) |
//! | keys or introspection unreachable | 503 | none: the token is not to blame |
//!
//! `realm` is a `quoted-string` (RFC 9110 §5.6.4): `"` and `\` are escaped. `error_description`
//! and `scope` may only hold `%x20-21 / %x23-5B / %x5D-7E` (RFC 6750 §3): other characters are
//! replaced.

use crate::error::{RequestError, TokenError, UnavailableError};
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde::Serialize;
use std::fmt;
use std::sync::Arc;
use tessera_proto::{ErrorCode, ScopeSet};

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RejectionKind {
    /// No bearer token (RFC 6750 §3.1: no error code).
    MissingToken,
    /// `invalid_request` (400).
    InvalidRequest(RequestError),
    /// `invalid_token` (401).
    InvalidToken(TokenError),
    /// `insufficient_scope` (403), with the scopes the route requires.
    InsufficientScope(ScopeSet),
    /// The guard could not decide (503).
    Unavailable(UnavailableError),
    /// The extractor ran on a route without the guard's layer: a programming error (500).
    NotGuarded,
}

/// A refused request, ready to be answered. It is also put in the response's extensions, so a
/// logging middleware can record why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    kind: RejectionKind,
    realm: Arc<str>,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            RejectionKind::MissingToken => f.write_str("no bearer access token"),
            RejectionKind::InvalidRequest(e) => write!(f, "invalid_request: {e}"),
            RejectionKind::InvalidToken(e) => write!(f, "invalid_token: {e}"),
            RejectionKind::InsufficientScope(s) => write!(f, "insufficient_scope: needs {s}"),
            RejectionKind::Unavailable(e) => write!(f, "unavailable: {e}"),
            RejectionKind::NotGuarded => f.write_str("route not guarded"),
        }
    }
}

impl std::error::Error for Rejection {}

#[derive(Serialize)]
struct Body<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    error_description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
}

impl Rejection {
    /// A rejection with this realm.
    pub fn new(kind: RejectionKind, realm: Arc<str>) -> Self {
        Self { kind, realm }
    }

    /// Why.
    pub fn kind(&self) -> &RejectionKind {
        &self.kind
    }

    /// The HTTP status (RFC 6750 §3.1).
    pub fn status(&self) -> StatusCode {
        match self.kind {
            RejectionKind::MissingToken | RejectionKind::InvalidToken(_) => {
                StatusCode::UNAUTHORIZED
            }
            RejectionKind::InvalidRequest(_) => StatusCode::BAD_REQUEST,
            RejectionKind::InsufficientScope(_) => StatusCode::FORBIDDEN,
            RejectionKind::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            RejectionKind::NotGuarded => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The error code (RFC 6750 §3.1), if the case has one.
    pub fn error_code(&self) -> Option<ErrorCode> {
        match self.kind {
            RejectionKind::MissingToken => None,
            RejectionKind::InvalidRequest(_) => Some(ErrorCode::InvalidRequest),
            RejectionKind::InvalidToken(_) => Some(ErrorCode::InvalidToken),
            RejectionKind::InsufficientScope(_) => Some(ErrorCode::InsufficientScope),
            RejectionKind::Unavailable(_) => Some(ErrorCode::TemporarilyUnavailable),
            RejectionKind::NotGuarded => Some(ErrorCode::ServerError),
        }
    }

    fn description(&self) -> String {
        match &self.kind {
            RejectionKind::MissingToken => {
                "this API needs an access token in an 'Authorization: Bearer' header".into()
            }
            RejectionKind::InvalidRequest(e) => e.to_string(),
            RejectionKind::InvalidToken(e) => e.to_string(),
            RejectionKind::InsufficientScope(s) => {
                format!("the access token lacks a required scope: {s}")
            }
            RejectionKind::Unavailable(_) => {
                "the access token cannot be checked right now; retry later".into()
            }
            RejectionKind::NotGuarded => "the route is not protected by the guard".into(),
        }
    }

    /// The `WWW-Authenticate` value, or `None` where no challenge belongs (503, 500).
    pub fn www_authenticate(&self) -> Option<String> {
        let mut v = format!("Bearer realm=\"{}\"", quoted_string(&self.realm));
        match &self.kind {
            RejectionKind::MissingToken => {}
            RejectionKind::InvalidRequest(_) | RejectionKind::InvalidToken(_) => {
                self.push_error(&mut v);
            }
            RejectionKind::InsufficientScope(s) => {
                self.push_error(&mut v);
                v.push_str(", scope=\"");
                v.push_str(&param_chars(&s.to_string()));
                v.push('"');
            }
            RejectionKind::Unavailable(_) | RejectionKind::NotGuarded => return None,
        }
        Some(v)
    }

    fn push_error(&self, v: &mut String) {
        if let Some(code) = self.error_code() {
            v.push_str(", error=\"");
            v.push_str(code.as_str());
            v.push_str("\", error_description=\"");
            v.push_str(&param_chars(&self.description()));
            v.push('"');
        }
    }
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        let code = self.error_code();
        let scope = match &self.kind {
            RejectionKind::InsufficientScope(s) => Some(s.to_string()),
            _ => None,
        };
        let body = Body {
            error: code.as_ref().map(ErrorCode::as_str),
            error_description: self.description(),
            scope,
        };
        let json = serde_json::to_vec(&body).unwrap_or_default();
        let mut resp = (self.status(), json).into_response();
        let h = resp.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(challenge) = self.www_authenticate() {
            let value = HeaderValue::from_str(&challenge)
                .unwrap_or_else(|_| HeaderValue::from_static("Bearer"));
            h.insert(header::WWW_AUTHENTICATE, value);
        }
        if matches!(self.kind, RejectionKind::Unavailable(_)) {
            h.insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        resp.extensions_mut().insert(self);
        resp
    }
}

/// The inside of a `quoted-string`: `"` and `\` escaped, control and non-ASCII characters
/// (which a header value cannot carry) replaced by `?`.
fn quoted_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' | '\t' => out.push(c),
            _ => out.push('?'),
        }
    }
    out
}

/// A value made of RFC 6750 §3's `%x20-21 / %x23-5B / %x5D-7E` only: `"` becomes `'`, `\` becomes
/// `/`, anything else outside the set `?`.
fn param_chars(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '"' => '\'',
            '\\' => '/',
            ' '..='~' => c,
            _ => '?',
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(quoted_string(r#"a"b\c"#), r#"a\"b\\c"#);
        assert_eq!(quoted_string("é\n"), "??");
        assert_eq!(param_chars(r#"say "hi" \ é"#), "say 'hi' / ?");
    }

    #[test]
    fn challenges() {
        let realm: Arc<str> = Arc::from(r#"my "api""#);
        let r = Rejection::new(RejectionKind::MissingToken, realm.clone());
        assert_eq!(
            r.www_authenticate().as_deref(),
            Some(r#"Bearer realm="my \"api\"""#)
        );
        let r = Rejection::new(
            RejectionKind::InsufficientScope(ScopeSet::from_names(["b.c.d", "a.b.c"])),
            realm.clone(),
        );
        let v = r.www_authenticate().unwrap();
        assert!(v.contains(r#"error="insufficient_scope""#), "{v}");
        assert!(v.ends_with(r#"scope="a.b.c b.c.d""#), "{v}");
        assert!(HeaderValue::from_str(&v).is_ok());
        let r = Rejection::new(
            RejectionKind::Unavailable(UnavailableError::Jwks("x".into())),
            realm,
        );
        assert_eq!(r.www_authenticate(), None);
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    }
}
