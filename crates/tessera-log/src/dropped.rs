//! The count of log lines dropped because stderr could not keep up, published as a counter
//! through the `metrics` facade, so that the server's and the gateway's `/metrics` show it.

use std::time::Duration;
use tracing_appender::non_blocking::ErrorCounter;

/// The counter of log lines dropped because stderr could not keep up.
pub const DROPPED_LINES_METRIC: &str = "tessera_log_lines_dropped_total";

/// How often the count is copied into the counter.
const PUBLISH_EVERY: Duration = Duration::from_secs(1);

/// Copies `dropped` into the counter now and then every [`PUBLISH_EVERY`], from a thread of its
/// own, for the life of the process (whichever recorder is installed by then receives it).
pub(crate) fn publish_periodically(dropped: ErrorCounter) {
    let _ = std::thread::Builder::new()
        .name("tessera-log-metrics".into())
        .spawn(move || {
            loop {
                publish(&dropped);
                std::thread::sleep(PUBLISH_EVERY);
            }
        });
}

/// Sets the counter to the number of lines dropped so far.
pub(crate) fn publish(dropped: &ErrorCounter) {
    let count = u64::try_from(dropped.dropped_lines()).unwrap_or(u64::MAX);
    metrics::counter!(DROPPED_LINES_METRIC).absolute(count);
}
