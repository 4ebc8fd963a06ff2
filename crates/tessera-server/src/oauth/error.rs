//! The errors of the OAuth endpoints and their HTTP form (RFC 6749 §5.2).

use crate::store::StoreError;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::borrow::Cow;
use tessera_proto::{ErrorCode, ErrorResponse, FormError};

/// The `Retry-After` of answers given while the database is unavailable (503), at the API and on
/// the pages alike: long enough for a failover, short enough for a person to wait.
pub const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 5;

/// An error answered by the token, introspection or revocation endpoint.
#[derive(Debug, Clone)]
pub struct OAuthError {
    /// The RFC error code.
    pub code: ErrorCode,
    /// A sentence for the developer.
    pub description: Cow<'static, str>,
    /// The HTTP status.
    pub status: StatusCode,
    /// `Retry-After` seconds (429, 503).
    pub retry_after: Option<u64>,
    /// Whether to send `WWW-Authenticate: Basic`: only on a 401 `invalid_client` answering a
    /// request that tried HTTP Basic (RFC 6749 §5.2).
    pub basic_challenge: bool,
    /// Why, in detail, for the server's own log line only (never sent): a failed client
    /// authentication's precise reason, which the caller is not told.
    pub log_reason: Option<String>,
    /// The registered client a failed authentication named (for metrics and the log line); `None`
    /// when the id named no registered client, so made-up ids never become metric labels.
    pub presented_client: Option<String>,
}

impl OAuthError {
    /// Writes a failed client authentication's log line (client, precise reason, source address)
    /// for the endpoints that have no line per request of their own; other refusals write none.
    pub fn log_failed_authentication(&self, endpoint: &'static str, remote: std::net::IpAddr) {
        if let Some(reason) = &self.log_reason {
            tracing::info!(endpoint, client_id = self.presented_client.as_deref().unwrap_or("-"), remote = %remote, reason = %reason, "client authentication failed");
        }
    }

    fn new(code: ErrorCode, status: StatusCode, description: impl Into<Cow<'static, str>>) -> Self {
        Self {
            code,
            description: description.into(),
            status,
            retry_after: None,
            basic_challenge: false,
            log_reason: None,
            presented_client: None,
        }
    }

    /// `invalid_request` (400).
    pub fn invalid_request(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidRequest, StatusCode::BAD_REQUEST, d)
    }

    /// `invalid_client` (401, RFC 6749 §5.2), without a challenge: see
    /// [`OAuthError::with_basic_challenge`] for a client that tried HTTP Basic.
    pub fn invalid_client(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidClient, StatusCode::UNAUTHORIZED, d)
    }

    /// Adds `WWW-Authenticate: Basic` to a 401 answer, as RFC 6749 §5.2 requires when the client
    /// authenticated with the `Authorization` header; other answers are left as they are.
    pub fn with_basic_challenge(mut self) -> Self {
        self.basic_challenge = self.status == StatusCode::UNAUTHORIZED;
        self
    }

    /// `invalid_grant` (400).
    pub fn invalid_grant(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidGrant, StatusCode::BAD_REQUEST, d)
    }

    /// `unauthorized_client` (400).
    pub fn unauthorized_client(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::UnauthorizedClient, StatusCode::BAD_REQUEST, d)
    }

    /// `unsupported_grant_type` (400).
    pub fn unsupported_grant_type(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::UnsupportedGrantType, StatusCode::BAD_REQUEST, d)
    }

    /// `invalid_scope` (400).
    pub fn invalid_scope(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidScope, StatusCode::BAD_REQUEST, d)
    }

    /// `invalid_target` (400, RFC 8707 §2).
    pub fn invalid_target(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidTarget, StatusCode::BAD_REQUEST, d)
    }

    /// `unsupported_token_type` (400, RFC 7009 §2.2.1).
    pub fn unsupported_token_type(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::UnsupportedTokenType, StatusCode::BAD_REQUEST, d)
    }

    /// Too many failed authentications (429 with `Retry-After`).
    pub fn rate_limited(retry_after: u64) -> Self {
        let mut e = Self::new(
            ErrorCode::InvalidClient,
            StatusCode::TOO_MANY_REQUESTS,
            "too many failed client authentications; try again later",
        );
        e.retry_after = Some(retry_after.max(1));
        e
    }

    /// `temporarily_unavailable` (503 with `Retry-After`).
    pub fn unavailable(d: impl Into<Cow<'static, str>>) -> Self {
        let mut e = Self::new(
            ErrorCode::TemporarilyUnavailable,
            StatusCode::SERVICE_UNAVAILABLE,
            d,
        );
        e.retry_after = Some(UNAVAILABLE_RETRY_AFTER_SECS);
        e
    }

    /// `server_error` (500).
    pub fn server_error(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::ServerError, StatusCode::INTERNAL_SERVER_ERROR, d)
    }

    /// A request body over the limit (413).
    pub fn too_large(limit: usize) -> Self {
        Self::new(
            ErrorCode::InvalidRequest,
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request body is larger than {limit} bytes"),
        )
    }
}

impl From<FormError> for OAuthError {
    fn from(e: FormError) -> Self {
        Self::invalid_request(e.to_string())
    }
}

impl From<StoreError> for OAuthError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(_) | StoreError::Busy(_) => {
                tracing::warn!(error = %e, "database unavailable");
                Self::unavailable("the server cannot reach its database; try again shortly")
            }
            other => {
                tracing::error!(error = %other, "store error");
                Self::server_error("the server failed to complete the request")
            }
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = ErrorResponse {
            error: self.code.clone(),
            error_description: Some(self.description.clone().into_owned()),
            error_uri: None,
        };
        let mut resp = (self.status, axum::Json(body)).into_response();
        let h = resp.headers_mut();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        if self.basic_challenge {
            h.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"tessera\", charset=\"UTF-8\""),
            );
        }
        if let Some(s) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&s.to_string())
        {
            h.insert(header::RETRY_AFTER, v);
        }
        resp.extensions_mut().insert(self);
        resp
    }
}
