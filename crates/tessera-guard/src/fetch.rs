//! The guard's few outbound HTTP calls (discovery, JWKS, introspection): bounded in time and size.

use bytes::{Bytes, BytesMut};
use http::HeaderMap;
use std::time::Duration;

/// A response body read whole, with its headers.
pub(crate) struct Fetched {
    /// The body.
    pub(crate) body: Bytes,
    /// The response headers.
    pub(crate) headers: HeaderMap,
}

/// Why a call failed, in words safe to log and to show (no credentials, no tokens).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum FetchError {
    /// The server answered with a status other than 200.
    #[error("{0} answered HTTP {1}")]
    Status(String, u16),
    /// The connection, TLS or timeout failed.
    #[error("{0}: {1}")]
    Transport(String, String),
    /// The body is larger than allowed.
    #[error("{0} sent more than {1} bytes")]
    TooLarge(String, usize),
}

/// Builds the HTTP client: no redirects (URLs are configured exactly and one of the calls carries
/// client credentials), a timeout per call, rustls.
pub(crate) fn client(timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout)
        .user_agent(concat!("tessera-guard/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Sends `req`, expects 200, and reads at most `limit` bytes of body.
pub(crate) async fn send(
    req: reqwest::RequestBuilder,
    what: &str,
    limit: usize,
) -> Result<Fetched, FetchError> {
    let transport =
        |e: reqwest::Error| FetchError::Transport(what.to_owned(), e.without_url().to_string());
    let mut resp = req.send().await.map_err(transport)?;
    if resp.status() != http::StatusCode::OK {
        return Err(FetchError::Status(what.to_owned(), resp.status().as_u16()));
    }
    if resp.content_length().is_some_and(|n| n > limit as u64) {
        return Err(FetchError::TooLarge(what.to_owned(), limit));
    }
    let headers = std::mem::take(resp.headers_mut());
    let mut body = BytesMut::new();
    while let Some(chunk) = resp.chunk().await.map_err(transport)? {
        if body.len() + chunk.len() > limit {
            return Err(FetchError::TooLarge(what.to_owned(), limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Fetched {
        body: body.freeze(),
        headers,
    })
}

/// GETs JSON from `url`.
pub(crate) async fn get_json(
    http: &reqwest::Client,
    url: &str,
    what: &str,
    limit: usize,
) -> Result<Fetched, FetchError> {
    let req = http.get(url).header(
        http::header::ACCEPT,
        "application/json, application/jwk-set+json",
    );
    send(req, what, limit).await
}
