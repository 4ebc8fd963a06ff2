//! Lines written straight into the log by their caller, for an event on a hot path: the
//! gateway's access line (one per proxied request) and the token endpoint's success line. The
//! line is the one the subscriber [`init`] installs would write for an event with the same target,
//! message and fields outside any span, but it skips `tracing`'s dispatch and field visitor, and
//! writes its decimal without going through `f64` formatting: the access line went from 4.45k to
//! 2.55k instructions (`bench/gateway-instructions.sh`).
//!
//! The caller asks `tracing::enabled!` first (the installed filter decides, as for any event),
//! then [`write`]; when the process's subscriber is not [`init`]'s (a program embedding a Tessera
//! crate with its own), [`write`] writes nothing and says so, and the caller logs the event
//! through `tracing` instead.
//!
//! [`init`]: crate::init

use crate::Format;
use crate::fields::Style;
use crate::json::JsonStyle;
use crate::text::TextStyle;
use std::fmt;
use std::sync::OnceLock;
use tracing::Level;

/// The line format and colouring of the subscriber [`crate::init`] installed, once it has.
static INSTALLED: OnceLock<(Format, bool)> = OnceLock::new();

/// Records that [`crate::init`]'s subscriber, writing `format` lines (coloured when `ansi`) to
/// [`crate::BufferedStderr::global`], is the process's.
pub(crate) fn installed(format: Format, ansi: bool) {
    let _ = INSTALLED.set((format, ansi));
}

/// A field's value in a direct line.
#[derive(Debug, Clone, Copy)]
pub enum Value<'a> {
    /// A string, quoted and escaped as the line's format does a `&str` field.
    Str(&'a str),
    /// A string as a field recorded with `%` (its `Display`) is: unquoted in text (still
    /// escaped), a JSON string in JSON.
    Shown(&'a str),
    /// An integer.
    U64(u64),
    /// A number of thousandths, written as the decimal a field of the `f64` `n / 1000` would be
    /// (`1.84`, `0.007`; a whole number as `12.0` in text, `12` in JSON): milliseconds from
    /// microseconds, say.
    Thousandths(u64),
}

/// Writes one line at `level` for `target` into the process's log, with `message` and then
/// `fields` in order, if [`crate::init`] installed the process's subscriber; returns whether it
/// did. Whether the filter lets the line through is for the caller to ask first.
pub fn write(level: Level, target: &str, message: &str, fields: &[(&str, Value<'_>)]) -> bool {
    let Some(&(format, ansi)) = INSTALLED.get() else {
        return false;
    };
    let out = crate::writer::BufferedStderr::global_ref();
    let _ = crate::line::with_buffer(
        |line| write_line(line, format, ansi, level, target, message, fields),
        |line| {
            out.append(line.as_bytes());
            Ok(())
        },
    );
    true
}

/// The line, as [`crate::TextLine`] or [`crate::JsonLine`] writes it for such an event.
pub(crate) fn write_line(
    w: &mut String,
    format: Format,
    ansi: bool,
    level: Level,
    target: &str,
    message: &str,
    fields: &[(&str, Value<'_>)],
) -> fmt::Result {
    match format {
        Format::Text => {
            crate::text::head(w, level, ansi)?;
            w.push_str(target);
            w.push_str(": ");
            write_fields::<TextStyle>(w, message, fields)?;
            w.push('\n');
        }
        Format::Json => {
            crate::json::head(w, level)?;
            write_fields::<JsonStyle>(w, message, fields)?;
            crate::json::target(w, target)?;
            w.push_str("}\n");
        }
    }
    Ok(())
}

/// The message, then the fields, in the style of the line's format.
fn write_fields<S: Style>(
    w: &mut String,
    message: &str,
    fields: &[(&str, Value<'_>)],
) -> fmt::Result {
    S::start(w, "message", true)?;
    S::string(w, message, true)?;
    for (name, value) in fields {
        S::start(w, name, false)?;
        match *value {
            Value::Str(s) => S::string(w, s, false)?,
            Value::Shown(s) => S::shown(w, s)?,
            Value::U64(n) => w.push_str(itoa::Buffer::new().format(n)),
            Value::Thousandths(n) => S::thousandths(w, n)?,
        }
    }
    Ok(())
}
