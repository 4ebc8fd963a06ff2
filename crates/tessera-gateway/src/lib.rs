//! Tessera's gateway: a reverse proxy that puts OAuth 2.0 access tokens on requests for programs
//! that cannot get them, and can guard inbound requests.
//!
//! - **Proxy**: HTTP/1.1 and HTTP/2 in (cleartext) and out (h2c prior knowledge, or ALPN over
//!   TLS with the system's roots or a CA file); bodies stream both ways; hop-by-hop headers are
//!   removed and `X-Forwarded-For/Proto/Host` set; connect and request timeouts; routes by host and
//!   path prefix ([`routes`](crate::config::RouteConfig)).
//! - **Tokens**: per upstream, an `oauth2` block in Couper's words ([`OAuth2Config`]); the token
//!   comes from [`tessera_client`] (one cache entry per credential, shared by the upstreams that use
//!   it, refreshed ahead of expiry) and replaces the inbound `Authorization` header; after an
//!   upstream `401` the token is evicted and the request replayed `retries` times when its body
//!   can be replayed (RFC 6750 §3.1).
//! - **Guard**: per route, inbound requests can be required to carry a valid token
//!   ([`tessera_guard`]), with RFC 6750 §3 answers.
//! - **Operations**: `/healthz`, `/readyz`, `/metrics` (Prometheus, per route); one access log line
//!   per request, with no secret; SIGHUP reloads the configuration without dropping connections
//!   or cached tokens, and a bad file is refused while the old configuration keeps running.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use tessera_gateway::{Gateway, GatewayConfig, Options};
//!
//! let loaded = GatewayConfig::load(std::path::Path::new("gateway.toml"))?;
//! let gateway = Gateway::bind(loaded, Options::default()).await?;
//! let handle = gateway.handle();          // handle.reload().await re-reads the file
//! tokio::spawn(tessera_gateway::reload_on_sighup(handle));
//! gateway.serve(async { let _ = tokio::signal::ctrl_c().await; }).await?;
//! # Ok(()) }
//! ```
//!
//! The file format is described in `docs/gateway.md`.

mod access_log;
mod body;
pub mod config;
#[doc(hidden)]
pub mod fuzzing;
mod headers;
mod health;
mod inbound;
pub mod metrics;
mod oauth2;
mod proxy;
mod reload;
mod resend;
mod routes;
mod run;
mod server;
mod state;
mod upstream;

pub use body::ProxyBody;
pub use config::{
    ConfigError, GatewayConfig, GuardSettings, HttpVersion, LoadedConfig, OAuth2Config,
    RouteConfig, Threading, UpstreamConfig,
};
pub use reload::{GatewayHandle, reload_on_sighup};
pub use run::{RunOptions, check, run};
pub use server::{Gateway, Options, StartError};
