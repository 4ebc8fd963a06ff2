//! The listeners: accept connections, serve HTTP/1.1 and HTTP/2 (cleartext, prior knowledge) on
//! each with hyper, and shut down gracefully (no new connections, in-flight requests finish
//! within the grace period).

use crate::config::{ConfigError, LoadedConfig, Threading};
use crate::headers::ClientAddr;
use crate::health;
use crate::metrics::Metrics;
use crate::oauth2::Credentials;
use crate::proxy;
use crate::reload::GatewayHandle;
use crate::state::{Shared, State};
use arc_swap::ArcSwap;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use metrics_exporter_prometheus::PrometheusHandle;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tessera_serve::{ServingThreads, accept_next};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

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
    threading: Threading,
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
        let shared = Arc::new(Shared {
            state: ArcSwap::from_pointee(state),
            credentials,
            metrics,
            config_path: loaded.path.clone(),
            reload_lock: tokio::sync::Mutex::new(()),
            admin_separate: admin_listener.is_some(),
            shutdown_grace: loaded.config.gateway.shutdown_grace,
            header_read_timeout: loaded.config.gateway.header_read_timeout,
        });
        Ok(Self {
            shared,
            listener,
            admin_listener,
            threading: loaded.config.gateway.threading,
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
        let (stop_tx, stop_rx) = watch::channel(false);
        let graceful = Arc::new(GracefulShutdown::new());
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(self.shared.header_read_timeout)
            .keep_alive(true);
        builder
            .http2()
            .timer(TokioTimer::new())
            .keep_alive_interval(Some(Duration::from_secs(30)));
        let (serving, shared_loop) = match self.threading {
            Threading::PerCore => {
                let threads = start_serving_threads(&self.shared, &builder, &graceful)?;
                let hand_out = tokio::spawn(hand_out(self.listener, threads, stop_rx.clone()));
                (Some(hand_out), None)
            }
            Threading::Shared => {
                let proxy_loop = tokio::spawn(accept_loop(
                    self.listener,
                    Arc::clone(&self.shared),
                    builder.clone(),
                    Arc::clone(&graceful),
                    stop_rx.clone(),
                    false,
                ));
                (None, Some(proxy_loop))
            }
        };
        let admin_loop = self.admin_listener.map(|l| {
            tokio::spawn(accept_loop(
                l,
                Arc::clone(&self.shared),
                builder.clone(),
                Arc::clone(&graceful),
                stop_rx.clone(),
                true,
            ))
        });
        shutdown.await;
        tracing::info!("shutting down: no new connections; waiting for requests in flight");
        let _ = stop_tx.send(true);
        // The serving threads stop taking connections (dropping their share of the tracker);
        // their connections go on being served until the grace period ends.
        let mut threads = None;
        if let Some(hand_out) = serving
            && let Ok(mut t) = hand_out.await
        {
            t.stop_accepting().await;
            threads = Some(t);
        }
        if let Some(p) = shared_loop {
            let _ = p.await;
        }
        if let Some(a) = admin_loop {
            let _ = a.await;
        }
        tessera_serve::drain(graceful, self.shared.shutdown_grace, threads).await;
        Ok(())
    }
}

/// Serves the proxy listener on one thread per core, each with its own single-threaded Tokio
/// runtime, as nginx runs one worker per core: a connection, its requests and the upstream
/// connections they use (each thread has its own pool, see [`crate::upstream::HttpClients`]) stay
/// on one thread, so a request never waits for another thread to be woken. [`hand_out`] gives
/// each new connection to the thread with the fewest open, so the threads share the load evenly.
fn start_serving_threads(
    shared: &Arc<Shared>,
    builder: &auto::Builder<TokioExecutor>,
    graceful: &Arc<GracefulShutdown>,
) -> std::io::Result<ServingThreads> {
    let (shared, builder, graceful) = (Arc::clone(shared), builder.clone(), Arc::clone(graceful));
    ServingThreads::start(
        Threading::PerCore.serving_threads(),
        "tessera-gw",
        crate::upstream::set_serving_thread,
        move |stream, peer, open| {
            serve_connection(stream, peer, &shared, &builder, &graceful, false, open);
        },
    )
}

/// Accepts proxy connections until `stop` and hands each to a serving thread; gives the threads
/// back when it ends.
async fn hand_out(
    listener: TcpListener,
    threads: ServingThreads,
    mut stop: watch::Receiver<bool>,
) -> ServingThreads {
    while let Some((stream, peer)) = accept_next(&listener, &mut stop).await {
        threads.hand(stream, peer);
    }
    threads
}

/// Serves one connection on the current runtime, watched by `graceful`; `open` is held until it
/// ends.
fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    shared: &Arc<Shared>,
    builder: &auto::Builder<TokioExecutor>,
    graceful: &GracefulShutdown,
    admin: bool,
    open: impl Send + 'static,
) {
    let shared = Arc::clone(shared);
    let client = Arc::new(ClientAddr::new(peer));
    let service = service_fn(move |req| {
        let shared = Arc::clone(&shared);
        let client = Arc::clone(&client);
        async move {
            if admin {
                Ok::<_, Infallible>(health::admin(&shared, &req))
            } else {
                Ok::<_, Infallible>(proxy::handle(shared, req, &client).await)
            }
        }
    });
    let conn = builder
        .serve_connection(TokioIo::new(stream), service)
        .into_owned();
    let conn = graceful.watch(conn);
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            tracing::debug!(error = %e, %peer, "connection ended with an error");
        }
        drop(open);
    });
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    builder: auto::Builder<TokioExecutor>,
    graceful: Arc<GracefulShutdown>,
    mut stop: watch::Receiver<bool>,
    admin: bool,
) {
    loop {
        let Some((stream, peer)) = accept_next(&listener, &mut stop).await else {
            return;
        };
        serve_connection(stream, peer, &shared, &builder, &graceful, admin, ());
    }
}
