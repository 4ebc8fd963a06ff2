//! Writing the fields of an event or span, for either line format. What is common lives here:
//! which fields are written (not the metadata of a `log` record, already in the line), their
//! names without `r#`, integers and booleans as they are, the first write error kept. How a field
//! starts and how its values are quoted and escaped is the format's [`Style`].

use std::fmt::{self, Write};
use std::marker::PhantomData;
use tracing::field::{Field, Visit};

/// How one line format writes fields.
pub(crate) trait Style {
    /// Writes what comes before a value: the separator (none when `first`) and the name.
    fn start(w: &mut impl Write, name: &str, first: bool) -> fmt::Result;
    /// A string value; `message` for the event's message.
    fn string(w: &mut impl Write, value: &str, message: bool) -> fmt::Result;
    /// A value recorded by its `Debug` (a `%` value by its `Display`).
    fn debug(w: &mut impl Write, value: &dyn fmt::Debug) -> fmt::Result;
    /// A string recorded by its `Display` (`%`).
    fn shown(w: &mut impl Write, value: &str) -> fmt::Result;
    /// A float.
    fn float(w: &mut impl Write, value: f64) -> fmt::Result;
    /// `n / 1000`, written as [`Style::float`] writes the `f64` `n / 1000` (`1.84`, `0.007`),
    /// without going through float formatting.
    fn thousandths(w: &mut impl Write, n: u64) -> fmt::Result;
    /// An error and its sources.
    fn error(w: &mut impl Write, value: &(dyn std::error::Error + 'static)) -> fmt::Result;
}

/// A visitor writing fields in the style `S` into `W`; [`Fields::finish`] gives the first error.
pub(crate) struct Fields<'w, W, S> {
    w: &'w mut W,
    first: bool,
    result: fmt::Result,
    style: PhantomData<S>,
}

impl<'w, W: Write, S: Style> Fields<'w, W, S> {
    /// Writes into `w`, which has no fields yet.
    pub(crate) fn new(w: &'w mut W) -> Self {
        Self {
            w,
            first: true,
            result: Ok(()),
            style: PhantomData,
        }
    }

    /// The outcome of every write.
    pub(crate) fn finish(self) -> fmt::Result {
        self.result
    }

    /// Writes one field, its value by `value`, unless it is skipped or a write already failed.
    fn field(&mut self, field: &Field, value: impl FnOnce(&mut W) -> fmt::Result) {
        let name = field.name();
        if self.result.is_err() || name.starts_with("log.") {
            return;
        }
        let name = name.strip_prefix("r#").unwrap_or(name);
        self.result = S::start(self.w, name, self.first).and_then(|()| value(self.w));
        self.first = false;
    }
}

impl<W: Write, S: Style> Visit for Fields<'_, W, S> {
    fn record_str(&mut self, field: &Field, value: &str) {
        let message = field.name() == "message";
        self.field(field, |w| S::string(w, value, message));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.field(field, |w| S::debug(w, value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.field(field, |w| w.write_str(itoa::Buffer::new().format(value)));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.field(field, |w| w.write_str(itoa::Buffer::new().format(value)));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.field(field, |w| w.write_str(if value { "true" } else { "false" }));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.field(field, |w| S::float(w, value));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.field(field, |w| S::error(w, value));
    }
}

/// `n / 1000` in decimal, without trailing zeros; `whole` after a whole number.
pub(crate) fn thousandths(w: &mut impl Write, n: u64, whole: &str) -> fmt::Result {
    w.write_str(itoa::Buffer::new().format(n / 1000))?;
    let mut frac = n % 1000;
    if frac == 0 {
        return w.write_str(whole);
    }
    w.write_char('.')?;
    let mut place = 100;
    while frac != 0 {
        w.write_char(char::from_digit((frac / place) as u32, 10).unwrap_or('0'))?;
        frac %= place;
        place /= 10;
    }
    Ok(())
}

/// An error and its sources, `: `-separated.
pub(crate) fn error_chain(
    w: &mut impl std::fmt::Write,
    error: &(dyn std::error::Error + 'static),
) -> std::fmt::Result {
    write!(w, "{error}")?;
    let mut source = error.source();
    while let Some(s) = source {
        write!(w, ": {s}")?;
        source = s.source();
    }
    Ok(())
}
