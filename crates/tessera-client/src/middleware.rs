//! A `reqwest-middleware` layer that presents the token (`Authorization: Bearer …`, RFC 6750 §2.1)
//! and, on a `401` without a challenge or whose Bearer challenge says `invalid_token` or names no
//! error (RFC 6750 §3.1), evicts that token, gets a new one and replays the request: `retries`
//! times (default 1, as Couper's `oauth2` block), and only when the body can be replayed.

use crate::challenge::BearerChallenge;
use crate::{Error, TokenSource};
use http::{Extensions, StatusCode, header};
use reqwest::{Request, Response};
use reqwest_middleware::{Middleware, Next};

/// Presents tokens from a [`TokenSource`] and retries after a `401` with a new token.
///
/// ```no_run
/// # fn demo(source: tessera_client::TokenSource) {
/// let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
///     .with(tessera_client::BearerMiddleware::new(source))
///     .build();
/// # let _ = client; }
/// ```
#[derive(Debug, Clone)]
pub struct BearerMiddleware {
    source: TokenSource,
    retries: u32,
}

impl BearerMiddleware {
    /// A layer presenting tokens of `source`, retrying once after a `401`.
    pub fn new(source: TokenSource) -> Self {
        Self { source, retries: 1 }
    }

    /// How many times a request is replayed with a new token after a `401` (default 1; 0 never
    /// replays). A server that answers `401` to every token causes exactly `retries + 1` token
    /// fetches for one request, then its `401` is returned.
    pub fn retries(mut self, retries: u32) -> Self {
        self.retries = retries;
        self
    }
}

/// Whether a `401` response asks for a new token: it has no `WWW-Authenticate` at all (the API
/// says nothing more than "401"), or a Bearer challenge with `error="invalid_token"` or no error.
/// A `401` whose challenges are all of other schemes (`Basic`, `DPoP`…) asks for credentials a new
/// Bearer token cannot give.
fn wants_new_token(resp: &Response) -> bool {
    if resp.status() != StatusCode::UNAUTHORIZED {
        return false;
    }
    let challenges = resp.headers().get_all(header::WWW_AUTHENTICATE);
    if challenges.iter().next().is_none() {
        return true;
    }
    BearerChallenge::parse(challenges.iter().filter_map(|v| v.to_str().ok()))
        .is_some_and(|c| c.calls_for_new_token())
}

#[async_trait::async_trait]
impl Middleware for BearerMiddleware {
    async fn handle(
        &self,
        req: Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<Response> {
        let mut req = req;
        let mut replays = 0u32;
        loop {
            let token = self
                .source
                .token()
                .await
                .map_err(reqwest_middleware::Error::middleware)?;
            // Keep a copy to replay; `None` when the body is a stream.
            let spare = if replays < self.retries {
                req.try_clone()
            } else {
                None
            };
            req.headers_mut()
                .insert(header::AUTHORIZATION, token.authorization().clone());
            let resp = next.clone().run(req, extensions).await?;
            if !wants_new_token(&resp) {
                return Ok(resp);
            }
            // Compare-and-evict: only this token, not one another request already replaced it with.
            self.source.evict(&token);
            let Some(again) = spare else {
                if replays < self.retries {
                    tracing::debug!(
                        "401 for a request whose body cannot be replayed; not retrying"
                    );
                }
                return Ok(resp);
            };
            replays += 1;
            crate::metrics::middleware_retry(self.source.credential().client_id());
            tracing::debug!(replays, "401 from the API; retrying with a new token");
            req = again;
        }
    }
}

impl From<Error> for reqwest_middleware::Error {
    fn from(e: Error) -> Self {
        reqwest_middleware::Error::middleware(e)
    }
}
