//! The end of a graceful shutdown, once nothing accepts new connections any more: the requests in
//! flight get the grace period to finish, then the serving threads end.

use crate::ServingThreads;
use hyper_util::server::graceful::GracefulShutdown;
use std::sync::Arc;
use std::time::Duration;

/// Asks every connection `graceful` watches to close after its current request and waits for
/// them, at most `grace`; then ends `threads` (dropping connections still open).
///
/// Every accept loop must have ended, and `threads` must have stopped accepting
/// ([`ServingThreads::stop_accepting`]), so that `graceful` is no longer shared; if it still is,
/// nothing can be waited for, which is logged as an error.
pub async fn drain(
    graceful: Arc<GracefulShutdown>,
    grace: Duration,
    threads: Option<ServingThreads>,
) {
    match Arc::try_unwrap(graceful) {
        Ok(graceful) => {
            tokio::select! {
                () = graceful.shutdown() => tracing::info!("all connections closed"),
                () = tokio::time::sleep(grace) => tracing::warn!(
                    grace_s = grace.as_secs(),
                    "requests still in flight after the grace period; stopping anyway"
                ),
            }
        }
        Err(_) => tracing::error!("connections still being handed out; not waiting for them"),
    }
    if let Some(t) = threads {
        t.exit().await;
    }
}
