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

/// How long a client may take to send a request's headers (slow-loris protection).
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Serves `listener` until `shutdown` completes; then stops accepting, asks open connections to
/// close after their current request, and waits for them up to `grace`.
pub(crate) async fn serve(
    listener: TcpListener,
    state: SharedState,
    shutdown: impl Future<Output = ()> + Send,
    grace: Duration,
) {
    let router = app::router(state);
    let settings = tessera_serve::Settings {
        header_read_timeout: HEADER_READ_TIMEOUT,
        http2_keep_alive_interval: None,
    };
    // Every connection's requests carry its peer's address, for `RemoteAddr`.
    let make_service = move |peer: SocketAddr| {
        TowerToHyperService::new(axum::Extension(ConnectInfo(peer)).layer(router.clone()))
    };
    let shutdown = async {
        shutdown.await;
        tracing::info!("shutting down: finishing in-flight requests");
    };
    tessera_serve::serve(listener, make_service, &settings, shutdown, grace).await;
}
