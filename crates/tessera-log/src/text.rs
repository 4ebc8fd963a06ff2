//! Text log lines, in the shape `tracing_subscriber`'s full format gives them:
//! `2026-11-30T18:50:47.123456Z  INFO tessera::token: token issued grant="client_credentials" micros=35`
//! (time, level, enclosing spans, target, the message, then `name=value` fields; strings quoted).
//!
//! Written straight into the line: the message and numbers as they are, strings through a
//! check that copies them whole when they need no escaping. `tracing_subscriber`'s own formatter
//! goes through `core::fmt` for every piece, which made the token endpoint's log line about a
//! sixth of Tessera's own work per token. Every value is escaped so that none can break the line.

use crate::escape;
use std::fmt::{self, Write as _};
use tracing::field::{Field, Visit};
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
        crate::time::write_now(&mut w)?;
        w.write_char(' ')?;
        write_level(&mut w, *meta.level())?;
        w.write_char(' ')?;
        if let Some(scope) = ctx.event_scope() {
            let mut any = false;
            for span in scope.from_root() {
                w.write_str(span.metadata().name())?;
                if let Some(fields) = span.extensions().get::<FormattedFields<N>>()
                    && !fields.is_empty()
                {
                    w.write_char('{')?;
                    w.write_str(fields)?;
                    w.write_char('}')?;
                }
                w.write_char(':')?;
                any = true;
            }
            if any {
                w.write_char(' ')?;
            }
        }
        w.write_str(meta.target())?;
        w.write_str(": ")?;
        let mut fields = Fields {
            w: &mut w,
            first: true,
            result: Ok(()),
        };
        event.record(&mut fields);
        fields.result?;
        w.write_char('\n')
    }
}

/// Formats a span's fields for text lines as an event's are, every value escaped (the spans
/// enclosing an event are written before its target).
#[derive(Debug, Clone, Copy, Default)]
pub struct TextFields;

impl<'writer> FormatFields<'writer> for TextFields {
    fn format_fields<R: RecordFields>(&self, mut w: Writer<'writer>, fields: R) -> fmt::Result {
        let mut visitor = Fields {
            w: &mut w,
            first: true,
            result: Ok(()),
        };
        fields.record(&mut visitor);
        visitor.result
    }
}

/// The level, five characters wide as `tracing_subscriber` writes it, coloured on a terminal.
fn write_level(w: &mut Writer<'_>, level: Level) -> fmt::Result {
    let (text, colour) = match level {
        Level::ERROR => ("ERROR", "31"),
        Level::WARN => (" WARN", "33"),
        Level::INFO => (" INFO", "32"),
        Level::DEBUG => ("DEBUG", "34"),
        Level::TRACE => ("TRACE", "35"),
    };
    if w.has_ansi_escapes() {
        write!(w, "\x1b[{colour}m{text}\x1b[0m")
    } else {
        w.write_str(text)
    }
}

/// Writes an event's fields: the message bare, others as `name=value`, space-separated.
struct Fields<'w, 'a> {
    w: &'w mut Writer<'a>,
    first: bool,
    result: fmt::Result,
}

impl Fields<'_, '_> {
    /// Starts a field: `false` when it is to be skipped (metadata of a `log` record, already in
    /// the line) or an earlier write failed; otherwise writes the separator and `name=` (nothing
    /// for the message).
    fn start(&mut self, field: &Field) -> bool {
        let name = field.name();
        if self.result.is_err() || name.starts_with("log.") {
            return false;
        }
        if !self.first {
            self.result = self.w.write_char(' ');
        }
        self.first = false;
        if name != "message" {
            let name = name.strip_prefix("r#").unwrap_or(name);
            self.result = self
                .result
                .and_then(|()| self.w.write_str(name))
                .and_then(|()| self.w.write_char('='));
        }
        self.result.is_ok()
    }

    fn number(&mut self, field: &Field, text: &str) {
        if self.start(field) {
            self.result = self.w.write_str(text);
        }
    }
}

impl Visit for Fields<'_, '_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if !self.start(field) {
            return;
        }
        self.result = if field.name() == "message" {
            escape::Text::bare(&mut *self.w).write_str(value)
        } else {
            self.w
                .write_char('"')
                .and_then(|()| escape::Text::quoted(&mut *self.w).write_str(value))
                .and_then(|()| self.w.write_char('"'))
        };
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if self.start(field) {
            self.result = write!(escape::Text::bare(&mut *self.w), "{value:?}");
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.number(field, itoa::Buffer::new().format(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.number(field, itoa::Buffer::new().format(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.number(field, if value { "true" } else { "false" });
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        if self.start(field) {
            self.result = crate::write_error_chain(&mut escape::Text::bare(&mut *self.w), value);
        }
    }
}
