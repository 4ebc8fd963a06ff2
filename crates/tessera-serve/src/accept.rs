//! Taking connections off a listener, as many at a time as the limit allows.

use crate::settings::ConnectionMetrics;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::Instant;

/// How long to wait before accepting again after a failed accept.
const ACCEPT_RETRY: Duration = Duration::from_millis(20);

/// At most one warning per this long about connections refused at the limit.
const REFUSED_WARNING_EVERY: Duration = Duration::from_secs(10);

/// How many connections a listener serves at once, and the count of those it refused.
pub(crate) struct Limit {
    permits: Arc<Semaphore>,
    max: usize,
    metrics: ConnectionMetrics,
    /// Refused since the last warning, and when that was.
    refused: u64,
    warned: Option<Instant>,
}

impl Limit {
    pub(crate) fn new(max: usize, metrics: ConnectionMetrics) -> Self {
        let max = max.clamp(1, Semaphore::MAX_PERMITS);
        Self {
            permits: Arc::new(Semaphore::new(max)),
            max,
            metrics,
            refused: 0,
            warned: None,
        }
    }

    fn admit(&mut self) -> Option<Admitted> {
        match Arc::clone(&self.permits).try_acquire_owned() {
            Ok(permit) => {
                self.metrics.open.increment(1);
                Some(Admitted {
                    _permit: permit,
                    open: self.metrics.open.clone(),
                })
            }
            Err(_) => {
                self.metrics.refused.increment(1);
                self.refused += 1;
                let now = Instant::now();
                if self
                    .warned
                    .is_none_or(|at| now.duration_since(at) >= REFUSED_WARNING_EVERY)
                {
                    tracing::warn!(
                        max_connections = self.max,
                        refused = self.refused,
                        "connection limit reached: new connections are closed at once"
                    );
                    self.warned = Some(now);
                    self.refused = 0;
                }
                None
            }
        }
    }
}

/// A connection counted against its listener's [`Limit`] and in the open connections, until
/// it is dropped.
pub(crate) struct Admitted {
    _permit: OwnedSemaphorePermit,
    open: metrics::Gauge,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        self.open.decrement(1);
    }
}

/// The next connection within `limit` (with `TCP_NODELAY` set), or `None` once `stop` changes
/// (or its sender is gone). Connections beyond the limit are closed as soon as accepted, so
/// that they wait in no queue; failed accepts (out of file descriptors and the like) are logged
/// and retried after a pause, not spun on.
pub(crate) async fn accept_next(
    listener: &TcpListener,
    stop: &mut watch::Receiver<bool>,
    limit: &mut Limit,
) -> Option<(TcpStream, SocketAddr, Admitted)> {
    loop {
        if *stop.borrow_and_update() {
            return None;
        }
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stop.changed() => return None,
        };
        match accepted {
            Ok((stream, peer)) => {
                let Some(admitted) = limit.admit() else {
                    continue;
                };
                let _ = stream.set_nodelay(true);
                return Some((stream, peer, admitted));
            }
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(ACCEPT_RETRY).await;
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn connections_come_with_nodelay_until_stopped() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop_tx, mut stop) = watch::channel(false);
        let mut limit = Limit::new(8, ConnectionMetrics::default());
        let _client = TcpStream::connect(addr).await.unwrap();
        let (stream, peer, _admitted) =
            accept_next(&listener, &mut stop, &mut limit).await.unwrap();
        assert!(stream.nodelay().unwrap());
        assert!(peer.ip().is_loopback());
        stop_tx.send(true).unwrap();
        let _waiting = TcpStream::connect(addr).await.unwrap();
        assert!(
            accept_next(&listener, &mut stop, &mut limit)
                .await
                .is_none()
        );
    }
}
