//! Finding the token endpoint from an issuer: OpenID Connect Discovery 1.0 §4
//! (`{issuer}/.well-known/openid-configuration`) then RFC 8414 §3
//! (`/.well-known/oauth-authorization-server` inserted before the issuer's path).

use crate::Error;
use reqwest::Url;
use std::time::Duration;
use tessera_proto::discovery::{OAUTH_METADATA_PATH, OPENID_CONFIGURATION_PATH, ServerMetadata};

/// The metadata URLs tried for `issuer`, in order: OpenID Connect Discovery §4.1 appends the
/// well-known path to the issuer; RFC 8414 §3.1 inserts it between host and path.
pub(crate) fn metadata_urls(issuer: &Url) -> Vec<Url> {
    let path = issuer.path().trim_end_matches('/');
    let mut urls = Vec::with_capacity(2);
    let mut oidc = issuer.clone();
    oidc.set_path(&format!("{path}{OPENID_CONFIGURATION_PATH}"));
    urls.push(oidc);
    let mut oauth = issuer.clone();
    oauth.set_path(&format!("{OAUTH_METADATA_PATH}{path}"));
    urls.push(oauth);
    urls
}

fn same_issuer(a: &str, b: &str) -> bool {
    // RFC 8414 §3.3 asks for identical values; a lone trailing slash is the one difference
    // tolerated, because `Url` normalises an empty path to `/`.
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

/// Fetches and checks the metadata of `issuer` (RFC 8414 §3.3: its `issuer` must be the one
/// asked for; it must name a `token_endpoint`).
pub async fn discover(
    http: &reqwest::Client,
    issuer: &Url,
    timeout: Duration,
) -> Result<ServerMetadata, Error> {
    let mut failures = Vec::new();
    for url in metadata_urls(issuer) {
        let resp = match http
            .get(url.clone())
            .header(http::header::ACCEPT, "application/json")
            .timeout(timeout)
            .send()
            .await
        {
            Ok(r) => r,
            Err(e) => {
                let err = Error::from_reqwest(url.as_str(), timeout, &e);
                // Unreachable or TLS: the other URL is on the same host; report now.
                if matches!(
                    err,
                    Error::Unreachable { .. } | Error::Tls { .. } | Error::Timeout { .. }
                ) {
                    return Err(err);
                }
                failures.push(format!("{url}: {err}"));
                continue;
            }
        };
        let status = resp.status();
        if !status.is_success() {
            failures.push(format!("{url}: HTTP {}", status.as_u16()));
            continue;
        }
        let body = match resp.bytes().await {
            Ok(b) => b,
            Err(e) => {
                failures.push(format!("{url}: {e}"));
                continue;
            }
        };
        let meta: ServerMetadata = match serde_json::from_slice(&body) {
            Ok(m) => m,
            Err(e) => {
                failures.push(format!("{url}: not metadata JSON ({e})"));
                continue;
            }
        };
        if !same_issuer(&meta.issuer, issuer.as_str()) {
            return Err(Error::Discovery {
                issuer: issuer.to_string(),
                detail: format!(
                    "{url} names issuer {:?}, not {issuer} (RFC 8414 §3.3: refusing it)",
                    meta.issuer
                ),
            });
        }
        if meta.token_endpoint.is_none() {
            return Err(Error::Discovery {
                issuer: issuer.to_string(),
                detail: format!("{url} names no token_endpoint"),
            });
        }
        tracing::debug!(%issuer, metadata = %url, "discovered authorization server metadata");
        return Ok(meta);
    }
    Err(Error::Discovery {
        issuer: issuer.to_string(),
        detail: failures.join("; "),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn well_known_urls() {
        let u = metadata_urls(&Url::parse("https://as.example/tenant/a").unwrap());
        assert_eq!(
            u[0].as_str(),
            "https://as.example/tenant/a/.well-known/openid-configuration"
        );
        assert_eq!(
            u[1].as_str(),
            "https://as.example/.well-known/oauth-authorization-server/tenant/a"
        );
        let u = metadata_urls(&Url::parse("https://as.example").unwrap());
        assert_eq!(
            u[0].as_str(),
            "https://as.example/.well-known/openid-configuration"
        );
        assert_eq!(
            u[1].as_str(),
            "https://as.example/.well-known/oauth-authorization-server"
        );
    }
}
