//! Writers that escape what they pass on, so that no value in a log line can end the line, forge
//! another one, or send escape sequences to a terminal: [`Text`] for text lines, [`Json`] for the
//! inside of a JSON string.

use std::fmt::{self, Write};

/// Escapes control characters (C0, DEL, C1), line and paragraph separators and the bidirectional
/// overrides as `\n`, `\r`, `\t` or `\u{…}`; when `quoted`, also `"` and `\`.
pub(crate) struct Text<'a, W: Write> {
    out: &'a mut W,
    quoted: bool,
}

impl<'a, W: Write> Text<'a, W> {
    /// Text outside quotes (a message, a value written with `%`).
    pub(crate) fn bare(out: &'a mut W) -> Self {
        Self { out, quoted: false }
    }

    /// Text between double quotes.
    pub(crate) fn quoted(out: &'a mut W) -> Self {
        Self { out, quoted: true }
    }

    fn needs_escape(&self, c: char) -> bool {
        c.is_control()
            || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
            || (self.quoted && matches!(c, '"' | '\\'))
    }
}

impl<W: Write> Write for Text<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let plain =
            |b: u8| (0x20..0x7f).contains(&b) && !(self.quoted && (b == b'"' || b == b'\\'));
        if s.bytes().all(plain) {
            return self.out.write_str(s);
        }
        let mut from = 0;
        for (i, c) in s.char_indices() {
            if !self.needs_escape(c) {
                continue;
            }
            self.out.write_str(s.get(from..i).unwrap_or_default())?;
            match c {
                '\n' => self.out.write_str("\\n")?,
                '\r' => self.out.write_str("\\r")?,
                '\t' => self.out.write_str("\\t")?,
                '"' => self.out.write_str("\\\"")?,
                '\\' => self.out.write_str("\\\\")?,
                c => write!(self.out, "\\u{{{:x}}}", u32::from(c))?,
            }
            from = i + c.len_utf8();
        }
        self.out.write_str(s.get(from..).unwrap_or_default())
    }
}

/// Escapes for the inside of a JSON string (RFC 8259 §7): `"`, `\` and the control characters
/// below U+0020.
pub(crate) struct Json<'a, W: Write>(pub(crate) &'a mut W);

impl<W: Write> Write for Json<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let plain = |b: u8| b >= 0x20 && b != b'"' && b != b'\\';
        if s.bytes().all(plain) {
            return self.0.write_str(s);
        }
        let mut from = 0;
        for (i, b) in s.bytes().enumerate() {
            if plain(b) {
                continue;
            }
            // Every byte escaped is ASCII, so `i` is on a character boundary.
            self.0.write_str(s.get(from..i).unwrap_or_default())?;
            match b {
                b'"' => self.0.write_str("\\\"")?,
                b'\\' => self.0.write_str("\\\\")?,
                b'\n' => self.0.write_str("\\n")?,
                b'\r' => self.0.write_str("\\r")?,
                b'\t' => self.0.write_str("\\t")?,
                b => write!(self.0, "\\u{b:04x}")?,
            }
            from = i + 1;
        }
        self.0.write_str(s.get(from..).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str, quoted: bool) -> String {
        let mut out = String::new();
        let mut w = if quoted {
            Text::quoted(&mut out)
        } else {
            Text::bare(&mut out)
        };
        w.write_str(s).unwrap_or_default();
        out
    }

    fn json(s: &str) -> String {
        let mut out = String::new();
        Json(&mut out).write_str(s).unwrap_or_default();
        out
    }

    #[test]
    fn text_keeps_plain_text_and_escapes_what_could_forge_a_line() {
        assert_eq!(text("token issued", false), "token issued");
        assert_eq!(text("é ✓ \"q\" \\", false), "é ✓ \"q\" \\");
        assert_eq!(
            text("a\nINFO forged\r\tb\u{1b}[31m", false),
            "a\\nINFO forged\\r\\tb\\u{1b}[31m"
        );
        assert_eq!(
            text("x\u{85}y\u{2028}z\u{202e}", false),
            "x\\u{85}y\\u{2028}z\\u{202e}"
        );
        assert_eq!(text("say \"hi\" \\ ok", true), "say \\\"hi\\\" \\\\ ok");
    }

    #[test]
    fn json_escapes_parse_back_to_the_original() {
        for s in [
            "plain",
            "quote \" backslash \\ slash /",
            "line\nfeed\r\ttab\u{0}\u{1f}\u{7f}",
            "é ✓ \u{2028} 😀",
        ] {
            let quoted = format!("\"{}\"", json(s));
            let back: String = serde_json::from_str(&quoted).unwrap_or_default();
            assert_eq!(back, s, "{quoted}");
        }
        assert_eq!(json("a\u{1}b"), "a\\u0001b");
    }
}
