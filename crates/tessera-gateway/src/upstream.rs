//! The way to an upstream: its base URL, and hyper-util's pooled client for every transport:
//! HTTP/1.1 or HTTP/2 with prior knowledge (h2c) over plain `http`, and TLS (rustls, with the
//! system's roots or only those of a CA file; HTTP/2 or HTTP/1.1 as ALPN decides).

use crate::body::ProxyBody;
use crate::config::{HttpVersion, UpstreamConfig};
use http::uri::{Authority, PathAndQuery, Scheme};
use http::{Request, Response, Uri};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// The client of one transport setting.
pub(crate) type HttpClient = Client<HttpsConnector<HttpConnector>, ProxyBody>;

/// The most idle connections a pool keeps to one upstream (scheme and authority).
const MAX_IDLE_PER_HOST: usize = 512;

/// The clients of one transport setting: a pooled one, and one without a pool for a request sent
/// again on a new connection ([`crate::resend`]).
#[derive(Clone)]
pub(crate) struct HttpClients {
    pooled: HttpClient,
    fresh: HttpClient,
}

impl HttpClients {
    /// Sends `req` (its URI absolute) with the pooled client, and again on a new connection when
    /// [`crate::resend`] says so.
    pub(crate) async fn send(
        &self,
        req: Request<ProxyBody>,
    ) -> Result<Response<ProxyBody>, hyper_util::client::legacy::Error> {
        let resp = crate::resend::send(&self.pooled, &self.fresh, req).await?;
        Ok(resp.map(ProxyBody::Stream))
    }
}

/// What makes two upstreams able to share a client (and its pool): equal keys.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct TransportKey {
    tls: bool,
    version: HttpVersion,
    /// The CA file's content, so a reload notices a changed file.
    ca_pem: Option<Vec<u8>>,
    connect_timeout: Duration,
    pool_idle_timeout: Duration,
}

impl TransportKey {
    /// The key of an upstream's settings (reads its CA file).
    pub(crate) fn of(name: &str, cfg: &UpstreamConfig) -> Result<Self, String> {
        let ca_pem = match &cfg.ca_file {
            Some(p) => Some(std::fs::read(p).map_err(|e| {
                format!("upstream {name}: cannot read ca_file {}: {e}", p.display())
            })?),
            None => None,
        };
        Ok(Self {
            tls: cfg.url.starts_with("https://"),
            version: cfg.http_version,
            ca_pem,
            connect_timeout: cfg.connect_timeout,
            pool_idle_timeout: cfg.pool_idle_timeout,
        })
    }

    /// Builds the clients of this transport.
    pub(crate) fn clients(&self) -> Result<HttpClients, String> {
        let connector = self.connector()?;
        Ok(HttpClients {
            pooled: self.client(connector.clone(), MAX_IDLE_PER_HOST),
            fresh: self.client(connector, 0),
        })
    }

    /// The connector: TCP without Nagle delay, with the connect timeout and TCP keep-alive; TLS
    /// for `https` with the versions `http_version` allows offered by ALPN.
    fn connector(&self) -> Result<HttpsConnector<HttpConnector>, String> {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(self.connect_timeout));
        http.set_keepalive(Some(Duration::from_secs(60)));
        let builder = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(self.tls_config()?)
            .https_or_http();
        Ok(match self.version {
            HttpVersion::Auto => builder.enable_all_versions().wrap_connector(http),
            HttpVersion::Http1 => builder.enable_http1().wrap_connector(http),
            HttpVersion::Http2 => builder.enable_http2().wrap_connector(http),
        })
    }

    /// A client over `connector` keeping at most `max_idle` idle connections per upstream for
    /// `pool_idle_timeout` (none: every request on a new connection).
    fn client(&self, connector: HttpsConnector<HttpConnector>, max_idle: usize) -> HttpClient {
        let mut b = Client::builder(TokioExecutor::new());
        b.pool_idle_timeout(self.pool_idle_timeout)
            .pool_max_idle_per_host(max_idle)
            .pool_timer(TokioTimer::new())
            .timer(TokioTimer::new())
            .http2_keep_alive_interval(Some(Duration::from_secs(30)))
            .http2_keep_alive_while_idle(false);
        if self.version == HttpVersion::Http2 {
            b.http2_only(true);
        }
        b.build(connector)
    }

    fn tls_config(&self) -> Result<rustls::ClientConfig, String> {
        let mut roots = rustls::RootCertStore::empty();
        if let Some(pem) = &self.ca_pem {
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(pem)
                .collect::<Result<_, _>>()
                .map_err(|e| format!("ca_file: not a PEM certificate file: {e}"))?;
            if certs.is_empty() {
                return Err("ca_file holds no certificate".into());
            }
            let (added, _ignored) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err("ca_file holds no usable certificate".into());
            }
        } else if self.tls {
            roots.add_parsable_certificates(system_roots().iter().cloned());
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        Ok(rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS set-up: {e}"))?
            .with_root_certificates(roots)
            .with_no_client_auth())
    }
}

/// The platform's trust anchors, read once.
fn system_roots() -> &'static [CertificateDer<'static>] {
    static ROOTS: OnceLock<Vec<CertificateDer<'static>>> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let found = rustls_native_certs::load_native_certs();
        if !found.errors.is_empty() {
            tracing::warn!(
                errors = found.errors.len(),
                "some system CA certificates could not be read"
            );
        }
        found.certs
    })
}

/// Where requests to an upstream go: scheme, authority and a base path put before the request's
/// path.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    scheme: Scheme,
    authority: Authority,
    /// Without trailing `/`; empty for none.
    base_path: String,
}

impl Target {
    /// Parses the upstream's `url` (already checked by the configuration).
    pub(crate) fn parse(url: &str) -> Result<Self, String> {
        let uri: Uri = url.parse().map_err(|e| format!("url {url:?}: {e}"))?;
        let parts = uri.into_parts();
        let scheme = parts
            .scheme
            .ok_or_else(|| format!("url {url:?} has no scheme"))?;
        let authority = parts
            .authority
            .ok_or_else(|| format!("url {url:?} has no host"))?;
        let base_path = parts
            .path_and_query
            .map(|p| p.path().trim_end_matches('/').to_owned())
            .unwrap_or_default();
        Ok(Self {
            scheme,
            authority,
            base_path,
        })
    }

    /// The upstream URI of a request whose path (after any prefix stripping) is `path`.
    pub(crate) fn uri(&self, path: &str, query: Option<&str>) -> Result<Uri, http::Error> {
        let mut pq = String::with_capacity(
            self.base_path.len() + path.len() + query.map_or(0, |q| q.len() + 1),
        );
        pq.push_str(&self.base_path);
        pq.push_str(path);
        if let Some(q) = query {
            pq.push('?');
            pq.push_str(q);
        }
        let mut parts = http::uri::Parts::default();
        parts.scheme = Some(self.scheme.clone());
        parts.authority = Some(self.authority.clone());
        parts.path_and_query = Some(PathAndQuery::from_maybe_shared(bytes::Bytes::from(pq))?);
        Ok(Uri::from_parts(parts)?)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn joins_base_path_path_and_query() {
        let t = Target::parse("http://127.0.0.1:9000/v1/").unwrap();
        assert_eq!(
            t.uri("/items", Some("a=1")).unwrap().to_string(),
            "http://127.0.0.1:9000/v1/items?a=1"
        );
        let t = Target::parse("https://api.example").unwrap();
        assert_eq!(
            t.uri("/", None).unwrap().to_string(),
            "https://api.example/"
        );
    }
}
