//! JSON log lines, one object per line, with the members `tracing_subscriber`'s JSON format
//! (events flattened) gives them: `timestamp`, `level`, the event's fields (`message` among them)
//! at the top level, `target`, and, inside spans, `span` (the innermost) and `spans` (outermost
//! first), each with its `name` and fields. Numbers and booleans stay JSON numbers and booleans.
//!
//! Span fields must be recorded as JSON (`tracing_subscriber::fmt::format::JsonFields`, which
//! [`crate::init`] sets up).

use crate::escape;
use std::fmt::{self, Write as _};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_log::NormalizeEvent as _;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::{LookupSpan, SpanRef};

/// Formats events as JSON lines.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonLine;

impl<S, N> FormatEvent<S, N> for JsonLine
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
        w.write_str("{\"timestamp\":\"")?;
        crate::time::write_now(&mut w)?;
        w.write_str("\",\"level\":\"")?;
        w.write_str(meta.level().as_str())?;
        w.write_char('"')?;
        let mut fields = Fields {
            w: &mut w,
            result: Ok(()),
        };
        event.record(&mut fields);
        fields.result?;
        w.write_str(",\"target\":")?;
        string(&mut w, meta.target())?;
        if let Some(innermost) = ctx.event_scope().and_then(|mut scope| scope.next()) {
            w.write_str(",\"span\":")?;
            write_span::<S, N>(&mut w, &innermost)?;
            w.write_str(",\"spans\":[")?;
            let outermost_first = ctx.event_scope().into_iter().flat_map(|s| s.from_root());
            for (i, span) in outermost_first.enumerate() {
                if i > 0 {
                    w.write_char(',')?;
                }
                write_span::<S, N>(&mut w, &span)?;
            }
            w.write_char(']')?;
        }
        w.write_str("}\n")
    }
}

/// `{"name":…, fields…}` for a span whose fields were recorded as a JSON object.
fn write_span<S, N>(w: &mut Writer<'_>, span: &SpanRef<'_, S>) -> fmt::Result
where
    S: for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    w.write_str("{\"name\":")?;
    string(w, span.metadata().name())?;
    let ext = span.extensions();
    let inner = ext
        .get::<FormattedFields<N>>()
        .and_then(|f| f.fields.strip_prefix('{'))
        .and_then(|f| f.strip_suffix('}'))
        .filter(|f| !f.trim().is_empty());
    if let Some(inner) = inner {
        w.write_char(',')?;
        w.write_str(inner)?;
    }
    w.write_char('}')
}

/// A JSON string.
fn string(w: &mut Writer<'_>, s: &str) -> fmt::Result {
    w.write_char('"')?;
    escape::Json(&mut *w).write_str(s)?;
    w.write_char('"')
}

/// Writes an event's fields as `,"name":value` members.
struct Fields<'w, 'a> {
    w: &'w mut Writer<'a>,
    result: fmt::Result,
}

impl Fields<'_, '_> {
    /// Starts a member (`,"name":`); `false` when the field is skipped (metadata of a `log`
    /// record, already in the line) or an earlier write failed.
    fn start(&mut self, field: &Field) -> bool {
        let name = field.name();
        if self.result.is_err() || name.starts_with("log.") {
            return false;
        }
        let name = name.strip_prefix("r#").unwrap_or(name);
        self.result = self
            .w
            .write_char(',')
            .and_then(|()| string(self.w, name))
            .and_then(|()| self.w.write_char(':'));
        self.result.is_ok()
    }

    fn raw(&mut self, field: &Field, text: &str) {
        if self.start(field) {
            self.result = self.w.write_str(text);
        }
    }
}

impl Visit for Fields<'_, '_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if self.start(field) {
            self.result = string(self.w, value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if self.start(field) {
            self.result = self
                .w
                .write_char('"')
                .and_then(|()| write!(escape::Json(&mut *self.w), "{value:?}"))
                .and_then(|()| self.w.write_char('"'));
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.raw(field, itoa::Buffer::new().format(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.raw(field, itoa::Buffer::new().format(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.raw(field, if value { "true" } else { "false" });
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        if !value.is_finite() {
            // JSON has no NaN or infinity.
            self.raw(field, "null");
        } else if self.start(field) {
            self.result = write!(self.w, "{value}");
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        if self.start(field) {
            self.result = self
                .w
                .write_char('"')
                .and_then(|()| crate::write_error_chain(&mut escape::Json(&mut *self.w), value))
                .and_then(|()| self.w.write_char('"'));
        }
    }
}
