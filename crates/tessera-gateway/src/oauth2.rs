//! Token injection: each upstream with an `oauth2` block gets its token from a
//! [`tessera_client::TokenSource`] on the gateway's [`TokenCache`], so upstreams with the same
//! credential share one cache entry (one token, one fetch at a time), and a reload that keeps a
//! credential keeps its cached token.
//!
//! The inbound `Authorization` header is replaced by `Bearer <token>` (RFC 6750 §2.1). After an
//! upstream `401` that asks for a new token (RFC 6750 §3.1: `invalid_token`, or no error code),
//! the token is evicted (compare-and-evict) and the request replayed, `retries` times.

use crate::config::{HttpVersion, OAuth2Config, UpstreamConfig};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::{Duration, Instant};
use tessera_client::{AccessToken, BearerChallenge, CacheKey, TokenCache, TokenSource};

/// What the gateway remembers about one credential across reloads: whether a token could be
/// obtained, and which token it last put on a request (to count new ones).
#[derive(Debug, Default)]
pub(crate) struct CredentialState {
    /// `received_at` of the last token used, in nanoseconds since [`epoch`] (0: none yet).
    last_seen: AtomicU64,
    ready: AtomicBool,
    warming: AtomicBool,
    last_error: Mutex<Option<String>>,
}

/// Credential states by cache key, kept by the gateway for its whole life.
#[derive(Debug, Default)]
pub(crate) struct Credentials {
    cache: TokenCache,
    states: Mutex<HashMap<CacheKey, Arc<CredentialState>>>,
}

impl Credentials {
    fn state(&self, key: &CacheKey) -> Arc<CredentialState> {
        let mut map = self.states.lock();
        Arc::clone(map.entry(key.clone()).or_default())
    }

    /// Forgets credentials no upstream uses any more.
    pub(crate) fn prune(&self) {
        self.states.lock().retain(|_, s| Arc::strong_count(s) > 1);
        self.cache.prune();
    }
}

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn nanos_of(t: Instant) -> u64 {
    // +1 so that a token received at the epoch is not taken for "none yet".
    u64::try_from(t.saturating_duration_since(epoch()).as_nanos())
        .unwrap_or(u64::MAX)
        .saturating_add(1)
}

/// A token obtained for a request.
pub(crate) struct Obtained {
    /// The token.
    pub(crate) token: AccessToken,
    /// Whether this is the first request to use it (a fetch happened since the last one).
    pub(crate) new: bool,
}

/// The token side of one upstream.
pub(crate) struct TokenInjector {
    upstream: Arc<str>,
    source: TokenSource,
    /// Replays after a `401` (Couper's `retries`, default 1).
    pub(crate) retries: u32,
    state: Arc<CredentialState>,
}

impl std::fmt::Debug for TokenInjector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenInjector")
            .field("upstream", &self.upstream)
            .field("client_id", &self.source.credential().client_id())
            .field("retries", &self.retries)
            .finish_non_exhaustive()
    }
}

impl TokenInjector {
    /// Builds the injector of `upstream` from its `oauth2` block, reading its secrets now.
    /// `backend` is the upstream named by the block's `backend`, whose transport token requests
    /// then use.
    pub(crate) fn build(
        upstream: &str,
        cfg: &OAuth2Config,
        backend: Option<(&str, &UpstreamConfig)>,
        allow_inline: bool,
        credentials: &Credentials,
    ) -> Result<Self, String> {
        let credential = cfg
            .to_credential(backend.map(|(_, b)| b), allow_inline)
            .map_err(|e| format!("upstream {upstream}: oauth2: {e}"))?;
        let mut builder = TokenSource::builder(credential)
            .cache(credentials.cache.clone())
            .timeout(cfg.token_timeout(backend.map(|(_, b)| b)));
        if let Some((name, b)) = backend {
            let http = backend_http_client(name, b)
                .map_err(|e| format!("upstream {upstream}: oauth2: backend {name}: {e}"))?;
            builder = builder.http_client(http);
        } else if let Some(ca) = &cfg.ca_file {
            let pem = std::fs::read(ca).map_err(|e| {
                format!(
                    "upstream {upstream}: oauth2: cannot read ca_file {}: {e}",
                    ca.display()
                )
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                format!("upstream {upstream}: oauth2: ca_file {}: {e}", ca.display())
            })?;
            let http = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(concat!("tessera-gateway/", env!("CARGO_PKG_VERSION")))
                .tls_certs_only(certs)
                .build()
                .map_err(|e| format!("upstream {upstream}: oauth2: HTTP client: {e}"))?;
            builder = builder.http_client(http);
        }
        let source = builder
            .build()
            .map_err(|e| format!("upstream {upstream}: oauth2: {e}"))?;
        let state = credentials.state(source.cache_key());
        if source.cached().is_some() {
            state.ready.store(true, Ordering::Relaxed);
        }
        Ok(Self {
            upstream: Arc::from(upstream),
            source,
            retries: cfg.retries,
            state,
        })
    }

    /// The token for a request: the cached one, or one fetch shared by all waiting requests.
    pub(crate) async fn token(&self) -> Result<Obtained, tessera_client::Error> {
        let token = match self.source.cached() {
            Some(t) => t,
            // Boxed: the fetch is rare, and its future would enlarge every request's.
            None => match Box::pin(self.source.token()).await {
                Ok(t) => t,
                Err(e) => {
                    self.failed(&e);
                    return Err(e);
                }
            },
        };
        let received = nanos_of(token.received_at());
        let last = self.state.last_seen.load(Ordering::Relaxed);
        let new = received > last
            && self
                .state
                .last_seen
                .compare_exchange(last, received, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok();
        if new {
            self.state.ready.store(true, Ordering::Relaxed);
        }
        Ok(Obtained { token, new })
    }

    fn failed(&self, e: &tessera_client::Error) {
        self.state.ready.store(false, Ordering::Relaxed);
        *self.state.last_error.lock() = Some(e.to_string());
        tracing::warn!(upstream = %self.upstream, error = %e, "cannot obtain an access token");
    }

    /// Drops `token` if it is still the cached one (after the upstream refused it).
    pub(crate) fn evict(&self, token: &AccessToken) {
        self.source.evict(token);
    }

    /// The client id (for logs).
    pub(crate) fn client_id(&self) -> &str {
        self.source.credential().client_id()
    }

    /// Whether a token was obtained and the last attempt did not fail.
    pub(crate) fn is_ready(&self) -> bool {
        self.state.ready.load(Ordering::Relaxed)
    }

    /// Why the last attempt failed, if it did.
    pub(crate) fn last_error(&self) -> Option<String> {
        if self.is_ready() {
            None
        } else {
            self.state.last_error.lock().clone()
        }
    }

    /// Gets a token in the background until one is obtained (for `/readyz`), unless one is
    /// already known or a warm-up runs. Stops when the injector is dropped (a reload replaced it).
    pub(crate) fn warm_up(self: &Arc<Self>) {
        if self.is_ready() || self.state.warming.swap(true, Ordering::AcqRel) {
            return;
        }
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            self.state.warming.store(false, Ordering::Release);
            return;
        };
        let weak: Weak<Self> = Arc::downgrade(self);
        handle.spawn(async move {
            let mut pause = Duration::from_millis(500);
            loop {
                let Some(me) = weak.upgrade() else { return };
                // Not through `token()`: the first request to use this token counts it as new.
                let outcome = me.source.token().await;
                match outcome {
                    Ok(_) => {
                        me.state.ready.store(true, Ordering::Relaxed);
                        me.state.warming.store(false, Ordering::Release);
                        return;
                    }
                    Err(e) => {
                        me.failed(&e);
                        let wait = if e.is_permanent() {
                            Duration::from_secs(30)
                        } else {
                            pause
                        };
                        // Let a reload that drops this injector end the loop.
                        let state = Arc::clone(&me.state);
                        drop(me);
                        tokio::time::sleep(wait).await;
                        pause = (pause * 2).min(Duration::from_secs(30));
                        if weak.strong_count() == 0 {
                            state.warming.store(false, Ordering::Release);
                            return;
                        }
                    }
                }
            }
        });
    }
}

/// An HTTP client for token requests with the transport settings of upstream `name` (Couper's
/// `backend`): trust only its `ca_file` when it has one, its connect timeout, its idle pool
/// timeout, and its HTTP version. No redirects are followed, as for every token request.
fn backend_http_client(name: &str, b: &UpstreamConfig) -> Result<reqwest::Client, String> {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("tessera-gateway/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(b.connect_timeout)
        .pool_idle_timeout(b.pool_idle_timeout);
    if let Some(ca) = &b.ca_file {
        let pem =
            std::fs::read(ca).map_err(|e| format!("cannot read ca_file {}: {e}", ca.display()))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| format!("ca_file {}: {e}", ca.display()))?;
        builder = builder.tls_certs_only(certs);
    }
    builder = match b.http_version {
        HttpVersion::Auto => builder,
        HttpVersion::Http1 => builder.http1_only(),
        HttpVersion::Http2 => builder.http2_prior_knowledge(),
    };
    builder
        .build()
        .map_err(|e| format!("HTTP client for upstream {name}: {e}"))
}

/// Whether an upstream `401` asks for a new token: its `WWW-Authenticate: Bearer` challenge says
/// `invalid_token` or names no error, or there is no Bearer challenge at all (RFC 6750 §3.1).
pub(crate) fn wants_new_token(headers: &http::HeaderMap) -> bool {
    let values = headers
        .get_all(http::header::WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok());
    match BearerChallenge::parse(values) {
        Some(c) => c.calls_for_new_token(),
        None => true,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn reads_the_challenge() {
        let mut h = http::HeaderMap::new();
        assert!(wants_new_token(&h));
        h.insert(
            "www-authenticate",
            http::HeaderValue::from_static("Bearer realm=\"x\", error=\"invalid_token\""),
        );
        assert!(wants_new_token(&h));
        h.insert(
            "www-authenticate",
            http::HeaderValue::from_static("Bearer error=\"insufficient_scope\""),
        );
        assert!(!wants_new_token(&h));
    }
}
