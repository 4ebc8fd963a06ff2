//! Text log lines, in the shape `tracing_subscriber`'s full format gives them:
//! `2026-11-30T18:50:47.123456Z  INFO tessera::token: token issued grant="client_credentials" micros=35`
//! (time, level, enclosing spans, target, the message, then `name=value` fields; strings quoted).
//!
//! Written straight into the line: the message and numbers as they are, strings through a
//! check that copies them whole when they need no escaping. `tracing_subscriber`'s own formatter
//! goes through `core::fmt` for every piece, which made the token endpoint's log line about a
//! sixth of Tessera's own work per token. Every value is escaped so that none can break the line.

use crate::escape;
use crate::fields::{Fields, Style, error_chain, thousandths};
use std::fmt::{self, Write};
use tracing::{Event, Level, Subscriber};
use tracing_log::NormalizeEvent as _;
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

/// Formats events as text lines.
#[derive(Debug, Clone, Copy, Default)]
pub struct TextLine;

impl<S, N> FormatEvent<S, N> for TextLine
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut w: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let normalized = event.normalized_metadata();
        let meta = normalized.as_ref().unwrap_or_else(|| event.metadata());
        let ansi = w.has_ansi_escapes();
        crate::line::buffered(&mut w, |w| {
            head(w, *meta.level(), ansi)?;
            if let Some(scope) = ctx.event_scope() {
                let mut any = false;
                for span in scope.from_root() {
                    w.push_str(span.metadata().name());
                    if let Some(fields) = span.extensions().get::<FormattedFields<N>>()
                        && !fields.is_empty()
                    {
                        w.push('{');
                        w.push_str(fields);
                        w.push('}');
                    }
                    w.push(':');
                    any = true;
                }
                if any {
                    w.push(' ');
                }
            }
            w.push_str(meta.target());
            w.push_str(": ");
            let mut fields = Fields::<_, TextStyle>::new(w);
            event.record(&mut fields);
            fields.finish()?;
            w.push('\n');
            Ok(())
        })
    }
}

/// Formats a span's fields for text lines as an event's are, every value escaped (the spans
/// enclosing an event are written before its target).
#[derive(Debug, Clone, Copy, Default)]
pub struct TextFields;

impl<'writer> FormatFields<'writer> for TextFields {
    fn format_fields<R: RecordFields>(&self, mut w: Writer<'writer>, fields: R) -> fmt::Result {
        let mut visitor = Fields::<_, TextStyle>::new(&mut w);
        fields.record(&mut visitor);
        visitor.finish()
    }
}

/// The start of a line, up to the spans and target: the time and the level, each followed by a
/// space.
pub(crate) fn head(w: &mut String, level: Level, ansi: bool) -> fmt::Result {
    crate::time::write_now(w)?;
    w.push(' ');
    write_level(w, level, ansi)?;
    w.push(' ');
    Ok(())
}

/// The level, five characters wide as `tracing_subscriber` writes it, coloured when `ansi`.
fn write_level(w: &mut String, level: Level, ansi: bool) -> fmt::Result {
    let (text, colour) = match level {
        Level::ERROR => ("ERROR", "31"),
        Level::WARN => (" WARN", "33"),
        Level::INFO => (" INFO", "32"),
        Level::DEBUG => ("DEBUG", "34"),
        Level::TRACE => ("TRACE", "35"),
    };
    if ansi {
        write!(w, "\x1b[{colour}m{text}\x1b[0m")
    } else {
        w.push_str(text);
        Ok(())
    }
}

/// Fields in text lines: the message bare, others as `name=value`, space-separated; strings
/// quoted; every value escaped.
pub(crate) struct TextStyle;

impl Style for TextStyle {
    fn start(w: &mut impl Write, name: &str, first: bool) -> fmt::Result {
        if !first {
            w.write_char(' ')?;
        }
        if name == "message" {
            return Ok(());
        }
        w.write_str(name)?;
        w.write_char('=')
    }

    fn string(w: &mut impl Write, value: &str, message: bool) -> fmt::Result {
        if message {
            return escape::Text::bare(w).write_str(value);
        }
        w.write_char('"')?;
        escape::Text::quoted(w).write_str(value)?;
        w.write_char('"')
    }

    fn debug(w: &mut impl Write, value: &dyn fmt::Debug) -> fmt::Result {
        write!(escape::Text::bare(w), "{value:?}")
    }

    fn shown(w: &mut impl Write, value: &str) -> fmt::Result {
        escape::Text::bare(w).write_str(value)
    }

    fn float(w: &mut impl Write, value: f64) -> fmt::Result {
        write!(w, "{value:?}")
    }

    fn thousandths(w: &mut impl Write, n: u64) -> fmt::Result {
        // `{:?}` of a whole `f64` ends in `.0`.
        thousandths(w, n, ".0")
    }

    fn error(w: &mut impl Write, value: &(dyn std::error::Error + 'static)) -> fmt::Result {
        error_chain(&mut escape::Text::bare(w), value)
    }
}
