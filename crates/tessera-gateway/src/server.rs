//! The listeners: accept connections, serve HTTP/1.1 and HTTP/2 (cleartext, prior knowledge) on
//! each with hyper-util's server (`tessera_serve`), and shut down gracefully (no new connections,
//! in-flight requests finish within the grace period).

use crate::config::{ConfigError, LoadedConfig, ServerConfig};
use crate::headers::ClientAddr;
use crate::health;
use crate::metrics::Metrics;
use crate::oauth2::Credentials;
use crate::proxy;
use crate::reload::GatewayHandle;
use crate::state::{Shared, State};
use arc_swap::ArcSwap;
use hyper::service::service_fn;
use metrics_exporter_prometheus::PrometheusHandle;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The configuration was refused.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A listener could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// Options that are not in the configuration file.
#[derive(Debug, Default, Clone)]
pub struct Options {
    /// The `metrics` facade's Prometheus handle, rendered after the gateway's own metrics at
    /// `/metrics` (see [`crate::metrics::install_recorder`]).
    pub prometheus: Option<PrometheusHandle>,
}

/// A gateway with its listeners bound, ready to [`serve`](Gateway::serve).
pub struct Gateway {
    shared: Arc<Shared>,
    listener: TcpListener,
    admin_listener: Option<TcpListener>,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("listen", &self.local_addr())
            .field("admin", &self.admin_addr())
            .finish_non_exhaustive()
    }
}

impl Gateway {
    /// Builds the configuration (reading secrets, keys and CA files; guards start fetching
    /// keys, upstream tokens are fetched in the background) and binds the listeners. Must run in
    /// a Tokio runtime.
    pub async fn bind(loaded: LoadedConfig, options: Options) -> Result<Self, StartError> {
        let credentials = Credentials::default();
        let metrics = Metrics::new(options.prometheus);
        let state = State::build(&loaded, None, &credentials, &metrics)?;
        metrics.set_routes(state.route_count());
        let listen = loaded.config.gateway.listen;
        let listener = TcpListener::bind(listen)
            .await
            .map_err(|source| StartError::Bind {
                addr: listen,
                source,
            })?;
        let admin_listener = match loaded.config.gateway.admin_listen {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .map_err(|source| StartError::Bind { addr, source })?,
            ),
            None => None,
        };
        state.warm_up();
        let serving = serving(&loaded.config.gateway, &metrics);
        let shared = Arc::new(Shared {
            state: ArcSwap::from_pointee(state),
            credentials,
            metrics,
            config_path: loaded.path.clone(),
            reload_lock: tokio::sync::Mutex::new(()),
            admin_separate: admin_listener.is_some(),
            shutdown_grace: loaded.config.gateway.shutdown_grace,
            serving,
        });
        Ok(Self {
            shared,
            listener,
            admin_listener,
        })
    }

    /// The proxy listener's address (the port really bound when the configuration said 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// The admin listener's address, when there is one.
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
    }

    /// A handle to reload the configuration while the gateway serves.
    pub fn handle(&self) -> GatewayHandle {
        GatewayHandle::new(Arc::clone(&self.shared))
    }

    /// Serves until `shutdown` completes, then stops accepting and lets in-flight requests and
    /// open connections finish within the grace period.
    pub async fn serve(self, shutdown: impl Future<Output = ()> + Send) -> std::io::Result<()> {
        let server = tessera_serve::Server::new(&self.shared.serving);
        // What serves each connection of the proxy listener, or of the admin listener.
        let service = |admin: bool| {
            let shared = Arc::clone(&self.shared);
            move |peer: SocketAddr| {
                let shared = Arc::clone(&shared);
                let client = Arc::new(ClientAddr::new(peer));
                service_fn(move |req| {
                    let shared = Arc::clone(&shared);
                    let client = Arc::clone(&client);
                    async move {
                        if admin {
                            Ok::<_, Infallible>(health::admin(&shared, &req))
                        } else {
                            Ok::<_, Infallible>(proxy::handle(shared, req, &client).await)
                        }
                    }
                })
            }
        };
        let proxy = server.accept(self.listener, service(false));
        let admin = async {
            if let Some(l) = self.admin_listener {
                server.accept(l, service(true)).await;
            }
        };
        let stopping = async {
            shutdown.await;
            tracing::info!("shutting down: no new connections");
            server.stop();
        };
        tokio::join!(proxy, admin, stopping);
        server.drain(self.shared.shutdown_grace).await;
        Ok(())
    }
}

/// The limits of `[gateway]` that connections are served under, counted in `metrics`.
fn serving(config: &ServerConfig, metrics: &Metrics) -> tessera_serve::Settings {
    tessera_serve::Settings {
        header_read_timeout: config.header_read_timeout,
        idle_timeout: config.idle_timeout,
        http2_keep_alive_interval: Some(config.http2_keep_alive_interval),
        max_header_bytes: config.max_header_bytes,
        max_connections: config.max_connections,
        metrics: metrics.connections(),
    }
}
