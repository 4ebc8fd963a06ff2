//! Driving one connection: closing it when it stays silent or idle too long, and at shutdown
//! closing it as soon as it has no request in flight.

use crate::in_flight::Activity;
use hyper_util::server::graceful::GracefulConnection;
use std::fmt::Display;
use std::net::SocketAddr;
use std::pin::pin;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::{Instant, sleep_until};

/// What the server asks of its connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Serve requests.
    Serving,
    /// Shutting down: close once no request is in flight.
    Draining,
    /// The grace period is over: close now.
    Closing,
}

/// A connection's deadlines (see [`Settings`](crate::Settings)).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadlines {
    /// From accepting the connection to its first request.
    pub(crate) first_request: Duration,
    /// From the last response to being asked to close.
    pub(crate) idle: Duration,
}

/// How long a connection that has answered requests gets, once it is asked to close and has no
/// request in flight, to close by itself (to send the last response's bytes, and for HTTP/2 the
/// `GOAWAY` exchange) before it is dropped.
const LINGER: Duration = Duration::from_secs(1);

/// Serves `conn`, accepted at `accepted`, until it ends; asks it to close when it has had no
/// request in flight for its deadline (the first one counted from `accepted`, so that a TLS
/// handshake spends from it), or when `phase` says the server is shutting down; drops it when
/// it has none in flight and does not close by itself (at once if it never read a request,
/// after [`LINGER`] otherwise), or when `phase` says [`Phase::Closing`].
pub(crate) async fn drive<C>(
    conn: C,
    mut activity: watch::Receiver<Activity>,
    mut phase: watch::Receiver<Phase>,
    deadlines: Deadlines,
    peer: SocketAddr,
    accepted: Instant,
) where
    C: GracefulConnection,
    C::Error: Display,
{
    let mut conn = pin!(conn);
    // Serving, until a deadline passes or the server shuts down.
    loop {
        let now = *activity.borrow_and_update();
        let deadline = if now.in_flight > 0 {
            None
        } else if now.served {
            now.idle_since.checked_add(deadlines.idle)
        } else {
            accepted.checked_add(deadlines.first_request)
        };
        tokio::select! {
            ended = conn.as_mut() => return report(ended, peer),
            () = changed(&mut activity) => {}
            () = sleep_until(deadline.unwrap_or(accepted)), if deadline.is_some() => {
                tracing::debug!(%peer, served = now.served, "closing a connection idle too long");
                break;
            }
            () = wait_for(&mut phase, Phase::Draining) => break,
        }
    }
    conn.as_mut().graceful_shutdown();
    let asked = Instant::now();
    // Closing, until the connection ends or is dropped.
    loop {
        let now = *activity.borrow_and_update();
        let drop_at = if now.in_flight > 0 {
            None
        } else if now.served {
            now.idle_since.max(asked).checked_add(LINGER)
        } else {
            Some(asked)
        };
        tokio::select! {
            biased;
            ended = conn.as_mut() => return report(ended, peer),
            () = wait_for(&mut phase, Phase::Closing) => return,
            () = changed(&mut activity) => {}
            () = sleep_until(drop_at.unwrap_or(asked)), if drop_at.is_some() => return,
        }
    }
}

fn report<E: Display>(ended: Result<(), E>, peer: SocketAddr) {
    if let Err(e) = ended {
        tracing::debug!(error = %e, %peer, "connection ended with an error");
    }
}

/// Completes when `activity` changes; never if its sender is gone (the connection's service
/// went with the connection, whose end is watched for on its own).
async fn changed(activity: &mut watch::Receiver<Activity>) {
    if activity.changed().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Completes once `phase` has reached `at_least` (or the server is gone).
pub(crate) async fn wait_for(phase: &mut watch::Receiver<Phase>, at_least: Phase) {
    let reached = |p: &Phase| match at_least {
        Phase::Serving => true,
        Phase::Draining => *p != Phase::Serving,
        Phase::Closing => *p == Phase::Closing,
    };
    let _ = phase.wait_for(reached).await;
}
