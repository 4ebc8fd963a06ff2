//! Serving connections with hyper-util's server, and shutting down gracefully.

use crate::accept::{Limit, accept_next};
use crate::connection::{Deadlines, Phase, drive, wait_for};
use crate::in_flight::Tracker;
use crate::service;
use crate::settings::{HTTP2_KEEP_ALIVE_TIMEOUT, Settings};
use hyper::body::{Body, Incoming};
use hyper::service::Service;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use std::error::Error as StdError;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::time::Instant;

/// The smallest read buffer hyper's HTTP/1.1 server takes.
const MIN_HTTP1_BUFFER: usize = 8192;

/// Listeners served with one set of [`Settings`] and shut down together.
///
/// Lifecycle: [`accept`](Self::accept) each listener (the futures run concurrently, typically
/// with `tokio::join!`), call [`stop`](Self::stop) to make every accept end, then
/// [`drain`](Self::drain) once they have ended.
pub struct Server {
    builder: Arc<auto::Builder<TokioExecutor>>,
    settings: Settings,
    /// Told to every connection: serving, draining, closing. Each connection holds a receiver
    /// until it ends, so the sender sees when all have.
    phase: watch::Sender<Phase>,
    /// Set to `true` by [`stop`](Self::stop): the accept loops end.
    stop: watch::Sender<bool>,
    /// Requests in flight on all the connections.
    in_flight: Arc<AtomicUsize>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("connections", &self.phase.receiver_count())
            .field("in_flight", &self.in_flight.load(Ordering::Relaxed))
            .field("stopped", &*self.stop.borrow())
            .finish_non_exhaustive()
    }
}

impl Server {
    /// A server whose connections speak HTTP/1.1 (with keep-alive) or HTTP/2, as the client's
    /// first bytes say, within `settings`.
    /// Raises the process's open-files limit, within its hard limit, so that `max_connections`
    /// fit (logging when it did, or when it could not).
    pub fn new(settings: &Settings) -> Self {
        crate::open_files::ensure_logged(settings.max_connections);
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(settings.header_read_timeout)
            .max_buf_size(settings.max_header_bytes.max(MIN_HTTP1_BUFFER))
            .keep_alive(true);
        builder
            .http2()
            .timer(TokioTimer::new())
            .max_header_list_size(u32::try_from(settings.max_header_bytes).unwrap_or(u32::MAX))
            .keep_alive_interval(settings.http2_keep_alive_interval)
            .keep_alive_timeout(HTTP2_KEEP_ALIVE_TIMEOUT);
        Self {
            builder: Arc::new(builder),
            settings: settings.clone(),
            phase: watch::Sender::new(Phase::Serving),
            stop: watch::Sender::new(false),
            in_flight: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Accepts connections on `listener` until [`stop`](Self::stop) (then drops it, so that new
    /// connections are refused), serving each on a task of its own with the service
    /// `make_service` returns for the peer's address. At most `max_connections` are served at
    /// once; more are closed as soon as accepted.
    pub async fn accept<M, S, B>(&self, listener: TcpListener, make_service: M)
    where
        M: FnMut(SocketAddr) -> S,
        S: Service<Request<Incoming>, Response = Response<B>> + Send + 'static,
        S::Future: Send + 'static,
        S::Error: Into<Box<dyn StdError + Send + Sync>>,
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn StdError + Send + Sync>>,
    {
        self.accept_on(listener, None, make_service).await;
    }

    /// As [`accept`](Self::accept), with TLS: each connection's handshake with `tls` comes
    /// first, within the connection's first deadline (`header_read_timeout`, which the first
    /// request then has what is left of) and counted against `max_connections`; HTTP/2 or
    /// HTTP/1.1 follows, as ALPN chose (see [`ServerCertificate::acceptor`](crate::ServerCertificate::acceptor)).
    pub async fn accept_tls<M, S, B>(
        &self,
        listener: TcpListener,
        tls: tokio_rustls::TlsAcceptor,
        make_service: M,
    ) where
        M: FnMut(SocketAddr) -> S,
        S: Service<Request<Incoming>, Response = Response<B>> + Send + 'static,
        S::Future: Send + 'static,
        S::Error: Into<Box<dyn StdError + Send + Sync>>,
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn StdError + Send + Sync>>,
    {
        self.accept_on(listener, Some(tls), make_service).await;
    }

    async fn accept_on<M, S, B>(
        &self,
        listener: TcpListener,
        tls: Option<tokio_rustls::TlsAcceptor>,
        mut make_service: M,
    ) where
        M: FnMut(SocketAddr) -> S,
        S: Service<Request<Incoming>, Response = Response<B>> + Send + 'static,
        S::Future: Send + 'static,
        S::Error: Into<Box<dyn StdError + Send + Sync>>,
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn StdError + Send + Sync>>,
    {
        let deadlines = Deadlines {
            first_request: self.settings.header_read_timeout,
            idle: self.settings.idle_timeout,
        };
        let mut limit = Limit::new(self.settings.max_connections, self.settings.metrics.clone());
        let max_header_bytes = self.settings.max_header_bytes;
        let mut stop = self.stop.subscribe();
        while let Some((stream, peer, admitted)) =
            accept_next(&listener, &mut stop, &mut limit).await
        {
            let accepted = Instant::now();
            let (tracker, activity) = Tracker::new(Arc::clone(&self.in_flight));
            let service = service::wrap(make_service(peer), tracker, max_header_bytes);
            let mut phase = self.phase.subscribe();
            let Some(tls) = &tls else {
                let conn = self
                    .builder
                    .serve_connection(TokioIo::new(stream), service)
                    .into_owned();
                tokio::spawn(async move {
                    drive(conn, activity, phase, deadlines, peer, accepted).await;
                    drop(admitted);
                });
                continue;
            };
            let handshake = tls.accept(stream);
            let builder = Arc::clone(&self.builder);
            tokio::spawn(async move {
                let _admitted = admitted;
                let deadline = accepted + deadlines.first_request;
                let stream = tokio::select! {
                    done = tokio::time::timeout_at(deadline, handshake) => match done {
                        Ok(Ok(stream)) => stream,
                        Ok(Err(e)) => {
                            tracing::debug!(error = %e, %peer, "TLS handshake failed");
                            return;
                        }
                        Err(_) => {
                            tracing::debug!(%peer, "TLS handshake not finished within the header read timeout");
                            return;
                        }
                    },
                    () = wait_for(&mut phase, Phase::Draining) => return,
                };
                let conn = builder
                    .serve_connection(TokioIo::new(stream), service)
                    .into_owned();
                drive(conn, activity, phase, deadlines, peer, accepted).await;
            });
        }
    }

    /// Makes every [`accept`](Self::accept) end; the connections already accepted go on being
    /// served.
    pub fn stop(&self) {
        self.stop.send_replace(true);
    }

    /// Closes every connection with no request in flight at once, and the others once their
    /// requests are answered, waiting at most `grace`; connections still open then are dropped.
    pub async fn drain(self, grace: Duration) {
        self.stop();
        tracing::info!(
            connections = self.phase.receiver_count(),
            in_flight = self.in_flight.load(Ordering::Relaxed),
            "closing idle connections; waiting for the requests in flight"
        );
        self.phase.send_replace(Phase::Draining);
        tokio::select! {
            () = self.phase.closed() => tracing::info!("all connections closed"),
            () = tokio::time::sleep(grace) => {
                tracing::warn!(
                    grace_s = grace.as_secs_f64(),
                    in_flight = self.in_flight.load(Ordering::Relaxed),
                    "requests still in flight after the grace period; closing their connections"
                );
                self.phase.send_replace(Phase::Closing);
                self.phase.closed().await;
            }
        }
    }
}

/// Serves `listener` (see [`Server::accept`]) until `shutdown` completes, then stops accepting
/// and lets the requests in flight finish within `grace` (see [`Server::drain`]).
pub async fn serve<M, S, B>(
    listener: TcpListener,
    make_service: M,
    settings: &Settings,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) where
    M: FnMut(SocketAddr) -> S,
    S: Service<Request<Incoming>, Response = Response<B>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn StdError + Send + Sync>>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    let server = Server::new(settings);
    tokio::join!(server.accept(listener, make_service), async {
        shutdown.await;
        server.stop();
    });
    server.drain(grace).await;
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use http_body_util::Full;
    use std::convert::Infallible;
    use std::pin::Pin;
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;
    use tokio::sync::{Notify, oneshot};

    fn settings() -> Settings {
        Settings {
            header_read_timeout: Duration::from_secs(5),
            ..Settings::default()
        }
    }

    /// A service that says when a request has arrived and answers it once `release` is notified.
    #[derive(Clone, Default)]
    struct Held {
        arrived: Arc<Notify>,
        release: Arc<Notify>,
    }

    impl Service<Request<Incoming>> for Held {
        type Response = Response<Full<Bytes>>;
        type Error = Infallible;
        type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

        fn call(&self, _req: Request<Incoming>) -> Self::Future {
            let this = self.clone();
            Box::pin(async move {
                this.arrived.notify_one();
                this.release.notified().await;
                Ok(Response::new(Full::new(Bytes::from_static(b"done"))))
            })
        }
    }

    const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nhost: x\r\n\r\n";

    #[tokio::test]
    async fn shutdown_waits_for_the_request_in_flight_then_stops() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let held = Held::default();
        let (shutdown_tx, shutdown_rx) = oneshot::channel::<()>();
        let serving = tokio::spawn({
            let held = held.clone();
            let make = move |_| held.clone();
            async move {
                let shutdown = async {
                    let _ = shutdown_rx.await;
                };
                serve(
                    listener,
                    make,
                    &settings(),
                    shutdown,
                    Duration::from_secs(30),
                )
                .await;
            }
        });
        let mut client = TcpStream::connect(addr).await.unwrap();
        client.write_all(REQUEST).await.unwrap();
        held.arrived.notified().await;
        let mut idle = TcpStream::connect(addr).await.unwrap();
        idle.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
        shutdown_tx.send(()).unwrap();
        // Accepting stops (the listener is dropped) while the request is still in flight.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(addr).await.is_ok() {
            assert!(tokio::time::Instant::now() < deadline, "still accepting");
            tokio::task::yield_now().await;
        }
        // The connection with no request in flight is closed without waiting for the other.
        let mut nothing = Vec::new();
        let closed =
            tokio::time::timeout(Duration::from_secs(10), idle.read_to_end(&mut nothing)).await;
        assert!(closed.is_ok(), "the idle connection is still open");
        assert!(
            !serving.is_finished(),
            "stopped before the request was answered"
        );
        held.release.notify_one();
        let mut answer = String::new();
        client.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.ends_with("done"), "{answer}");
        tokio::time::timeout(Duration::from_secs(10), serving)
            .await
            .expect("serving ends once the request is answered")
            .unwrap();
    }

    #[tokio::test]
    async fn a_request_still_in_flight_after_the_grace_period_is_dropped() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let held = Held::default();
        let server = Server::new(&settings());
        let make = |_| held.clone();
        let client = async {
            let mut client = TcpStream::connect(addr).await.unwrap();
            client.write_all(REQUEST).await.unwrap();
            held.arrived.notified().await;
            server.stop();
            client
        };
        let ((), mut client) = tokio::join!(server.accept(listener, make), client);
        server.drain(Duration::from_millis(50)).await;
        // The connection is closed without an answer.
        let mut answer = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(10), client.read_to_end(&mut answer))
            .await
            .expect("the connection is closed");
        assert!(read.is_err() || answer.is_empty(), "{answer:?}");
    }
}
