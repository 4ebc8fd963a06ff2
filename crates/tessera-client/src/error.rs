//! Why a token could not be had: one variant per cause, each naming it in words and carrying the
//! server's `error_description` when there is one (RFC 6749 §5.2).

use std::time::Duration;
use tessera_proto::{ErrorCode, ErrorResponse};

/// What went wrong getting a token. Cloneable so that every caller waiting on one token request
/// gets the same error.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The credential or an option is invalid (bad URL, missing secret, unreadable key…).
    #[error("invalid credential configuration: {0}")]
    Config(String),
    /// A client assertion (RFC 7523 §2.2) or a grant assertion (§2.1) could not be signed.
    #[error("cannot sign the assertion: {0}")]
    Assertion(String),
    /// The endpoint could not be reached: DNS failure, connection refused or reset.
    #[error("{url} is unreachable: {detail}")]
    Unreachable {
        /// The URL called.
        url: String,
        /// What the network stack said.
        detail: String,
    },
    /// The TLS handshake failed (untrusted or expired certificate, wrong host name, protocol).
    #[error("TLS failure talking to {url}: {detail}")]
    Tls {
        /// The URL called.
        url: String,
        /// What the TLS library said.
        detail: String,
    },
    /// No complete answer within the configured timeout.
    #[error("{url} did not answer within {timeout:?}")]
    Timeout {
        /// The URL called.
        url: String,
        /// The timeout that ran out.
        timeout: Duration,
    },
    /// Any other transport failure (the connection broke mid-response…).
    #[error("transport error talking to {url}: {detail}")]
    Transport {
        /// The URL called.
        url: String,
        /// What the HTTP library said.
        detail: String,
    },
    /// The answer is not an OAuth 2.0 JSON response (an HTML page, a 404, a redirect…): the URL is
    /// probably not a token endpoint.
    #[error(
        "{url} answered HTTP {status} with {}, not an OAuth 2.0 JSON response; is this the token endpoint? ({snippet})",
        content_type.as_deref().unwrap_or("no content type")
    )]
    NotOAuth {
        /// The URL called.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The `Content-Type` of the answer.
        content_type: Option<String>,
        /// The start of the body, control characters removed.
        snippet: String,
    },
    /// The answer claims to be JSON but is malformed, or lacks `access_token` / `token_type`
    /// (RFC 6749 §5.1).
    #[error("{url} answered HTTP {status} with a malformed token response: {detail}")]
    MalformedResponse {
        /// The URL called.
        url: String,
        /// The HTTP status.
        status: u16,
        /// What is wrong with it.
        detail: String,
    },
    /// The server refused the request with an OAuth error (RFC 6749 §5.2).
    #[error("{url} refused the token request (HTTP {status}): {error}")]
    OAuth {
        /// The URL called.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The error body, with the server's `error_description`.
        error: ErrorResponse,
        /// The server's clock minus ours, in seconds, from its `Date` header (for diagnosing
        /// assertion clock skew).
        server_clock_offset: Option<i64>,
    },
    /// The server failed (HTTP 5xx other than 503).
    #[error("{url} failed with HTTP {status}{}", error.as_ref().map(|e| format!(": {e}")).unwrap_or_default())]
    Server {
        /// The URL called.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The OAuth error body, when there was one.
        error: Option<ErrorResponse>,
    },
    /// The server asks us to slow down: HTTP 429, or 503 (RFC 9110 §15.6.4), with its `Retry-After`.
    #[error("{url} is rate limiting or unavailable (HTTP {status}){}{}",
        retry_after.map(|d| format!("; it asks to retry after {}s", d.as_secs_f64())).unwrap_or_default(),
        error.as_ref().map(|e| format!(": {e}")).unwrap_or_default())]
    RateLimited {
        /// The URL called.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The `Retry-After` the server sent.
        retry_after: Option<Duration>,
        /// The OAuth error body, when there was one.
        error: Option<ErrorResponse>,
    },
    /// The server issued a token that is not a Bearer token (RFC 6750); DPoP, MAC… are not
    /// supported.
    #[error("the server issued a token of type {0:?}; only Bearer tokens (RFC 6750) are supported")]
    UnsupportedTokenType(String),
    /// Discovery of the issuer's metadata failed (RFC 8414 §3, OpenID Connect Discovery §4).
    #[error("discovery of {issuer} failed: {detail}")]
    Discovery {
        /// The issuer.
        issuer: String,
        /// Why.
        detail: String,
    },
    /// The fetch was retried and the last attempt still failed.
    #[error("{last} (gave up after {attempts} attempts)")]
    Exhausted {
        /// How many requests were made.
        attempts: u32,
        /// The last attempt's error.
        last: Box<Error>,
    },
    /// No tokio runtime is running on this thread: token requests need one.
    #[error("no tokio runtime is running: the token client needs one to fetch tokens")]
    NoRuntime,
    /// The task fetching the token ended without a result (the runtime is shutting down).
    #[error("the token fetch ended without a result (is the runtime shutting down?)")]
    FetchAborted,
}

impl Error {
    /// The error behind retries: for [`Error::Exhausted`] the last attempt's error, else `self`.
    pub fn cause(&self) -> &Error {
        match self {
            Self::Exhausted { last, .. } => last.cause(),
            other => other,
        }
    }

    /// The OAuth error code the server sent, if any.
    pub fn oauth_error(&self) -> Option<&ErrorResponse> {
        match self.cause() {
            Self::OAuth { error, .. } => Some(error),
            Self::Server { error, .. } | Self::RateLimited { error, .. } => error.as_ref(),
            _ => None,
        }
    }

    /// The OAuth error code the server sent, if any.
    pub fn code(&self) -> Option<&ErrorCode> {
        self.oauth_error().map(|e| &e.error)
    }

    /// Whether retrying the same request unchanged cannot help: an OAuth error that
    /// [`ErrorCode::is_permanent`] says so (`invalid_client`, `invalid_grant`,
    /// `unauthorized_client`, `invalid_scope`…), a configuration error, a non-Bearer token.
    pub fn is_permanent(&self) -> bool {
        match self.cause() {
            Self::OAuth { error, .. } => error.error.is_permanent(),
            Self::Config(_)
            | Self::Assertion(_)
            | Self::UnsupportedTokenType(_)
            | Self::NotOAuth { .. }
            | Self::MalformedResponse { .. }
            | Self::Tls { .. }
            | Self::NoRuntime => true,
            _ => false,
        }
    }

    /// A short, bounded label for metrics and logs: the OAuth error code, or the kind of failure.
    pub fn label(&self) -> &str {
        match self.cause() {
            Self::Config(_) => "config",
            Self::Assertion(_) => "assertion",
            Self::Unreachable { .. } => "unreachable",
            Self::Tls { .. } => "tls",
            Self::Timeout { .. } => "timeout",
            Self::Transport { .. } => "transport",
            Self::NotOAuth { .. } => "not_oauth",
            Self::MalformedResponse { .. } => "malformed_response",
            Self::OAuth { error, .. } => match &error.error {
                ErrorCode::Other(_) => "oauth_other",
                code => code.as_str(),
            },
            Self::Server { .. } => "server_error",
            Self::RateLimited { .. } => "rate_limited",
            Self::UnsupportedTokenType(_) => "unsupported_token_type",
            Self::Discovery { .. } => "discovery",
            Self::Exhausted { .. } => "exhausted",
            Self::NoRuntime => "no_runtime",
            Self::FetchAborted => "fetch_aborted",
        }
    }

    /// Classifies a transport error from reqwest, telling TLS failures, timeouts and unreachable
    /// hosts apart.
    pub(crate) fn from_reqwest(url: &str, timeout: Duration, e: &reqwest::Error) -> Self {
        let url = url.to_owned();
        let detail = chain(e);
        if e.is_timeout() {
            return Self::Timeout { url, timeout };
        }
        if is_tls(e) {
            return Self::Tls { url, detail };
        }
        if e.is_connect() {
            return Self::Unreachable { url, detail };
        }
        Self::Transport { url, detail }
    }
}

/// The error and its sources, joined by `: `.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// Whether a rustls error (or an I/O error wrapping one) is in the chain. The words fallback
/// reads only the sources, never reqwest's own message, which holds the URL (a host named
/// `tls.example` must not turn "connection refused" into a TLS failure).
fn is_tls(e: &reqwest::Error) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(err) = cur {
        if err.downcast_ref::<rustls::Error>().is_some() {
            return true;
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && io
                .get_ref()
                .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some())
        {
            return true;
        }
        // Fallback on the words rustls and hyper-rustls use, for wrappers that hide the type.
        let text = err.to_string().to_ascii_lowercase();
        if [
            "certificate",
            "handshake",
            "corrupt message",
            "invalidcontenttype",
            "peer is incompatible",
            "received fatal alert",
            "tls",
        ]
        .iter()
        .any(|w| text.contains(w))
        {
            return true;
        }
        cur = err.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oauth_error_carries_description() {
        let e = Error::OAuth {
            url: "https://a.example/token".into(),
            status: 401,
            error: ErrorResponse::new(ErrorCode::InvalidClient, "client authentication failed"),
            server_clock_offset: None,
        };
        let text = e.to_string();
        assert!(text.contains("invalid_client"), "{text}");
        assert!(text.contains("client authentication failed"), "{text}");
        assert!(e.is_permanent());
        assert_eq!(e.label(), "invalid_client");
        let wrapped = Error::Exhausted {
            attempts: 3,
            last: Box::new(e),
        };
        assert_eq!(wrapped.label(), "invalid_client");
        assert!(wrapped.to_string().contains("after 3 attempts"));
    }
}
