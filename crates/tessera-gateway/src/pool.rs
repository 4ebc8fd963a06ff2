//! Keep-alive HTTP/1.1 connections to plain-`http` upstreams, each kept by the serving thread
//! that opened it: hyper's connection API under a pool of the gateway's own.
//!
//! hyper-util's pooled client (still used for TLS and HTTP/2 upstreams) does the same for any
//! transport, but looks connections up by a SipHash of scheme and authority behind a lock every
//! thread shares, and formats the `Host` header itself: together about a sixth of the gateway's
//! instructions per proxied request (`bench/gateway-instructions.sh`). Here each serving thread
//! has its own short list of idle connections, most recently used last; a connection goes back
//! on it once the answer's body has been read to its end, and is dropped if the body was not.
//! Idle connections are closed after the upstream's `pool_idle_timeout`.

use crate::body::ProxyBody;
use bytes::Bytes;
use http::uri::{Authority, PathAndQuery};
use http::{Request, Response, Uri};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::client::legacy::connect::HttpConnector;
use parking_lot::Mutex;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tower_service::Service as _;

/// The most idle connections one serving thread keeps (the oldest goes first).
const MAX_IDLE: usize = 512;

/// How long a kept connection must have been idle before a request sent on it is kept to be
/// sent again should the upstream close the connection unanswered. An upstream closes an idle
/// connection when its keep-alive timeout runs out, a second or more after its last answer; a
/// connection reused sooner is not at that risk, and under load (when connections are reused
/// within microseconds) no request pays for the copy (about 1,500 instructions).
const KEPT_AFTER_IDLE: Duration = Duration::from_millis(100);

type Sender = SendRequest<ProxyBody>;

/// Why a request to the upstream failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SendError {
    /// No connection could be made.
    #[error("cannot connect to the upstream")]
    Connect(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The exchange failed on a connection.
    #[error(transparent)]
    Exchange(#[from] hyper::Error),
    /// hyper-util's pooled client failed.
    #[error(transparent)]
    Pooled(#[from] hyper_util::client::legacy::Error),
}

impl SendError {
    /// Whether no connection could be made.
    pub(crate) fn is_connect(&self) -> bool {
        match self {
            Self::Connect(_) => true,
            Self::Exchange(_) => false,
            Self::Pooled(e) => e.is_connect(),
        }
    }
}

/// An idle connection.
struct Idle {
    authority: Authority,
    sender: Sender,
    since: Instant,
}

/// One serving thread's HTTP/1.1 connections to plain-`http` upstreams.
pub(crate) struct Http1Pool {
    connector: HttpConnector,
    idle_timeout: Duration,
    /// Oldest first.
    idle: Mutex<Vec<Idle>>,
    /// Whether a task is closing expired idle connections.
    reaping: AtomicBool,
}

impl std::fmt::Debug for Http1Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http1Pool")
            .field("idle", &self.idle.lock().len())
            .finish_non_exhaustive()
    }
}

impl Http1Pool {
    /// A pool connecting with `connector`, closing connections idle for `idle_timeout`.
    pub(crate) fn new(connector: HttpConnector, idle_timeout: Duration) -> Arc<Self> {
        Arc::new(Self {
            connector,
            idle_timeout,
            idle: Mutex::new(Vec::new()),
            reaping: AtomicBool::new(false),
        })
    }

    /// Sends `req` (its URI absolute, `http`) on an idle connection to its authority, or on a
    /// new one. A request that an idle connection closed under before it went out is sent on
    /// another; so is one the upstream closed the connection on without answering (a server
    /// whose keep-alive timeout ran out as it arrived), on a new connection, when it can be sent
    /// again: its method is idempotent, it has no body (RFC 9110 §9.2.2), and the connection had
    /// been idle for [`KEPT_AFTER_IDLE`].
    pub(crate) async fn send(
        self: &Arc<Self>,
        req: Request<ProxyBody>,
    ) -> Result<Response<ProxyBody>, SendError> {
        let (mut parts, body) = req.into_parts();
        let authority = parts
            .uri
            .authority()
            .cloned()
            .ok_or_else(|| SendError::Connect("the upstream URI has no authority".into()))?;
        let origin = origin_form(&parts.uri);
        let absolute = std::mem::replace(&mut parts.uri, origin);
        let mut req = Request::from_parts(parts, body);
        let mut only_new = false;
        loop {
            let (mut sender, idle_for) = match self.checkout(&authority).filter(|_| !only_new) {
                Some((s, idle_for)) => (s, Some(idle_for)),
                None => (self.connect(&absolute).await?, None),
            };
            let reused = idle_for.is_some();
            // A connection given back at its answer's end may not have been polled by hyper
            // since; it is ready (or closed) as soon as it is.
            if reused && !sender.is_ready() && sender.ready().await.is_err() {
                continue;
            }
            let again = match idle_for {
                Some(idle_for) if idle_for >= KEPT_AFTER_IDLE => sendable_again(&req),
                _ => None,
            };
            match sender.try_send_request(req).await {
                Ok(resp) => return Ok(self.answer(resp, authority, sender)),
                Err(mut e) => {
                    req = match (e.take_message(), again) {
                        (Some(unsent), _) if reused => unsent,
                        (_, Some(again)) if closed_unanswered(e.error()) => {
                            tracing::debug!(error = %e.error(), "the upstream closed a kept connection as a request went out; sending it again on a new one");
                            only_new = true;
                            again
                        }
                        _ => return Err(SendError::Exchange(e.into_error())),
                    };
                }
            }
        }
    }

    /// The most recently used idle connection to `authority` that is not closed (it may still
    /// be getting ready), and how long it has been idle; expired ones are dropped on the way.
    fn checkout(&self, authority: &Authority) -> Option<(Sender, Duration)> {
        let now = Instant::now();
        let mut idle = self.idle.lock();
        let expired = idle
            .iter()
            .take_while(|i| now.saturating_duration_since(i.since) >= self.idle_timeout)
            .count();
        idle.drain(..expired);
        // The same bytes first: an upstream's URIs all carry the authority of its URL as
        // written, and `Authority`'s own comparison ignores case, a byte at a time.
        let same =
            |i: &Idle| i.authority.as_str() == authority.as_str() || i.authority == *authority;
        while let Some(at) = idle.iter().rposition(same) {
            let found = idle.remove(at);
            if !found.sender.is_closed() {
                return Some((found.sender, now.saturating_duration_since(found.since)));
            }
        }
        None
    }

    async fn connect(&self, uri: &Uri) -> Result<Sender, SendError> {
        let io = self
            .connector
            .clone()
            .call(uri.clone())
            .await
            .map_err(|e| SendError::Connect(e.into()))?;
        let (sender, connection) = http1::Builder::new().handshake(io).await?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "an upstream connection ended with an error");
            }
        });
        Ok(sender)
    }

    /// The upstream's answer, its body holding the connection until read to its end.
    fn answer(
        self: &Arc<Self>,
        resp: Response<Incoming>,
        authority: Authority,
        sender: Sender,
    ) -> Response<ProxyBody> {
        let lease = Lease {
            pool: Arc::downgrade(self),
            authority,
            sender,
        };
        resp.map(|body| {
            let mut body = PooledBody {
                body,
                lease: Some(lease),
            };
            if body.body.is_end_stream() {
                body.give_back(true);
            }
            ProxyBody::Pooled(body)
        })
    }

    /// Keeps `sender` as idle (it is ready for another request).
    fn put(self: &Arc<Self>, authority: Authority, sender: Sender) {
        {
            let mut idle = self.idle.lock();
            if idle.len() >= MAX_IDLE {
                idle.remove(0);
            }
            idle.push(Idle {
                authority,
                sender,
                since: Instant::now(),
            });
        }
        if !self.reaping.swap(true, Ordering::AcqRel) {
            match tokio::runtime::Handle::try_current() {
                Ok(rt) => {
                    rt.spawn(reap(Arc::downgrade(self), self.idle_timeout));
                }
                Err(_) => self.reaping.store(false, Ordering::Release),
            }
        }
    }
}

/// Closes expired idle connections every `idle_timeout` until none is left (or the pool is
/// gone, after a reload that changed the transport).
async fn reap(pool: Weak<Http1Pool>, idle_timeout: Duration) {
    loop {
        tokio::time::sleep(idle_timeout).await;
        let Some(pool) = pool.upgrade() else { return };
        let now = Instant::now();
        let mut idle = pool.idle.lock();
        idle.retain(|i| {
            now.saturating_duration_since(i.since) < idle_timeout && !i.sender.is_closed()
        });
        if idle.is_empty() {
            pool.reaping.store(false, Ordering::Release);
            return;
        }
    }
}

/// A copy of `req` to send again should the connection close under it, if it can be: its
/// method is idempotent and it has no body.
fn sendable_again(req: &Request<ProxyBody>) -> Option<Request<ProxyBody>> {
    if !req.method().is_idempotent() || !req.body().is_end_stream() {
        return None;
    }
    let mut again = Request::new(ProxyBody::empty());
    *again.method_mut() = req.method().clone();
    *again.uri_mut() = req.uri().clone();
    *again.version_mut() = req.version();
    *again.headers_mut() = req.headers().clone();
    Some(again)
}

/// Whether the exchange failed because the upstream closed the connection before any answer
/// (at its end, or by a reset).
fn closed_unanswered(e: &hyper::Error) -> bool {
    use std::io::ErrorKind;
    e.is_incomplete_message()
        || std::error::Error::source(e)
            .and_then(|s| s.downcast_ref::<std::io::Error>())
            .is_some_and(|io| {
                matches!(
                    io.kind(),
                    ErrorKind::ConnectionReset
                        | ErrorKind::ConnectionAborted
                        | ErrorKind::BrokenPipe
                )
            })
}

/// The URI as sent on the connection: path and query only (RFC 9112 §3.2.1).
fn origin_form(uri: &Uri) -> Uri {
    let pq = uri
        .path_and_query()
        .cloned()
        .unwrap_or_else(|| PathAndQuery::from_static("/"));
    Uri::from(pq)
}

/// A connection lent to one answer.
struct Lease {
    pool: Weak<Http1Pool>,
    authority: Authority,
    sender: Sender,
}

/// An upstream answer's body; the connection it came on goes back to its pool once the body
/// has been read to its end.
pub struct PooledBody {
    body: Incoming,
    lease: Option<Lease>,
}

impl std::fmt::Debug for PooledBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PooledBody")
            .field("body", &self.body)
            .finish_non_exhaustive()
    }
}

impl PooledBody {
    /// Gives the connection back at the body's end (`ended`), at once: hyper may not have
    /// polled the connection since, but the next request checked out on it waits until it has
    /// (so a client that sends its next request the moment it has the answer finds it). A body
    /// dropped before its end gives the connection back only if hyper had already read the whole
    /// answer off it; otherwise hyper closes it.
    fn give_back(&mut self, ended: bool) {
        let Some(lease) = self.lease.take() else {
            return;
        };
        if !(ended || lease.sender.is_ready()) || lease.sender.is_closed() {
            return;
        }
        if let Some(pool) = lease.pool.upgrade() {
            pool.put(lease.authority, lease.sender);
        }
    }
}

impl Drop for PooledBody {
    fn drop(&mut self) {
        self.give_back(false);
    }
}

impl Body for PooledBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = &mut *self;
        let polled = Pin::new(&mut this.body).poll_frame(cx);
        let ended = match &polled {
            Poll::Ready(None) => true,
            Poll::Ready(Some(Ok(_))) => this.body.is_end_stream(),
            _ => false,
        };
        if ended {
            this.give_back(true);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
