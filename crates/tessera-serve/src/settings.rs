//! The limits every connection of a [`Server`](crate::Server) is served under.

use metrics::{Counter, Gauge};
use std::time::Duration;

/// How every connection of a [`Server`](crate::Server) is served, and how many there may be.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How long a new connection may take to start its first request (its TLS handshake and the
    /// HTTP/2 preface included), and how long an HTTP/1.1 request head may take, counted from when the
    /// connection opened or answered its previous request; the connection is closed then. It
    /// also bounds how long an HTTP/1.1 connection stays open with no request.
    pub header_read_timeout: Duration,
    /// How long a connection that has answered requests stays open with none in flight before
    /// it is asked to close (HTTP/2 `GOAWAY`; HTTP/1.1 connections close sooner, by
    /// `header_read_timeout`).
    pub idle_timeout: Duration,
    /// How often an HTTP/2 connection is pinged to check that the client is still there; a
    /// ping not acknowledged within [`HTTP2_KEEP_ALIVE_TIMEOUT`] closes it. `None` sends no pings.
    pub http2_keep_alive_interval: Option<Duration>,
    /// The largest request head, in bytes: the request line and headers of HTTP/1.1 (at least
    /// 8 KiB, hyper's smallest read buffer), the header list of HTTP/2. A bigger one is answered
    /// `431` and its connection closed; a connection never holds more than this for an
    /// unfinished head.
    pub max_header_bytes: usize,
    /// How many connections each listener serves at once; connections beyond are accepted and
    /// closed at once (counted in [`ConnectionMetrics::refused`]).
    pub max_connections: usize,
    /// Where the connections are counted.
    pub metrics: ConnectionMetrics,
}

/// How long an HTTP/2 keep-alive ping may go unacknowledged before its connection is closed.
pub const HTTP2_KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(20);

impl Default for Settings {
    /// Limits for a server that faces the internet: 10 s for a request head, 60 s idle, HTTP/2
    /// pings every 30 s, 32 KiB of head, 4096 connections per listener.
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            http2_keep_alive_interval: Some(Duration::from_secs(30)),
            max_header_bytes: 32 * 1024,
            max_connections: 4096,
            metrics: ConnectionMetrics::default(),
        }
    }
}

/// The handles a [`Server`](crate::Server) counts its connections with, registered by the
/// caller in the recorder (and under the names) it wants; by default they count nowhere.
#[derive(Debug, Clone)]
pub struct ConnectionMetrics {
    /// Connections open now.
    pub open: Gauge,
    /// Connections closed at once because the listener already served `max_connections`.
    pub refused: Counter,
}

impl Default for ConnectionMetrics {
    fn default() -> Self {
        Self {
            open: Gauge::noop(),
            refused: Counter::noop(),
        }
    }
}
