//! The way to an upstream: its base URL, and pooled connections: the gateway's own pool
//! ([`Http1Pool`]) for HTTP/1.1 over plain `http`, hyper-util's legacy client for HTTP/2 with
//! prior knowledge (h2c) and for TLS (rustls, with the system's roots or only those of a CA file;
//! HTTP/2 or HTTP/1.1 as ALPN decides).

use crate::body::ProxyBody;
use crate::config::{HttpVersion, UpstreamConfig};
use crate::pool::{Http1Pool, SendError};
use http::uri::{Authority, PathAndQuery, Scheme};
use http::{HeaderValue, Request, Response, Uri};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// The pooled client of one transport setting.
pub(crate) type HttpClient = Client<HttpsConnector<HttpConnector>, ProxyBody>;

/// One pool per serving thread (see `server::start_serving_threads`): a connection's task runs
/// on the runtime of the thread that opened it, so each thread keeps to its own pool.
#[derive(Clone)]
pub(crate) enum HttpClients {
    /// The gateway's own pools, for plain-`http` HTTP/1.1 transports.
    Http1(Arc<[Arc<Http1Pool>]>),
    /// hyper-util's pooled client, for TLS and HTTP/2.
    HyperUtil(Arc<[HttpClient]>),
}

thread_local! {
    /// Which serving thread this is; 0 on threads that are not serving threads.
    static SERVING_THREAD: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// The current serving thread's item of `per_thread` (the first on any other thread).
fn this_threads<T>(per_thread: &[T]) -> Option<&T> {
    let thread = SERVING_THREAD.with(std::cell::Cell::get);
    per_thread.get(thread).or_else(|| per_thread.first())
}

impl HttpClients {
    /// Sends `req` (its URI absolute) with the current thread's pool or client.
    pub(crate) async fn send(
        &self,
        req: Request<ProxyBody>,
    ) -> Result<Response<ProxyBody>, SendError> {
        let none = || SendError::Connect("no HTTP client was built".into());
        match self {
            Self::Http1(pools) => this_threads(pools).ok_or_else(none)?.send(req).await,
            Self::HyperUtil(clients) => {
                let client = this_threads(clients).ok_or_else(none)?;
                Ok(client.request(req).await?.map(ProxyBody::Stream))
            }
        }
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

    /// Whether requests over this transport always go over HTTP/1.1: `http_version = "http1"`, or
    /// `auto` over plain `http` (no ALPN to pick HTTP/2 there).
    pub(crate) fn always_http1(&self) -> bool {
        match self.version {
            HttpVersion::Http1 => true,
            HttpVersion::Http2 => false,
            HttpVersion::Auto => !self.tls,
        }
    }

    /// Builds a pool for each of `threads` serving threads: the gateway's own for plain `http`
    /// over HTTP/1.1, hyper-util's client otherwise.
    pub(crate) fn clients(&self, threads: usize) -> Result<HttpClients, String> {
        let threads = threads.max(1);
        if !self.tls && self.always_http1() {
            return Ok(HttpClients::Http1(
                (0..threads)
                    .map(|_| Http1Pool::new(self.connector(), self.pool_idle_timeout))
                    .collect(),
            ));
        }
        Ok(HttpClients::HyperUtil(
            (0..threads)
                .map(|_| self.client())
                .collect::<Result<Vec<_>, _>>()?
                .into(),
        ))
    }

    /// The TCP connector: no Nagle delay, the connect timeout, TCP keep-alive.
    fn connector(&self) -> HttpConnector {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(self.connect_timeout));
        http.set_keepalive(Some(Duration::from_secs(60)));
        http
    }

    /// Builds the client.
    fn client(&self) -> Result<HttpClient, String> {
        let http = self.connector();
        let tls = self.tls_config()?;
        let builder = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http();
        let connector = match self.version {
            HttpVersion::Auto => builder.enable_all_versions().wrap_connector(http),
            HttpVersion::Http1 => builder.enable_http1().wrap_connector(http),
            HttpVersion::Http2 => builder.enable_http2().wrap_connector(http),
        };
        let mut b = Client::builder(TokioExecutor::new());
        b.pool_idle_timeout(self.pool_idle_timeout)
            .pool_timer(TokioTimer::new())
            .timer(TokioTimer::new())
            .http2_keep_alive_interval(Some(Duration::from_secs(30)))
            .http2_keep_alive_while_idle(false);
        if self.version == HttpVersion::Http2 {
            b.http2_only(true);
        }
        Ok(b.build(connector))
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

    /// The `Host` header naming this upstream: its host, and its port unless it is the scheme's
    /// default (RFC 9110 §7.2), as hyper's pooled client would write it.
    pub(crate) fn host_header(&self) -> Option<HeaderValue> {
        let default_port = if self.scheme == Scheme::HTTPS {
            443
        } else {
            80
        };
        let host = self.authority.host();
        match self.authority.port_u16() {
            Some(p) if p != default_port => HeaderValue::try_from(format!("{host}:{p}")).ok(),
            _ => HeaderValue::from_str(host).ok(),
        }
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

    #[test]
    fn the_host_header_leaves_out_a_default_port() {
        let host = |url: &str| Target::parse(url).unwrap().host_header().unwrap();
        assert_eq!(host("http://127.0.0.1:9000/v1/"), "127.0.0.1:9000");
        assert_eq!(host("http://api.example:80"), "api.example");
        assert_eq!(host("https://api.example:443/x"), "api.example");
        assert_eq!(host("https://api.example:80"), "api.example:80");
        assert_eq!(host("http://[::1]:8080"), "[::1]:8080");
    }
}
