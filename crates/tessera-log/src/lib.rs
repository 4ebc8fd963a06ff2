//! Tessera's log set-up, shared by the authorization server and the gateway: one line per event
//! in `tracing_subscriber`'s own full text format or its JSON format (events flattened), filtered
//! by `RUST_LOG` or the configured level, and written to stderr by `tracing_appender`'s
//! non-blocking writer. That writer holds at most [`BUFFERED_LINES`] lines waiting for stderr;
//! when stderr cannot keep up, further lines are dropped rather than memory grown, and counted in
//! the metric [`DROPPED_LINES_METRIC`]. Its thread writes the lines waiting at once through a
//! buffer of [`WRITE_BUFFER_BYTES`], flushed whenever no more lines wait: one system call for a
//! burst of lines rather than one per line, and no line held back once the burst is written.

mod dropped;

pub use dropped::{DROPPED_LINES_METRIC, publish_dropped_lines};

use serde::{Deserialize, Serialize};
use tracing::Dispatch;
use tracing_appender::non_blocking::{ErrorCounter, NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::util::SubscriberInitExt as _;

/// The log line format (`log.format` in the server's and the gateway's configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Human-readable lines: `TIME LEVEL target: message name=value …`.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// How many lines may wait for stderr before further lines are dropped.
pub const BUFFERED_LINES: usize = 8192;

/// The size of the buffer through which the writer's thread writes to stderr.
pub const WRITE_BUFFER_BYTES: usize = 64 * 1024;

/// Keeps the log writer's thread for as long as it lives; dropping it writes out the lines still
/// waiting (for at most a second) and ends the thread. Hold it until the process exits.
#[derive(Debug)]
#[must_use = "dropping the guard stops the log writer"]
pub struct Guard {
    _worker: WorkerGuard,
}

/// Installs the process's log subscriber: `format` lines on stderr, filtered by `RUST_LOG` if set,
/// else by `level` (a `tracing` filter such as `info` or `tessera_server=debug`; `info` if it does
/// not parse). The level is coloured when stderr is a terminal. The count of lines dropped is
/// published as [`DROPPED_LINES_METRIC`] through the `metrics` facade by
/// [`publish_dropped_lines`], which `/metrics` calls before rendering. A second call installs
/// nothing.
pub fn init(level: &str, format: Format) -> Guard {
    use std::io::IsTerminal as _;
    let ansi = std::io::stderr().is_terminal();
    let rust_log = std::env::var("RUST_LOG").ok();
    let filter = filter(rust_log.as_deref(), level);
    let stderr = std::io::BufWriter::with_capacity(WRITE_BUFFER_BYTES, std::io::stderr());
    let (dispatch, guard, dropped) = pipeline(filter, format, ansi, stderr, BUFFERED_LINES);
    if dispatch.try_init().is_ok() {
        dropped::remember(dropped);
    }
    guard
}

/// The subscriber [`init`] installs, writing into `out` through a non-blocking writer holding at
/// most `lines` lines, with the guard of that writer and the count of the lines it dropped.
fn pipeline<W>(
    filter: EnvFilter,
    format: Format,
    ansi: bool,
    out: W,
    lines: usize,
) -> (Dispatch, Guard, ErrorCounter)
where
    W: std::io::Write + Send + 'static,
{
    let (writer, worker) = NonBlockingBuilder::default()
        .lossy(true)
        .buffered_lines_limit(lines)
        .thread_name("tessera-log")
        .finish(out);
    let dropped = writer.error_counter();
    let dispatch = subscriber(filter, format, ansi, writer);
    (dispatch, Guard { _worker: worker }, dropped)
}

/// The filter of `rust_log` (the `RUST_LOG` variable) if set and valid, else of `level`, else
/// `info`.
fn filter(rust_log: Option<&str>, level: &str) -> EnvFilter {
    rust_log
        .map_or_else(|| EnvFilter::try_new(level), EnvFilter::try_new)
        .or_else(|_| EnvFilter::try_new(level))
        .unwrap_or_else(|_| EnvFilter::new("info"))
}

/// `tracing_subscriber`'s fmt subscriber for `format`, writing through `writer` (colours only
/// when `ansi`). Both formats carry the time (RFC 3339, UTC, microseconds), the level, the target,
/// the message and the fields, and the enclosing spans with theirs.
fn subscriber<W>(filter: EnvFilter, format: Format, ansi: bool, writer: W) -> Dispatch
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_target(true)
        .with_writer(writer);
    match format {
        Format::Text => builder.finish().into(),
        Format::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(true)
            .finish()
            .into(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
