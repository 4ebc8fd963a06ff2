//! The token source: serves one credential's token from the cache, refreshes it ahead of expiry
//! in the background, and coalesces concurrent fetches into one token request.

use crate::cache::{Cached, Entry};
use crate::fetch::{FetchedToken, Fetcher};
use crate::metrics as m;
use crate::singleflight::{Completion, Joined};
use crate::{
    AccessToken, CacheKey, Credential, Error, LifetimePolicy, RefreshPolicy, RetryPolicy,
    SecretString, TokenCache,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tessera_proto::GrantType;

/// Why a fetch was started (the `reason` label of [`crate::metrics::FETCHES`]).
#[derive(Debug, Clone, Copy)]
enum Reason {
    Cold,
    RefreshAhead,
    Expired,
    Forced,
}

impl Reason {
    fn as_str(self) -> &'static str {
        match self {
            Self::Cold => "cold",
            Self::RefreshAhead => "refresh_ahead",
            Self::Expired => "expired",
            Self::Forced => "forced",
        }
    }
}

struct Inner {
    entry: Arc<Entry>,
    fetcher: Arc<Fetcher>,
    refresh: RefreshPolicy,
}

/// Serves access tokens for one [`Credential`]: from the cache when it holds one that may still be
/// served; else from one token request shared by every caller that needs it.
///
/// Cheap to clone (a handle). Needs a tokio runtime to fetch: fetches run in their own tasks, so
/// that a caller that gives up (its future dropped, a timeout) does not cancel the fetch.
#[derive(Clone)]
pub struct TokenSource {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSource")
            .field("key", &self.inner.entry.key)
            .finish_non_exhaustive()
    }
}

/// Options of a [`TokenSource`].
#[derive(Debug)]
#[must_use]
pub struct TokenSourceBuilder {
    credential: Credential,
    http: Option<reqwest::Client>,
    cache: Option<TokenCache>,
    retry: RetryPolicy,
    lifetime: LifetimePolicy,
    refresh: RefreshPolicy,
    timeout: Duration,
}

impl TokenSourceBuilder {
    /// The HTTP client for token requests. The default one follows no redirect (a redirected
    /// token request is reported as not an OAuth endpoint rather than sending credentials on) and
    /// uses rustls with the platform's roots; a client given here should do the same.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// The cache (default: [`TokenCache::global`]).
    pub fn cache(mut self, cache: TokenCache) -> Self {
        self.cache = Some(cache);
        self
    }

    /// Retries of failed token requests.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Token lifetime rules (default lifetime, maximum lifetime).
    pub fn lifetime(mut self, lifetime: LifetimePolicy) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// When tokens are refreshed ahead of expiry.
    pub fn refresh(mut self, refresh: RefreshPolicy) -> Self {
        self.refresh = refresh;
        self
    }

    /// The timeout of each token request (default 10 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Builds the source. Needs no runtime and makes no request.
    pub fn build(self) -> Result<TokenSource, Error> {
        let http = match self.http {
            Some(c) => c,
            None => default_http_client()?,
        };
        let cache = self.cache.unwrap_or_else(|| TokenCache::global().clone());
        let key = CacheKey::of(&self.credential);
        let entry = cache.entry(&key);
        let fetcher = Fetcher::new(
            self.credential,
            http,
            self.retry,
            self.lifetime,
            self.timeout,
        );
        Ok(TokenSource {
            inner: Arc::new(Inner {
                entry,
                fetcher: Arc::new(fetcher),
                refresh: self.refresh,
            }),
        })
    }
}

/// The HTTP client token sources use unless given one: rustls, no redirects, `tessera-client`
/// user agent.
pub(crate) fn default_http_client() -> Result<reqwest::Client, Error> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("tessera-client/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))
}

impl TokenSource {
    /// A source for `credential` with default options and the global cache.
    pub fn new(credential: Credential) -> Result<Self, Error> {
        Self::builder(credential).build()
    }

    /// A builder for a source with options.
    pub fn builder(credential: Credential) -> TokenSourceBuilder {
        TokenSourceBuilder {
            credential,
            http: None,
            cache: None,
            retry: RetryPolicy::default(),
            lifetime: LifetimePolicy::default(),
            refresh: RefreshPolicy::default(),
            timeout: Duration::from_secs(10),
        }
    }

    /// The credential.
    pub fn credential(&self) -> &Credential {
        &self.inner.fetcher.credential
    }

    /// The cache key of the credential.
    pub fn cache_key(&self) -> &CacheKey {
        &self.inner.entry.key
    }

    /// The cached token, if one may be served now; never waits and never fails. Past the token's
    /// refresh point, the first caller starts a background refresh, and the current token keeps
    /// being served until the new one replaces it.
    #[inline]
    pub fn cached(&self) -> Option<AccessToken> {
        let entry = &self.inner.entry;
        let guard = entry.state.load();
        let cached = guard.as_ref()?;
        let now = Instant::now();
        if now >= cached.refresh_at {
            if now >= cached.usable_until {
                return None;
            }
            self.refresh_ahead(cached, now);
        }
        entry.count_hit();
        Some(cached.token.for_this_thread())
    }

    #[cold]
    fn refresh_ahead(&self, cached: &Cached, now: Instant) {
        let entry = &self.inner.entry;
        if !cached.claim_refresh(entry.nanos(now)) {
            return;
        }
        tracing::debug!(client_id = %entry.key.client_id(), "refreshing the token ahead of expiry");
        match self.join_or_start(Reason::RefreshAhead, false) {
            Ok(_) => {}
            Err(e) => {
                // No runtime here: let a later caller try again.
                cached
                    .refresh_gate
                    .store(entry.nanos(now + Duration::from_secs(1)), Ordering::Relaxed);
                tracing::debug!(error = %e, "cannot start a background refresh");
            }
        }
    }

    /// A token: the cached one, or a fresh one from the token endpoint. Concurrent callers share
    /// one request; if this future is dropped, the request still completes and fills the cache.
    pub async fn token(&self) -> Result<AccessToken, Error> {
        if let Some(t) = self.cached() {
            return Ok(t);
        }
        let reason = if self.inner.entry.state.load().is_some() {
            Reason::Expired
        } else {
            Reason::Cold
        };
        self.wait(reason, true).await
    }

    /// Gets a new token even if the cached one is still good (joining a fetch already in flight),
    /// and caches it.
    pub async fn force_refresh(&self) -> Result<AccessToken, Error> {
        self.wait(Reason::Forced, false).await
    }

    /// Compare-and-evict: drops `token` from the cache if it is still the cached one, and says
    /// whether it was. A late `401` for an old token cannot throw away a newer one.
    pub fn evict(&self, token: &AccessToken) -> bool {
        let entry = &self.inner.entry;
        let current = entry.state.load();
        match current.as_ref() {
            Some(c) if c.token.same_as(token) => {
                let previous = entry.state.compare_and_swap(&current, None);
                let evicted = match (previous.as_ref(), current.as_ref()) {
                    (Some(p), Some(c)) => Arc::ptr_eq(p, c),
                    _ => false,
                };
                if evicted {
                    tracing::debug!(client_id = %entry.key.client_id(), "evicted the cached token");
                }
                evicted
            }
            _ => false,
        }
    }

    /// Makes one token request with the source's retry policy, bypassing and not touching the
    /// cache, and returns the whole response (what `tessera token get` prints).
    pub async fn fetch_uncached(&self) -> Result<FetchedToken, Error> {
        self.inner.fetcher.fetch(None).await
    }

    /// The token endpoint, discovering it first for an issuer.
    pub async fn token_endpoint(&self) -> Result<reqwest::Url, Error> {
        self.inner.fetcher.token_endpoint().await
    }

    /// Whether a fetch is in flight for this source's cache entry.
    pub fn fetch_in_flight(&self) -> bool {
        self.inner.entry.flight.in_flight()
    }

    async fn wait(&self, reason: Reason, recheck: bool) -> Result<AccessToken, Error> {
        match self.join_or_start(reason, recheck)? {
            Joined::Ready(t) => Ok(t),
            Joined::Started(w) => w.wait().await,
            Joined::Coalesced(w) => {
                m::coalesced(self.inner.entry.key.client_id());
                w.wait().await
            }
        }
    }

    fn join_or_start(&self, reason: Reason, recheck: bool) -> Result<Joined<AccessToken>, Error> {
        let entry = &self.inner.entry;
        entry.flight.join_or_start(
            || {
                if recheck {
                    entry.usable(Instant::now())
                } else {
                    None
                }
            },
            |completion| {
                let handle = tokio::runtime::Handle::try_current().map_err(|_| Error::NoRuntime)?;
                let inner = Arc::clone(&self.inner);
                handle.spawn(run_fetch(inner, completion, reason));
                Ok(())
            },
        )
    }
}

/// The task of one fetch: requests a token (refresh token first when there is one), caches it,
/// and hands the result to the waiters.
async fn run_fetch(inner: Arc<Inner>, completion: Completion, reason: Reason) {
    let entry = &inner.entry;
    let client_id = entry.key.client_id();
    let refresh_token = entry.refresh_token.lock().clone();
    let result = inner.fetcher.fetch(refresh_token).await;
    let result = result.and_then(|fetched| store(&inner, fetched));
    m::fetch(client_id, result.is_ok(), reason.as_str());
    if let Err(e) = &result {
        tracing::warn!(client_id, reason = reason.as_str(), error = %e, "token fetch failed");
        // Keep serving the current token; try the background refresh again after a pause.
        if let Some(c) = entry.state.load().as_ref() {
            let pause = match e.cause() {
                Error::RateLimited {
                    retry_after: Some(d),
                    ..
                } => *d,
                _ if e.is_permanent() => {
                    inner.fetcher.retry.max_backoff.max(Duration::from_secs(30))
                }
                _ => inner.fetcher.retry.max_backoff,
            };
            c.refresh_gate
                .store(entry.nanos(after(Instant::now(), pause)), Ordering::Relaxed);
        }
    }
    completion.finish(result);
}

fn store(inner: &Inner, fetched: FetchedToken) -> Result<AccessToken, Error> {
    let entry = &inner.entry;
    let FetchedToken {
        response,
        lifetime,
        received_at,
        grant_type,
        lifetime_source,
        ..
    } = fetched;
    {
        let mut rt = entry.refresh_token.lock();
        match response.refresh_token {
            Some(new) => *rt = Some(SecretString::from(new)),
            // RFC 6749 §6: without a new refresh token, the old one stays valid.
            None if grant_type == GrantType::RefreshToken => {}
            None => *rt = None,
        }
    }
    let token = AccessToken::new(
        SecretString::from(response.access_token),
        response.scope,
        lifetime,
        received_at,
    )
    .ok_or_else(|| Error::MalformedResponse {
        url: entry.key.endpoint().to_owned(),
        status: 200,
        detail: "the access_token has characters that cannot go in an HTTP header".into(),
    })?;
    let schedule = inner.refresh.schedule(received_at, lifetime);
    entry.state.store(Some(Arc::new(Cached {
        token: token.clone(),
        refresh_at: schedule.refresh_at,
        usable_until: schedule.usable_until,
        refresh_gate: AtomicU64::new(entry.nanos(schedule.refresh_at)),
    })));
    m::lifetime(entry.key.client_id(), lifetime);
    entry.publish_expiry();
    tracing::info!(
        client_id = %entry.key.client_id(),
        key = %entry.key.short_id(),
        grant_type = grant_type.as_str(),
        lifetime_s = lifetime.as_secs(),
        lifetime_source = ?lifetime_source,
        "fetched a new access token"
    );
    Ok(token)
}

/// `now` + `pause`, or as late as an `Instant` goes when that overflows: the server chose the
/// pause (`Retry-After`), and may send any number of seconds.
fn after(now: Instant, pause: Duration) -> Instant {
    now.checked_add(pause)
        .or_else(|| now.checked_add(Duration::from_secs(100 * 365 * 86_400)))
        .unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pause_of_any_length_gives_an_instant() {
        let now = Instant::now();
        assert_eq!(
            after(now, Duration::from_secs(5)),
            now + Duration::from_secs(5)
        );
        for huge in [Duration::MAX, Duration::from_secs(u64::MAX)] {
            assert!(after(now, huge) > now + Duration::from_secs(86_400));
        }
    }
}
