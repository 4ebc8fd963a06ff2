//! The configuration file (`gateway.toml`, described in `docs/gateway.md`): the listener, the
//! upstreams with their `oauth2` blocks, and the routes with their optional inbound guard.
//!
//! Parsing checks the shape (unknown keys are errors, so a typo is not silently ignored) and the
//! cross references; building the running state ([`crate::state`]) then reads secrets, keys and CA
//! files, so a configuration that parses but names a missing secret is still refused as a whole.

mod oauth2;

pub use oauth2::{DEFAULT_TOKEN_TIMEOUT, KeyConfig, OAuth2Config, OneOrMany, SigningProfileConfig};

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tessera_client::config::SecretRef;
pub use tessera_serve::Threading;

/// Why a configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The TOML is malformed or has unknown or mistyped keys.
    #[error("{path}: {message}")]
    Parse {
        /// The file (or `<inline>`).
        path: String,
        /// The parser's message, with the line and column.
        message: String,
    },
    /// A value is not acceptable.
    #[error("{0}")]
    Invalid(String),
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8081))
}

fn default_max_replay_body() -> usize {
    64 * 1024
}

fn default_shutdown_grace() -> Duration {
    Duration::from_secs(10)
}

fn default_header_read_timeout() -> Duration {
    tessera_serve::Settings::default().header_read_timeout
}

fn default_idle_timeout() -> Duration {
    tessera_serve::Settings::default().idle_timeout
}

fn default_http2_keep_alive_interval() -> Duration {
    Duration::from_secs(30)
}

fn default_max_header_bytes() -> usize {
    tessera_serve::Settings::default().max_header_bytes
}

fn default_max_connections() -> usize {
    tessera_serve::Settings::default().max_connections
}

fn yes() -> bool {
    true
}

/// The `[gateway]` section: where it listens and how it treats requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Address of the proxy listener (HTTP/1.1 and HTTP/2 cleartext). Default `127.0.0.1:8081`.
    /// Changing it needs a restart; a reload keeps the bound socket.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// A separate listener for `/healthz`, `/readyz` and `/metrics`; when unset they are answered
    /// on the proxy listener (before any route).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_listen: Option<SocketAddr>,
    /// The largest request body kept in memory to replay it after an upstream `401`
    /// (default 64 KiB). Bigger bodies, and bodies of unknown length, are streamed and not
    /// replayed.
    #[serde(default = "default_max_replay_body")]
    pub max_replay_body: usize,
    /// Keep inbound `X-Forwarded-Proto` and `X-Forwarded-Host` (set by a trusted proxy in front)
    /// instead of replacing them. `X-Forwarded-For` is always appended to.
    #[serde(default)]
    pub trust_forwarded_headers: bool,
    /// How long in-flight requests may take to finish at shutdown (default 10 s).
    #[serde(default = "default_shutdown_grace", with = "tessera_proto::duration")]
    pub shutdown_grace: Duration,
    /// How long a new connection has to start its first request (the HTTP/2 preface included),
    /// and an HTTP/1.1 request head to arrive after the connection opened or answered its
    /// previous request; the connection is closed then (default 10 s).
    #[serde(
        default = "default_header_read_timeout",
        with = "tessera_proto::duration"
    )]
    pub header_read_timeout: Duration,
    /// How long an HTTP/2 connection stays open with no request in flight before it is asked to
    /// close with `GOAWAY` (default 60 s).
    #[serde(default = "default_idle_timeout", with = "tessera_proto::duration")]
    pub idle_timeout: Duration,
    /// How often an HTTP/2 client is pinged to check that it is still there; one ping
    /// unanswered for 20 s closes the connection (default 30 s).
    #[serde(
        default = "default_http2_keep_alive_interval",
        with = "tessera_proto::duration"
    )]
    pub http2_keep_alive_interval: Duration,
    /// Largest request head (request line and headers; HTTP/2 header list) in bytes; a bigger
    /// one gets `431` and its connection is closed (default 32768).
    #[serde(default = "default_max_header_bytes")]
    pub max_header_bytes: usize,
    /// Connections each listener serves at once; more are closed as soon as accepted
    /// (default 4096).
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Accepted (`per_core` or `shared`) so that existing files still load; no effect (see
    /// [`Threading`]).
    #[serde(default)]
    pub threading: Threading,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: default_listen(),
            admin_listen: None,
            max_replay_body: default_max_replay_body(),
            trust_forwarded_headers: false,
            shutdown_grace: default_shutdown_grace(),
            header_read_timeout: default_header_read_timeout(),
            idle_timeout: default_idle_timeout(),
            http2_keep_alive_interval: default_http2_keep_alive_interval(),
            max_header_bytes: default_max_header_bytes(),
            max_connections: default_max_connections(),
            threading: Threading::default(),
        }
    }
}

/// Log line format.
pub use tessera_log::Format as LogFormat;

fn default_level() -> String {
    "info".into()
}

/// The `[log]` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// One line per request (target `tessera_gateway::access`). Default on.
    #[serde(default = "yes")]
    pub access_log: bool,
    /// `text` or `json` (read at start only).
    #[serde(default)]
    pub format: LogFormat,
    /// A `tracing` filter (read at start only; `RUST_LOG` wins).
    #[serde(default = "default_level")]
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            access_log: true,
            format: LogFormat::Text,
            level: default_level(),
        }
    }
}

/// Which HTTP version the gateway speaks to an upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HttpVersion {
    /// `https`: HTTP/2 or HTTP/1.1 as ALPN decides; `http`: HTTP/1.1.
    #[default]
    Auto,
    /// HTTP/1.1 only.
    Http1,
    /// HTTP/2 only: prior knowledge (h2c) for `http`, ALPN `h2` for `https`.
    Http2,
}

fn default_connect_timeout() -> Duration {
    Duration::from_secs(10)
}

fn default_request_timeout() -> Duration {
    Duration::from_secs(60)
}

fn default_pool_idle_timeout() -> Duration {
    Duration::from_secs(90)
}

/// An `[upstreams.NAME]` section: a server requests are forwarded to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamConfig {
    /// Base URL: `http://host:port` or `https://host:port`, optionally with a path prefix that is
    /// put before the request path.
    pub url: String,
    /// `auto` (default), `http1` or `http2`.
    #[serde(default)]
    pub http_version: HttpVersion,
    /// Trust only the certificates of this PEM file (instead of the system's roots); `https` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// TCP connect timeout (default 10 s).
    #[serde(default = "default_connect_timeout", with = "tessera_proto::duration")]
    pub connect_timeout: Duration,
    /// From sending the request to receiving the response head (default 60 s); the response body
    /// then streams without a deadline.
    #[serde(default = "default_request_timeout", with = "tessera_proto::duration")]
    pub request_timeout: Duration,
    /// How long an idle pooled connection is kept (default 90 s).
    #[serde(
        default = "default_pool_idle_timeout",
        with = "tessera_proto::duration"
    )]
    pub pool_idle_timeout: Duration,
    /// The token the gateway puts on requests to this upstream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth2: Option<OAuth2Config>,
}

/// Introspection settings of a route guard (for opaque tokens, RFC 7662).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntrospectionSettings {
    /// The guard's own client id.
    pub client_id: String,
    /// Its secret (`{ env = … }`, `{ file = … }`).
    pub client_secret: SecretRef,
    /// The introspection endpoint (default: from discovery).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// The longest an answer is cached (default 30 s).
    #[serde(
        default,
        with = "tessera_proto::duration::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_cache: Option<Duration>,
}

/// A route's `guard` block: inbound requests must carry a valid bearer token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuardSettings {
    /// The issuer whose tokens are accepted (keys found by discovery unless `jwks_uri`).
    pub issuer: String,
    /// Accepted audiences: a token's `aud` must name one.
    pub audiences: OneOrMany,
    /// Scopes every request on the route needs: `"a b"` or `["a", "b"]`.
    #[serde(default)]
    pub scopes: OneOrMany,
    /// Fetch the keys from here instead of discovery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// Clock leeway for `exp`, `nbf`, `iat` (default 30 s).
    #[serde(
        default,
        with = "tessera_proto::duration::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub leeway: Option<Duration>,
    /// The `realm` of challenges (default: the first audience).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub realm: Option<String>,
    /// Also accept JWTs typed `JWT` or untyped (servers that predate RFC 9068).
    #[serde(default)]
    pub accept_untyped_jwt: bool,
    /// Allow an `http://` issuer that is not on loopback.
    #[serde(default)]
    pub allow_insecure_http: bool,
    /// Verify opaque tokens by introspection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introspection: Option<IntrospectionSettings>,
    /// The longest token accepted, in bytes (default 16384, at least 1024); a longer one is
    /// refused `401 invalid_token` unread. Raise it with the issuer's limit (Tessera:
    /// `tokens.max_jwt_bytes`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_token_bytes: Option<usize>,
}

/// A `[[routes]]` entry: which requests go to which upstream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// The route's name in metrics and logs (default: its path prefix, with its host).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Match this `Host` (HTTP/1.1) or `:authority` (HTTP/2) only, case-insensitive, port ignored;
    /// `*.example.com` matches any subdomain. Default: any host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Match paths equal to this prefix or below it, on a segment boundary (`/api` matches
    /// `/api` and `/api/x`, not `/apix`). Default `/`.
    #[serde(default = "default_prefix")]
    pub path_prefix: String,
    /// Remove the prefix before forwarding (`/api/x` → upstream path `/x`). Default false.
    #[serde(default)]
    pub strip_prefix: bool,
    /// The upstream's name.
    pub upstream: String,
    /// Inbound protection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guard: Option<GuardSettings>,
}

fn default_prefix() -> String {
    "/".into()
}

impl RouteConfig {
    /// The route's name: `name`, else `host` + `path_prefix`.
    pub fn display_name(&self) -> String {
        match (&self.name, &self.host) {
            (Some(n), _) => n.clone(),
            (None, Some(h)) => format!("{h}{}", self.path_prefix),
            (None, None) => self.path_prefix.clone(),
        }
    }
}

/// The whole configuration file.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayConfig {
    /// The listener.
    #[serde(default)]
    pub gateway: ServerConfig,
    /// Logging.
    #[serde(default)]
    pub log: LogConfig,
    /// Upstreams by name.
    #[serde(default)]
    pub upstreams: BTreeMap<String, UpstreamConfig>,
    /// Routes; the most specific match wins (see [`crate::routes`]).
    #[serde(default)]
    pub routes: Vec<RouteConfig>,
}

/// A configuration with where it came from.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    /// The configuration.
    pub config: GatewayConfig,
    /// The file, if it came from one.
    pub path: Option<PathBuf>,
    /// Whether only its owner can read the file (inline secrets are allowed only then).
    pub private: bool,
}

impl GatewayConfig {
    /// Parses TOML text and checks it (`origin` names it in errors).
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, ConfigError> {
        let config: GatewayConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: origin.to_owned(),
            message: e.to_string().trim_end().to_owned(),
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Reads and checks a file.
    pub fn load(path: &Path) -> Result<LoadedConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let config = Self::from_toml(&text, &path.display().to_string())?;
        Ok(LoadedConfig {
            config,
            path: Some(path.to_owned()),
            private: is_private(path),
        })
    }

    /// Checks what can be checked without reading secrets or the network: URLs, prefixes, names
    /// and references.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: String| Err(ConfigError::Invalid(m));
        let g = &self.gateway;
        if g.header_read_timeout.is_zero()
            || g.idle_timeout.is_zero()
            || g.http2_keep_alive_interval.is_zero()
            || g.max_connections == 0
            || g.max_header_bytes < 1024
        {
            return bad(
                "gateway: header_read_timeout, idle_timeout, http2_keep_alive_interval \
                 and max_connections must be above 0, max_header_bytes at least 1024"
                    .into(),
            );
        }
        for (name, u) in &self.upstreams {
            let url = http::Uri::try_from(u.url.as_str())
                .map_err(|e| ConfigError::Invalid(format!("upstream {name}: url: {e}")))?;
            match url.scheme_str() {
                Some("http") if u.ca_file.is_some() => {
                    return bad(format!(
                        "upstream {name}: ca_file is for https upstreams, the url is http"
                    ));
                }
                Some("http" | "https") => {}
                _ => {
                    return bad(format!(
                        "upstream {name}: url must start with http:// or https://"
                    ));
                }
            }
            if url.host().is_none_or(str::is_empty) {
                return bad(format!("upstream {name}: url has no host"));
            }
            if url.query().is_some() || u.url.contains('#') {
                return bad(format!(
                    "upstream {name}: url may hold a path but no query or fragment"
                ));
            }
            if u.connect_timeout.is_zero() || u.request_timeout.is_zero() {
                return bad(format!("upstream {name}: timeouts must be above zero"));
            }
            if let Some(o) = &u.oauth2 {
                o.check(&self.upstreams)
                    .map_err(|e| ConfigError::Invalid(format!("upstream {name}: oauth2: {e}")))?;
            }
        }
        if self.routes.is_empty() {
            return bad("no [[routes]]: the gateway would answer 404 to everything".into());
        }
        let mut names = HashSet::new();
        let mut matches = HashSet::new();
        for r in &self.routes {
            let name = r.display_name();
            if !r.path_prefix.starts_with('/') {
                return bad(format!("route {name}: path_prefix must start with /"));
            }
            if !self.upstreams.contains_key(&r.upstream) {
                return bad(format!(
                    "route {name}: no upstream named {:?} (known: {})",
                    r.upstream,
                    self.upstreams
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            if let Some(h) = &r.host
                && (h.is_empty() || h.contains('/'))
            {
                return bad(format!("route {name}: host {h:?} is not a host name"));
            }
            if !names.insert(name.clone()) {
                return bad(format!("two routes are named {name:?}"));
            }
            let key = (
                r.host.as_deref().map(str::to_ascii_lowercase),
                r.path_prefix.trim_end_matches('/').to_owned(),
            );
            if !matches.insert(key) {
                return bad(format!(
                    "route {name}: another route has the same host and path_prefix"
                ));
            }
            if let Some(g) = &r.guard
                && g.audiences.to_vec().is_empty()
            {
                return bad(format!("route {name}: guard.audiences is empty"));
            }
            if let Some(n) = r.guard.as_ref().and_then(|g| g.max_token_bytes)
                && n < tessera_guard::MIN_MAX_TOKEN_LEN
            {
                return bad(format!(
                    "route {name}: guard.max_token_bytes {n} is below {}: ordinary tokens would be refused",
                    tessera_guard::MIN_MAX_TOKEN_LEN
                ));
            }
        }
        if self.gateway.admin_listen == Some(self.gateway.listen) && self.gateway.listen.port() != 0
        {
            return bad("gateway.admin_listen must differ from gateway.listen".into());
        }
        Ok(())
    }
}

#[cfg(unix)]
fn is_private(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 == 0)
}

#[cfg(not(unix))]
fn is_private(_path: &Path) -> bool {
    false
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const GOOD: &str = r#"
        [gateway]
        listen = "127.0.0.1:0"

        [upstreams.billing]
        url = "http://127.0.0.1:9000/v1"
        request_timeout = "5s"

        [upstreams.billing.oauth2]
        token_endpoint = "http://127.0.0.1:8080/oauth2/token"
        client_id = "gw"
        client_secret = { env = "GW_SECRET" }

        [[routes]]
        path_prefix = "/billing"
        strip_prefix = true
        upstream = "billing"
        guard = { issuer = "http://127.0.0.1:8080", audiences = "https://gw.example/", scopes = "a.b.read" }
    "#;

    #[test]
    fn parses_a_full_file() {
        let c = GatewayConfig::from_toml(GOOD, "t").unwrap();
        assert_eq!(
            c.upstreams["billing"].request_timeout,
            Duration::from_secs(5)
        );
        assert_eq!(c.routes[0].display_name(), "/billing");
        assert!(c.log.access_log);
    }

    #[test]
    fn durations_take_every_documented_form() {
        for (text, want) in [
            ("\"250ms\"", Duration::from_millis(250)),
            ("\"10s\"", Duration::from_secs(10)),
            ("\"2m\"", Duration::from_secs(120)),
            ("\"1h\"", Duration::from_secs(3600)),
            ("\"1h 30m\"", Duration::from_secs(5400)),
            ("\"2days\"", Duration::from_secs(172_800)),
            ("\"10\"", Duration::from_secs(10)),
            ("10", Duration::from_secs(10)),
        ] {
            let file = GOOD.replace(
                "request_timeout = \"5s\"",
                &format!("request_timeout = {text}"),
            );
            let c = GatewayConfig::from_toml(&file, "t").unwrap();
            assert_eq!(c.upstreams["billing"].request_timeout, want, "{text}");
        }
        let bad = GOOD.replace("request_timeout = \"5s\"", "request_timeout = \"5x\"");
        let e = GatewayConfig::from_toml(&bad, "t").unwrap_err().to_string();
        assert!(
            e.contains("request_timeout") && e.contains("\"5x\" is not a duration"),
            "{e}"
        );
        // Written back in the same grammar.
        let c = GatewayConfig::from_toml(GOOD, "t").unwrap();
        let json = serde_json::to_value(&c.upstreams["billing"]).unwrap();
        assert_eq!(json["request_timeout"], "5s");
    }

    #[test]
    fn refuses_typos_and_dangling_references() {
        let typo = GOOD.replace("strip_prefix", "strip_prefx");
        let e = GatewayConfig::from_toml(&typo, "t")
            .unwrap_err()
            .to_string();
        assert!(e.contains("strip_prefx"), "{e}");
        let dangling = GOOD.replace("upstream = \"billing\"", "upstream = \"nope\"");
        let e = GatewayConfig::from_toml(&dangling, "t")
            .unwrap_err()
            .to_string();
        assert!(e.contains("no upstream named \"nope\""), "{e}");
        let ftp = GOOD.replace("http://127.0.0.1:9000/v1", "ftp://x");
        assert!(GatewayConfig::from_toml(&ftp, "t").is_err());
        let query = GOOD.replace("9000/v1", "9000/v1?a=b");
        assert!(GatewayConfig::from_toml(&query, "t").is_err());
        let prefix = GOOD.replace("path_prefix = \"/billing\"", "path_prefix = \"billing\"");
        assert!(GatewayConfig::from_toml(&prefix, "t").is_err());
    }
}
