//! The issuer's signing keys (a JWK Set, RFC 7517 §5), kept in memory and fresh:
//!
//! - a token whose `kid` is unknown triggers a refetch, at most once per cooldown, and concurrent
//!   misses wait for that one fetch instead of starting their own;
//! - a background task refreshes the set every `Cache-Control: max-age` (RFC 9111 §5.2.2.1),
//!   clamped to the configured bounds;
//! - when a fetch fails, the last good set keeps serving;
//! - when a key disappears from the set, the verified-token cache is emptied so tokens signed by a
//!   withdrawn key stop being accepted at once.

use crate::cache::TokenCache;
use crate::config::JwksPolicy;
use crate::discovery::Discovery;
use crate::error::{TokenError, UnavailableError, VerifyError};
use crate::fetch;
use arc_swap::ArcSwap;
use http::HeaderMap;
use serde_json::Value;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};
use tessera_jose::{Algorithm, Jwk, JwkSet, VerifyingKey};

const MAX_JWKS_BYTES: usize = 512 * 1024;
/// Keys beyond this many in one set are ignored.
const MAX_KEYS: usize = 100;
/// A token without `kid` is tried against at most this many keys.
const MAX_CANDIDATES: usize = 8;

/// Where the keys come from.
pub(crate) enum Source {
    /// A JWKS URL.
    Uri(String),
    /// The `jwks_uri` of the issuer's metadata.
    Discovery(Arc<Discovery>),
    /// Fixed keys.
    Static,
}

struct Key {
    key: VerifyingKey,
    /// The RFC 7638 thumbprint and `kid`: what identifies a key across fetches.
    identity: (Option<String>, Option<String>),
}

/// One version of the key set.
pub(crate) struct KeySet {
    generation: u64,
    keys: Vec<Key>,
}

impl KeySet {
    fn empty() -> Self {
        Self {
            generation: 0,
            keys: Vec::new(),
        }
    }

    fn from_jwks(generation: u64, set: &JwkSet) -> Self {
        let keys = set
            .keys
            .iter()
            .filter_map(|jwk| match VerifyingKey::from_jwk(jwk) {
                Ok(key) => Some(Key {
                    key,
                    identity: (jwk.thumbprint(), jwk.kid.clone()),
                }),
                Err(e) => {
                    tracing::debug!(kid = ?jwk.kid, error = %e, "JWKS key skipped");
                    None
                }
            })
            .take(MAX_KEYS)
            .collect();
        Self { generation, keys }
    }

    /// The keys that may have signed a token with this `kid` and `alg`: the keys with that `kid`,
    /// or, for a token without `kid`, the first few keys that fit the algorithm.
    pub(crate) fn candidates<'a>(
        &'a self,
        kid: Option<&'a str>,
        alg: Algorithm,
    ) -> impl Iterator<Item = &'a VerifyingKey> + 'a {
        self.keys
            .iter()
            .map(|k| &k.key)
            .filter(move |k| k.supports(alg) && (kid.is_none() || k.kid() == kid))
            .take(MAX_CANDIDATES)
    }

    fn has_candidate(&self, kid: Option<&str>, alg: Algorithm) -> bool {
        self.candidates(kid, alg).next().is_some()
    }
}

struct RefetchState {
    /// When the last refetch for an unknown `kid` started.
    last_miss: Option<Instant>,
    /// The error of the last fetch, if it failed.
    last_error: Option<UnavailableError>,
}

/// The cached key set of one issuer.
pub(crate) struct JwksCache {
    source: Source,
    http: reqwest::Client,
    policy: JwksPolicy,
    current: ArcSwap<KeySet>,
    refetch: tokio::sync::Mutex<RefetchState>,
    tokens: Arc<TokenCache>,
}

impl JwksCache {
    pub(crate) fn new(
        source: Source,
        initial: Option<&JwkSet>,
        http: reqwest::Client,
        policy: JwksPolicy,
        tokens: Arc<TokenCache>,
    ) -> Self {
        let set = match initial {
            Some(s) => KeySet::from_jwks(1, s),
            None => KeySet::empty(),
        };
        Self {
            source,
            http,
            policy,
            current: ArcSwap::from_pointee(set),
            refetch: tokio::sync::Mutex::new(RefetchState {
                last_miss: None,
                last_error: None,
            }),
            tokens,
        }
    }

    /// Whether the keys are fetched at all (not static).
    pub(crate) fn is_remote(&self) -> bool {
        !matches!(self.source, Source::Static)
    }

    /// A key set holding a key for `kid` and `alg`, refetching once if the current one has none.
    pub(crate) async fn keys_for(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
    ) -> Result<Arc<KeySet>, VerifyError> {
        let set = self.current.load_full();
        if set.has_candidate(kid, alg) || !self.is_remote() {
            return Ok(set);
        }
        self.refetch_after_miss(set.generation).await?;
        let set = self.current.load_full();
        if set.has_candidate(kid, alg) {
            Ok(set)
        } else {
            Err(TokenError::UnknownKey.into())
        }
    }

    /// Refetches after a miss in the set of `seen_generation`, unless another fetch already
    /// replaced it, or a miss refetch ran within the cooldown.
    async fn refetch_after_miss(&self, seen_generation: u64) -> Result<(), UnavailableError> {
        let mut st = self.refetch.lock().await;
        if self.current.load().generation != seen_generation {
            return Ok(());
        }
        if let Some(at) = st.last_miss
            && at.elapsed() < self.policy.refetch_cooldown
        {
            return match &st.last_error {
                Some(e) => Err(e.clone()),
                None => Ok(()),
            };
        }
        st.last_miss = Some(Instant::now());
        self.fetch_locked(&mut st).await.map(|_| ())
    }

    /// Fetches the set now (the periodic refresh, and [`Guard::refresh_keys`]); returns the delay
    /// until the next periodic refresh.
    ///
    /// [`Guard::refresh_keys`]: crate::Guard::refresh_keys
    pub(crate) async fn refresh(&self) -> Result<Duration, UnavailableError> {
        let mut st = self.refetch.lock().await;
        let max_age = self.fetch_locked(&mut st).await?;
        let p = &self.policy;
        Ok(max_age
            .unwrap_or(p.default_refresh)
            .clamp(p.min_refresh, p.max_refresh))
    }

    async fn fetch_locked(
        &self,
        st: &mut RefetchState,
    ) -> Result<Option<Duration>, UnavailableError> {
        let r = self.fetch_and_store().await;
        match &r {
            Ok(_) => st.last_error = None,
            Err(e) => {
                tracing::warn!(error = %e, "JWKS fetch failed; the last good key set keeps serving");
                st.last_error = Some(e.clone());
            }
        }
        r
    }

    async fn fetch_and_store(&self) -> Result<Option<Duration>, UnavailableError> {
        let url = match &self.source {
            Source::Uri(u) => u.clone(),
            Source::Discovery(d) => d.metadata().await?.jwks_uri.clone().ok_or_else(|| {
                UnavailableError::Discovery("the metadata has no jwks_uri".into())
            })?,
            Source::Static => return Ok(None),
        };
        metrics::counter!("tessera_guard_jwks_fetches_total").increment(1);
        let fetched = fetch::get_json(&self.http, &url, "the JWKS endpoint", MAX_JWKS_BYTES)
            .await
            .map_err(|e| UnavailableError::Jwks(e.to_string()))?;
        let jwks = parse_jwks(&fetched.body)?;
        let old = self.current.load_full();
        let new = KeySet::from_jwks(old.generation + 1, &jwks);
        if new.keys.is_empty() {
            return Err(UnavailableError::Jwks(
                "the JWKS holds no usable signing key".into(),
            ));
        }
        let removed = old
            .keys
            .iter()
            .any(|k| !new.keys.iter().any(|n| n.identity == k.identity));
        self.current.store(Arc::new(new));
        if removed {
            tracing::info!("a signing key left the JWKS; verified-token cache emptied");
            self.tokens.clear();
        }
        Ok(max_age(&fetched.headers))
    }

    /// Starts the periodic refresh on the current Tokio runtime; it stops when the cache is dropped.
    pub(crate) fn spawn_refresh(
        self: &Arc<Self>,
        first: Duration,
        handle: &tokio::runtime::Handle,
    ) -> tokio::task::AbortHandle {
        let weak = Arc::downgrade(self);
        let min = self.policy.min_refresh;
        handle.spawn(refresh_loop(weak, first, min)).abort_handle()
    }
}

async fn refresh_loop(weak: Weak<JwksCache>, mut delay: Duration, retry: Duration) {
    loop {
        tokio::time::sleep(delay).await;
        let Some(cache) = weak.upgrade() else {
            return;
        };
        delay = cache.refresh().await.unwrap_or(retry);
    }
}

/// Parses a JWK Set, dropping members that are not keys of the JWK shape instead of refusing the
/// whole set (RFC 7517 §5: "implementations SHOULD ignore JWKs within a JWK Set that use kty values
/// that are not understood").
fn parse_jwks(body: &[u8]) -> Result<JwkSet, UnavailableError> {
    let bad = |why: &str| UnavailableError::Jwks(format!("the JWKS is malformed: {why}"));
    let v: Value = serde_json::from_slice(body).map_err(|e| bad(&e.to_string()))?;
    let Some(Value::Array(keys)) = v.get("keys") else {
        return Err(bad("no keys array"));
    };
    Ok(JwkSet {
        keys: keys
            .iter()
            .take(MAX_KEYS * 2)
            .filter_map(|k| serde_json::from_value::<Jwk>(k.clone()).ok())
            .collect(),
    })
}

/// The freshness lifetime of a response (RFC 9111 §4.2.1): `max-age` less `Age`; `no-store` and
/// `no-cache` count as 0 (the refresh bounds then apply).
fn max_age(headers: &HeaderMap) -> Option<Duration> {
    let mut max_age = None;
    for v in headers.get_all(http::header::CACHE_CONTROL) {
        let Ok(v) = v.to_str() else { continue };
        for directive in v.split(',') {
            let d = directive.trim();
            let (name, value) = d.split_once('=').unwrap_or((d, ""));
            if name.eq_ignore_ascii_case("max-age") {
                if let Ok(secs) = value.trim_matches('"').parse::<u64>() {
                    max_age = Some(secs);
                }
            } else if name.eq_ignore_ascii_case("no-store") || name.eq_ignore_ascii_case("no-cache")
            {
                return Some(Duration::ZERO);
            }
        }
    }
    let age = headers
        .get(http::header::AGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(0);
    max_age.map(|m| Duration::from_secs(m.saturating_sub(age)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn cache_control() {
        assert_eq!(max_age(&headers(&[])), None);
        assert_eq!(
            max_age(&headers(&[("cache-control", "public, max-age=600")])),
            Some(Duration::from_secs(600))
        );
        assert_eq!(
            max_age(&headers(&[
                ("cache-control", "max-age=600"),
                ("age", "100")
            ])),
            Some(Duration::from_secs(500))
        );
        assert_eq!(
            max_age(&headers(&[("cache-control", "no-cache")])),
            Some(Duration::ZERO)
        );
        assert_eq!(max_age(&headers(&[("cache-control", "max-age=x")])), None);
    }

    #[test]
    fn lenient_jwks() {
        let set = parse_jwks(br#"{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"},{"kty":5},"x"]}"#);
        assert_eq!(set.map(|s| s.keys.len()), Ok(1));
        assert!(parse_jwks(b"[]").is_err());
        assert!(parse_jwks(b"{").is_err());
    }
}
