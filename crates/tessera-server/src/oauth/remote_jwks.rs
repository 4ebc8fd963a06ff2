//! JWKS published by clients at a `jwks_uri` (for `private_key_jwt`), fetched and cached.

use moka::sync::Cache;
use std::time::{Duration, Instant};
use tessera_jose::{JwkSet, VerifyingKey};

const TTL: Duration = Duration::from_secs(300);

/// Checks a `jwks_uri` before it is registered or configured: an absolute URL without a fragment,
/// `https`, or `http` on a loopback address only (keys fetched in the clear could be swapped).
pub fn check_uri(uri: &str) -> Result<(), String> {
    let url =
        reqwest::Url::parse(uri).map_err(|e| format!("jwks_uri {uri:?} is not a URL: {e}"))?;
    let loopback = url.host_str().is_some_and(|host| {
        host.eq_ignore_ascii_case("localhost")
            || host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    });
    if !(url.scheme() == "https" || (url.scheme() == "http" && loopback)) {
        return Err(format!(
            "jwks_uri {uri:?} must use https (http is accepted only on a loopback address)"
        ));
    }
    if url.fragment().is_some() {
        return Err(format!("jwks_uri {uri:?} may not have a fragment"));
    }
    Ok(())
}
const MIN_REFETCH: Duration = Duration::from_secs(10);
/// The most key sets kept (one per `jwks_uri` in use).
const CAPACITY: u64 = 10_000;

#[derive(Clone)]
struct Entry {
    fetched: Instant,
    keys: Vec<VerifyingKey>,
}

/// A cache of client JWKS by URI (moka's, at most 10,000 sets). A set is refetched after 5 min,
/// and for an unknown `kid` at most every 10 s; the last good set is served while the endpoint is
/// down.
pub struct RemoteJwks {
    http: reqwest::Client,
    cache: Cache<String, Entry>,
}

impl Default for RemoteJwks {
    fn default() -> Self {
        Self::new(reqwest::Client::default())
    }
}

impl std::fmt::Debug for RemoteJwks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteJwks").finish_non_exhaustive()
    }
}

impl RemoteJwks {
    /// A cache using `http` to fetch.
    pub fn new(http: reqwest::Client) -> Self {
        Self {
            http,
            cache: Cache::new(CAPACITY),
        }
    }

    /// The keys at `uri`, refetched when stale or when `kid` is not among them.
    pub async fn keys(&self, uri: &str, kid: Option<&str>) -> Result<Vec<VerifyingKey>, String> {
        let cached = self.cache.get(uri);
        if let Some(e) = &cached {
            let fresh = e.fetched.elapsed() < TTL;
            let has_kid = kid.is_none_or(|k| e.keys.iter().any(|v| v.kid() == Some(k)));
            if fresh && (has_kid || e.fetched.elapsed() < MIN_REFETCH) {
                return Ok(e.keys.clone());
            }
        }
        match self.fetch(uri).await {
            Ok(keys) => {
                self.cache.insert(
                    uri.to_owned(),
                    Entry {
                        fetched: Instant::now(),
                        keys: keys.clone(),
                    },
                );
                Ok(keys)
            }
            // Keep serving the last good set while the endpoint is down.
            Err(e) => cached.map(|c| c.keys).ok_or(e),
        }
    }

    async fn fetch(&self, uri: &str) -> Result<Vec<VerifyingKey>, String> {
        let resp = self
            .http
            .get(uri)
            .header("accept", "application/json")
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .map_err(|e| format!("cannot fetch the client's jwks_uri: {e}"))?;
        if !resp.status().is_success() {
            return Err(format!("the client's jwks_uri answered {}", resp.status()));
        }
        let set: JwkSet = resp
            .json()
            .await
            .map_err(|e| format!("the client's jwks_uri is not a JWK Set: {e}"))?;
        Ok(set
            .keys
            .iter()
            .filter_map(|k| VerifyingKey::from_jwk(k).ok())
            .collect())
    }
}
