//! Knowing which requests are in flight: from the moment their head is read until their
//! response body has been sent (or dropped), per connection and for the whole server.

use hyper::body::{Body, Frame, SizeHint};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use tokio::sync::watch;
use tokio::time::Instant;

/// What a connection is doing, as its deadlines need it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Activity {
    /// Requests whose response has not been sent yet.
    pub(crate) in_flight: usize,
    /// Whether any request has been read on the connection.
    pub(crate) served: bool,
    /// When `in_flight` last became 0.
    pub(crate) idle_since: Instant,
}

/// Counts one connection's requests, and the server's.
pub(crate) struct Tracker {
    connection: watch::Sender<Activity>,
    server: Arc<AtomicUsize>,
}

impl Tracker {
    /// A tracker for a new connection, and the receiver its deadlines are watched with.
    /// Receivers are told when the connection goes from idle to busy and back, not of each
    /// request.
    pub(crate) fn new(server: Arc<AtomicUsize>) -> (Self, watch::Receiver<Activity>) {
        let (connection, activity) = watch::channel(Activity {
            in_flight: 0,
            served: false,
            idle_since: Instant::now(),
        });
        (Self { connection, server }, activity)
    }

    /// Counts a request as in flight until the returned value is dropped.
    pub(crate) fn start(&self) -> InFlight {
        self.server.fetch_add(1, Ordering::Relaxed);
        self.connection.send_if_modified(|a| {
            a.in_flight += 1;
            a.served = true;
            a.in_flight == 1
        });
        InFlight {
            connection: self.connection.clone(),
            server: Arc::clone(&self.server),
        }
    }
}

/// One request in flight; it has landed when this is dropped.
pub(crate) struct InFlight {
    connection: watch::Sender<Activity>,
    server: Arc<AtomicUsize>,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.server.fetch_sub(1, Ordering::Relaxed);
        self.connection.send_if_modified(|a| {
            a.in_flight = a.in_flight.saturating_sub(1);
            if a.in_flight == 0 {
                a.idle_since = Instant::now();
            }
            a.in_flight == 0
        });
    }
}

pin_project_lite::pin_project! {
    /// A response body whose request stays in flight until it is dropped (once sent, or when its
    /// connection goes).
    pub(crate) struct InFlightBody<B> {
        #[pin]
        body: B,
        in_flight: InFlight,
    }
}

impl<B> InFlightBody<B> {
    pub(crate) fn new(body: B, in_flight: InFlight) -> Self {
        Self { body, in_flight }
    }
}

impl<B: Body> Body for InFlightBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        self.project().body.poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
