//! Tessera's log lines, shared by the authorization server and the gateway: one line per event on
//! stderr, as text ([`TextLine`]) or JSON ([`JsonLine`]), filtered by `RUST_LOG` or the configured
//! level, and written by a background thread ([`BufferedStderr`]) so that no request waits on a
//! `write` to stderr.
//!
//! The lines have the shape `tracing_subscriber`'s own formats give them, but are written
//! directly: with one log line per token request, the general formatter had been about a sixth
//! of the server's own instructions per token (`bench/token-instructions.sh`). Every value is
//! escaped, so a value can neither end its line and forge another nor send escape sequences to a
//! terminal.

pub mod direct;
mod escape;
mod fields;
mod json;
mod line;
mod text;
mod time;
mod writer;

pub use json::JsonLine;
pub use text::{TextFields, TextLine};
pub use writer::BufferedStderr;

use serde::{Deserialize, Serialize};
use tracing::Dispatch;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::JsonFields;
use tracing_subscriber::util::SubscriberInitExt as _;

/// The log line format (`log.format` in the server's and the gateway's configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Installs the process's log subscriber: `format` lines on stderr through
/// [`BufferedStderr::global`], filtered by `RUST_LOG` if set, else by `level` (a `tracing` filter
/// such as `info` or `tessera_server=debug`; `info` if it does not parse). The level is coloured
/// when stderr is a terminal. A second call does nothing. Call [`flush`] before the process exits.
pub fn init(level: &str, format: Format) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    use std::io::IsTerminal as _;
    let ansi = std::io::stderr().is_terminal();
    if dispatch(filter, format, ansi, BufferedStderr::global())
        .try_init()
        .is_ok()
    {
        direct::installed(format, ansi);
    }
}

/// The subscriber [`init`] installs, writing `format` lines through `writer` (escape sequences
/// only when `ansi`).
fn dispatch<W>(filter: EnvFilter, format: Format, ansi: bool, writer: W) -> Dispatch
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(writer);
    match format {
        Format::Json => builder
            .fmt_fields(JsonFields::new())
            .event_format(JsonLine)
            .into(),
        Format::Text => builder.fmt_fields(TextFields).event_format(TextLine).into(),
    }
}

/// Writes out the log lines still buffered; call before the process exits.
pub fn flush() {
    BufferedStderr::global().flush_now();
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
