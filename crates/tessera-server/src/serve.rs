//! Serving connections: accept, speak HTTP/1.1 and HTTP/2 with hyper, do what every request
//! needs (sensitive headers, the request timeout, panics), answer the token endpoint directly and
//! every other route through the axum router, and shut down gracefully.
//!
//! `POST /oauth2/token` is the request this server exists for, and the one it must answer
//! fastest. It goes straight from hyper to the handler: no route table and no tower layers. What
//! applies to every route is done here, once, for all of them, so the token endpoint gets it
//! without a copy of its own.

use crate::app;
use crate::net::{RemoteAddr, TrustForwardedFor};
use crate::oauth;
use crate::state::SharedState;
use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{Method, Request, Response, header};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tower::ServiceExt;

/// The path of the token endpoint, answered without the router.
const TOKEN_PATH: &str = "/oauth2/token";

/// How long a client may take to send a request's headers (slow-loris protection).
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Serves `listener` until `shutdown` completes; then stops accepting, asks open connections to
/// close after their current request, and waits for them up to `grace`.
pub(crate) async fn serve(
    listener: TcpListener,
    state: SharedState,
    shutdown: impl Future<Output = ()> + Send,
    grace: Duration,
) -> std::io::Result<()> {
    let conn = Connections::new(state);
    let (stop_tx, mut stop) = watch::channel(false);
    // Ends (dropping the listener, so new connections are refused) once `stop` changes, and
    // hands back the tracker of the connections still open.
    let accepting = async move {
        let graceful = GracefulShutdown::new();
        while let Some((stream, peer)) = accept_next(&listener, &mut stop).await {
            conn.serve(stream, peer, &graceful);
        }
        graceful
    };
    let mut accepting = pin!(accepting);
    let graceful = tokio::select! {
        () = shutdown => {
            tracing::info!("shutting down: finishing in-flight requests");
            let _ = stop_tx.send(true);
            accepting.await
        }
        g = &mut accepting => g,
    };
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(grace) => {
            tracing::warn!("grace period over; closing remaining connections");
        }
    }
    Ok(())
}

/// The next connection (with `TCP_NODELAY` set), or `None` once `stop` changes. Failed accepts
/// (out of file descriptors and the like) are logged and retried after a pause, not spun on.
async fn accept_next(
    listener: &TcpListener,
    stop: &mut watch::Receiver<bool>,
) -> Option<(TcpStream, SocketAddr)> {
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stop.changed() => return None,
        };
        match accepted {
            Ok((stream, peer)) => {
                let _ = stream.set_nodelay(true);
                return Some((stream, peer));
            }
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
}

/// What every connection is served with.
struct Connections {
    state: SharedState,
    router: Router,
    builder: auto::Builder<TokioExecutor>,
}

impl Connections {
    fn new(state: SharedState) -> Self {
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_READ_TIMEOUT)
            .keep_alive(true);
        builder.http2().timer(TokioTimer::new());
        Self {
            router: app::router(state.clone()),
            builder,
            state,
        }
    }

    /// Serves one connection on its own task, watched by `graceful`.
    fn serve(&self, stream: TcpStream, peer: SocketAddr, graceful: &GracefulShutdown) {
        let (state, router) = (self.state.clone(), self.router.clone());
        let service = service_fn(move |req: Request<Incoming>| {
            let (state, router) = (state.clone(), router.clone());
            async move { Ok::<_, Infallible>(respond(state, router, req, peer).await) }
        });
        let conn = self
            .builder
            .serve_connection(TokioIo::new(stream), service)
            .into_owned();
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, %peer, "connection ended with an error");
            }
        });
    }
}

/// Answers one request, whatever its route: `Authorization` and `Cookie` marked sensitive before
/// anything could log them; the token endpoint called directly, every other route through the
/// router; `503` after the request timeout; `500` for a panic (a bug) rather than a dropped
/// connection.
async fn respond(
    state: SharedState,
    router: Router,
    mut req: Request<Incoming>,
    peer: SocketAddr,
) -> Response<Body> {
    for name in [header::AUTHORIZATION, header::COOKIE] {
        if let header::Entry::Occupied(mut e) = req.headers_mut().entry(name) {
            for v in e.iter_mut() {
                v.set_sensitive(true);
            }
        }
    }
    let timeout = app::request_timeout(&state);
    let answered = async move {
        if req.method() == Method::POST && req.uri().path() == TOKEN_PATH {
            let (parts, body) = req.into_parts();
            let trust = TrustForwardedFor(state.config.http.trust_forwarded_for);
            let remote = RemoteAddr::resolve(&parts.headers, peer, trust);
            oauth::token::token(State(state), remote, parts.headers, Body::new(body)).await
        } else {
            let mut req = req.map(Body::new);
            req.extensions_mut().insert(ConnectInfo(peer));
            match router.oneshot(req).await {
                Ok(resp) => resp,
                Err(never) => match never {},
            }
        }
    };
    match tokio::time::timeout(timeout, catch_panic(answered)).await {
        Ok(Ok(resp)) => resp,
        Ok(Err(())) => app::panic_response(),
        Err(_) => app::timeout_response(),
    }
}

/// Runs `fut`, turning a panic while it is polled into `Err` (and a log line) rather than a
/// dropped connection.
async fn catch_panic<T>(fut: impl Future<Output = T>) -> Result<T, ()> {
    let mut fut = pin!(fut);
    std::future::poll_fn(move |cx| {
        match std::panic::catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(cx))) {
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(_) => {
                tracing::error!("a request handler panicked; answering 500");
                Poll::Ready(Err(()))
            }
        }
    })
    .await
}

#[cfg(test)]
#[allow(clippy::panic)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_becomes_an_error_not_an_unwinding_task() {
        let r = catch_panic(async {
            if TOKEN_PATH.len() > 1 {
                panic!("boom");
            }
            1
        })
        .await;
        assert!(r.is_err());
        assert_eq!(catch_panic(async { 2 }).await, Ok(2));
    }
}
