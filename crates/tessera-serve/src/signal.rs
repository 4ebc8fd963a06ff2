//! The signals that end a server: SIGTERM and SIGINT.

use std::future::Future;
use tokio::signal::unix::{SignalKind, signal};

/// A future that completes on the first SIGTERM or SIGINT received after this call.
///
/// The handlers are installed here, not when the future is first polled, so a signal sent as soon
/// as the server has said it serves is never the default action (the process killed outright).
/// When a handler cannot be installed, that signal keeps its default action.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    let mut terminate = signal(SignalKind::terminate()).ok();
    let mut interrupt = signal(SignalKind::interrupt()).ok();
    async move {
        let terminated = async {
            match terminate.as_mut() {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        let interrupted = async {
            match interrupt.as_mut() {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            () = terminated => {}
            () = interrupted => {}
        }
    }
}
