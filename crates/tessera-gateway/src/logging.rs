//! Log set-up for a process that runs only the gateway: text or JSON lines on stderr, filtered by
//! `RUST_LOG` or the configuration's `log.level`. Access log lines have the target
//! `tessera_gateway::access` (silence them with `RUST_LOG=info,tessera_gateway::access=off` or
//! `log.access_log = false`).

use crate::config::{LogConfig, LogFormat};
use tracing_subscriber::EnvFilter;
pub use tracing_subscriber::fmt::writer::BoxMakeWriter;

/// Installs the global subscriber writing to stderr, a line at a time; a second call does
/// nothing.
pub fn init(cfg: &LogConfig) {
    init_with_writer(cfg, BoxMakeWriter::new(std::io::stderr));
}

/// Installs the global subscriber writing through `writer` (the `tessera` binary passes a
/// buffered stderr, which takes the system call off the request path: with one access log line
/// per request, that is one `write` per request saved); a second call does nothing.
pub fn init_with_writer(cfg: &LogConfig, writer: BoxMakeWriter) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&cfg.level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    use std::io::IsTerminal as _;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(writer);
    let _ = match cfg.format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
