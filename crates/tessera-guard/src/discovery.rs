//! Authorization server metadata (RFC 8414 §3, OpenID Connect Discovery §4): where the JWKS and
//! the introspection endpoint are. Fetched once; failures are retried at most once per cooldown.

use crate::error::UnavailableError;
use crate::fetch;
use arc_swap::ArcSwapOption;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tessera_proto::discovery::{OAUTH_METADATA_PATH, OPENID_CONFIGURATION_PATH, ServerMetadata};

const MAX_METADATA_BYTES: usize = 256 * 1024;

/// The metadata of one issuer, fetched on first need.
pub(crate) struct Discovery {
    issuer: String,
    http: reqwest::Client,
    cooldown: Duration,
    metadata: ArcSwapOption<ServerMetadata>,
    last_failure: tokio::sync::Mutex<Option<(Instant, UnavailableError)>>,
}

impl Discovery {
    pub(crate) fn new(issuer: String, http: reqwest::Client, cooldown: Duration) -> Self {
        Self {
            issuer,
            http,
            cooldown,
            metadata: ArcSwapOption::empty(),
            last_failure: tokio::sync::Mutex::new(None),
        }
    }

    /// The metadata, fetching it if not yet known. Concurrent callers share one fetch; after a
    /// failure, callers within the cooldown get the same error without a new fetch.
    pub(crate) async fn metadata(&self) -> Result<Arc<ServerMetadata>, UnavailableError> {
        if let Some(m) = self.metadata.load_full() {
            return Ok(m);
        }
        let mut last_failure = self.last_failure.lock().await;
        if let Some(m) = self.metadata.load_full() {
            return Ok(m);
        }
        if let Some((at, err)) = &*last_failure
            && at.elapsed() < self.cooldown
        {
            return Err(err.clone());
        }
        match self.fetch().await {
            Ok(m) => {
                let m = Arc::new(m);
                self.metadata.store(Some(Arc::clone(&m)));
                *last_failure = None;
                Ok(m)
            }
            Err(e) => {
                tracing::warn!(issuer = %self.issuer, error = %e, "discovery failed");
                *last_failure = Some((Instant::now(), e.clone()));
                Err(e)
            }
        }
    }

    async fn fetch(&self) -> Result<ServerMetadata, UnavailableError> {
        let mut last = UnavailableError::Discovery("no metadata URL".into());
        for url in metadata_urls(&self.issuer) {
            metrics::counter!("tessera_guard_discovery_fetches_total").increment(1);
            match fetch::get_json(
                &self.http,
                &url,
                "the metadata endpoint",
                MAX_METADATA_BYTES,
            )
            .await
            {
                Ok(f) => {
                    let meta: ServerMetadata = serde_json::from_slice(&f.body).map_err(|e| {
                        UnavailableError::Discovery(format!("the metadata is not valid JSON: {e}"))
                    })?;
                    // RFC 8414 §3.3 / OIDC Discovery §4.3: the issuer must be identical.
                    if meta.issuer != self.issuer {
                        return Err(UnavailableError::Discovery(format!(
                            "the metadata names issuer {:?}, not the configured {:?}",
                            meta.issuer, self.issuer
                        )));
                    }
                    return Ok(meta);
                }
                Err(e) => last = UnavailableError::Discovery(e.to_string()),
            }
        }
        Err(last)
    }
}

/// The OpenID Connect URL (issuer + `/.well-known/openid-configuration`), then the RFC 8414 §3.1
/// one (the well-known segment inserted between host and path).
fn metadata_urls(issuer: &str) -> Vec<String> {
    let trimmed = issuer.trim_end_matches('/');
    let mut urls = vec![format!("{trimmed}{OPENID_CONFIGURATION_PATH}")];
    if let Ok(u) = reqwest::Url::parse(issuer) {
        let path = u.path().trim_end_matches('/');
        let origin = u.origin().ascii_serialization();
        urls.push(format!("{origin}{OAUTH_METADATA_PATH}{path}"));
    }
    urls
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            metadata_urls("https://as.example/tenant/"),
            [
                "https://as.example/tenant/.well-known/openid-configuration",
                "https://as.example/.well-known/oauth-authorization-server/tenant"
            ]
        );
        assert_eq!(
            metadata_urls("http://127.0.0.1:8080"),
            [
                "http://127.0.0.1:8080/.well-known/openid-configuration",
                "http://127.0.0.1:8080/.well-known/oauth-authorization-server"
            ]
        );
    }
}
