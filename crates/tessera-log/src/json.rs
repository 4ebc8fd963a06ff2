//! JSON log lines, one object per line, with the members `tracing_subscriber`'s JSON format
//! (events flattened) gives them: `timestamp`, `level`, the event's fields (`message` among them)
//! at the top level, `target`, and, inside spans, `span` (the innermost) and `spans` (outermost
//! first), each with its `name` and fields. Numbers and booleans stay JSON numbers and booleans.
//!
//! Span fields must be recorded as JSON (`tracing_subscriber::fmt::format::JsonFields`, which
//! [`crate::init`] sets up).

use crate::escape;
use crate::fields::{Fields, Style, error_chain, thousandths};
use std::fmt::{self, Write};
use tracing::{Event, Level, Subscriber};
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
        crate::line::buffered(&mut w, |w| {
            head(w, *meta.level())?;
            let mut fields = Fields::<_, JsonStyle>::new(w);
            event.record(&mut fields);
            fields.finish()?;
            target(w, meta.target())?;
            if let Some(innermost) = ctx.event_scope().and_then(|mut scope| scope.next()) {
                w.push_str(",\"span\":");
                write_span::<S, N>(w, &innermost)?;
                w.push_str(",\"spans\":[");
                let outermost_first = ctx.event_scope().into_iter().flat_map(|s| s.from_root());
                for (i, span) in outermost_first.enumerate() {
                    if i > 0 {
                        w.push(',');
                    }
                    write_span::<S, N>(w, &span)?;
                }
                w.push(']');
            }
            w.push_str("}\n");
            Ok(())
        })
    }
}

/// The start of a line, up to its fields: `{"timestamp":"…","level":"…"`.
pub(crate) fn head(w: &mut String, level: Level) -> fmt::Result {
    w.push_str("{\"timestamp\":\"");
    crate::time::write_now(w)?;
    w.push_str("\",\"level\":\"");
    w.push_str(level.as_str());
    w.push('"');
    Ok(())
}

/// The `target` member, after the fields.
pub(crate) fn target(w: &mut String, target: &str) -> fmt::Result {
    w.push_str(",\"target\":");
    string(w, target)
}

/// `{"name":…, fields…}` for a span whose fields were recorded as a JSON object.
fn write_span<S, N>(w: &mut String, span: &SpanRef<'_, S>) -> fmt::Result
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
pub(crate) fn string(w: &mut impl Write, s: &str) -> fmt::Result {
    w.write_char('"')?;
    escape::Json(&mut *w).write_str(s)?;
    w.write_char('"')
}

/// Fields in JSON lines: `,"name":value` members; strings, `Debug` values and errors as JSON
/// strings; floats as numbers (`null` when not finite, which JSON cannot write).
pub(crate) struct JsonStyle;

impl Style for JsonStyle {
    fn start(w: &mut impl Write, name: &str, _first: bool) -> fmt::Result {
        // The line's own members come first, so every field follows a comma.
        w.write_char(',')?;
        string(w, name)?;
        w.write_char(':')
    }

    fn string(w: &mut impl Write, value: &str, _message: bool) -> fmt::Result {
        string(w, value)
    }

    fn debug(w: &mut impl Write, value: &dyn fmt::Debug) -> fmt::Result {
        w.write_char('"')?;
        write!(escape::Json(&mut *w), "{value:?}")?;
        w.write_char('"')
    }

    fn shown(w: &mut impl Write, value: &str) -> fmt::Result {
        string(w, value)
    }

    fn thousandths(w: &mut impl Write, n: u64) -> fmt::Result {
        thousandths(w, n, "")
    }

    fn float(w: &mut impl Write, value: f64) -> fmt::Result {
        if value.is_finite() {
            write!(w, "{value}")
        } else {
            w.write_str("null")
        }
    }

    fn error(w: &mut impl Write, value: &(dyn std::error::Error + 'static)) -> fmt::Result {
        w.write_char('"')?;
        error_chain(&mut escape::Json(&mut *w), value)?;
        w.write_char('"')
    }
}
