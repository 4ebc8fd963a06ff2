//! The count of log lines dropped because stderr could not keep up, published as a counter
//! through the `metrics` facade when metrics are rendered, so that the server's and the
//! gateway's `/metrics` show it.

use std::sync::OnceLock;
use tracing_appender::non_blocking::ErrorCounter;

/// The counter of log lines dropped because stderr could not keep up.
pub const DROPPED_LINES_METRIC: &str = "tessera_log_lines_dropped_total";

/// The dropped-line count of the writer [`crate::init`] installed.
static DROPPED: OnceLock<ErrorCounter> = OnceLock::new();

/// Keeps the count of the writer the process logs through, for [`publish_dropped_lines`].
pub(crate) fn remember(dropped: ErrorCounter) {
    let _ = DROPPED.set(dropped);
}

/// Sets [`DROPPED_LINES_METRIC`] in the current recorder to the number of lines dropped so far;
/// call it just before rendering metrics. Does nothing when [`crate::init`] installed no writer.
pub fn publish_dropped_lines() {
    if let Some(dropped) = DROPPED.get() {
        publish(dropped);
    }
}

/// Sets the counter to the number of lines `dropped` counted so far.
pub(crate) fn publish(dropped: &ErrorCounter) {
    let count = u64::try_from(dropped.dropped_lines()).unwrap_or(u64::MAX);
    metrics::counter!(DROPPED_LINES_METRIC).absolute(count);
}
