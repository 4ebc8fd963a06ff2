//! Serving the router on the listener (HTTP/1.1 and HTTP/2 with hyper-util's server, see
//! `tessera_serve`), and shutting down gracefully.

use crate::app;
use crate::state::SharedState;
use axum::extract::ConnectInfo;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpListener;
use tower::Layer;

/// Serves `listener` within the `[http]` limits, over TLS with `tls`, until `shutdown`
/// completes; then stops accepting, closes idle connections, and waits up to `grace` for the
/// requests in flight.
/// Connections are counted in `tessera_connections_open` and, when refused at
/// `http.max_connections`, in `tessera_connections_refused_total`.
pub(crate) async fn serve(
    listener: TcpListener,
    tls: Option<tessera_serve::TlsAcceptor>,
    state: SharedState,
    shutdown: impl Future<Output = ()> + Send,
    grace: Duration,
) {
    let settings = state.config.http.serving(tessera_serve::ConnectionMetrics {
        open: metrics::gauge!("tessera_connections_open"),
        refused: metrics::counter!("tessera_connections_refused_total"),
    });
    let router = app::router(state);
    // Every connection's requests carry its peer's address, for `RemoteAddr`.
    let make_service = move |peer: SocketAddr| {
        TowerToHyperService::new(axum::Extension(ConnectInfo(peer)).layer(router.clone()))
    };
    let shutdown = async {
        shutdown.await;
        tracing::info!("shutting down: no new connections");
    };
    let server = tessera_serve::Server::new(&settings);
    let accept = async {
        match tls {
            Some(tls) => server.accept_tls(listener, tls, make_service).await,
            None => server.accept(listener, make_service).await,
        }
    };
    tokio::join!(accept, async {
        shutdown.await;
        server.stop();
    });
    server.drain(grace).await;
}
