//! Taking connections off a listener.

use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// How long to wait before accepting again after a failed accept.
const ACCEPT_RETRY: Duration = Duration::from_millis(20);

/// The next connection (with `TCP_NODELAY` set), or `None` once `stop` changes (or its sender is
/// gone). Failed accepts (out of file descriptors and the like) are logged and retried after a
/// pause, not spun on.
pub(crate) async fn accept_next(
    listener: &TcpListener,
    stop: &mut watch::Receiver<bool>,
) -> Option<(TcpStream, SocketAddr)> {
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
                let _ = stream.set_nodelay(true);
                return Some((stream, peer));
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
        let _client = TcpStream::connect(addr).await.unwrap();
        let (stream, peer) = accept_next(&listener, &mut stop).await.unwrap();
        assert!(stream.nodelay().unwrap());
        assert!(peer.ip().is_loopback());
        stop_tx.send(true).unwrap();
        let _waiting = TcpStream::connect(addr).await.unwrap();
        assert!(accept_next(&listener, &mut stop).await.is_none());
    }
}
