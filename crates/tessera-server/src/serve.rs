//! Serving connections: accept, hand each to a serving thread (one per core), speak HTTP/1.1 and
//! HTTP/2 with hyper, do what every request needs (sensitive headers, the request timeout, panics), answer the token endpoint directly and
//! every other route through the axum router, and shut down gracefully.
//!
//! `POST /oauth2/token` is the request this server exists for, and the one it must answer
//! fastest. It goes straight from hyper to the handler: no route table and no tower layers. What
//! applies to every route is done here, once, for all of them, so the token endpoint gets it
//! without a copy of its own.

use crate::app;
use crate::config::Threading;
use crate::net::{RemoteAddr, TrustForwardedFor};
use crate::oauth;
use crate::state::SharedState;
use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderValue, Method, Request, Response, StatusCode, Version, header};
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
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;
use tessera_serve::{ServingThreads, accept_next};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tower::ServiceExt;

/// The path of the token endpoint, answered without the router.
const TOKEN_PATH: &str = "/oauth2/token";

/// How long a client may take to send a request's headers (slow-loris protection).
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Serves `listener` until `shutdown` completes; then stops accepting, asks open connections to
/// close after their current request, and waits for them up to `grace`.
///
/// With `http.threading = "per_core"` (the default) connections are accepted here and served on
/// one single-threaded runtime per core ([`ServingThreads`]); with `shared`, on this runtime.
pub(crate) async fn serve(
    listener: TcpListener,
    state: SharedState,
    shutdown: impl Future<Output = ()> + Send,
    grace: Duration,
) -> std::io::Result<()> {
    let threading = state.config.http.threading;
    let conn = Arc::new(Connections::new(state));
    let graceful = Arc::new(GracefulShutdown::new());
    let threads = match threading {
        Threading::PerCore => {
            let (conn, graceful) = (Arc::clone(&conn), Arc::clone(&graceful));
            Some(ServingThreads::start(
                threading.serving_threads(),
                "tessera-http",
                |_| {},
                move |stream, peer, open| conn.serve(stream, peer, &graceful, open),
            )?)
        }
        Threading::Shared => None,
    };
    let (stop_tx, mut stop) = watch::channel(false);
    // Ends (dropping the listener, so new connections are refused) once `stop` changes.
    let accepting = async move {
        while let Some((stream, peer)) = accept_next(&listener, &mut stop).await {
            match &threads {
                Some(t) => t.hand(stream, peer),
                None => conn.serve(stream, peer, &graceful, ()),
            }
        }
        (threads, graceful)
    };
    let mut accepting = pin!(accepting);
    let (mut threads, graceful) = tokio::select! {
        () = shutdown => {
            tracing::info!("shutting down: finishing in-flight requests");
            let _ = stop_tx.send(true);
            accepting.await
        }
        done = &mut accepting => done,
    };
    if let Some(t) = &mut threads {
        // Every thread drops its handle on the tracker, so it can be taken out of the Arc.
        t.stop_accepting().await;
    }
    tessera_serve::drain(graceful, grace, threads).await;
    Ok(())
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

    /// Serves one connection on its own task on the current runtime, watched by `graceful`;
    /// `open` is held until the connection ends.
    fn serve(
        &self,
        stream: TcpStream,
        peer: SocketAddr,
        graceful: &GracefulShutdown,
        open: impl Send + 'static,
    ) {
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
            drop(open);
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
    let http1 = req.version() <= Version::HTTP_11;
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
    let mut resp = match tokio::time::timeout(timeout, catch_panic(answered)).await {
        Ok(Ok(resp)) => resp,
        Ok(Err(())) => app::panic_response(),
        Err(_) => app::timeout_response(),
    };
    if http1 && resp.status() == StatusCode::PAYLOAD_TOO_LARGE {
        // The rest of the oversized body is never read, so this connection cannot carry another
        // request; saying so keeps the client from sending its next one on it.
        resp.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    resp
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
