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
        let eight = |x: u64| {
            x & HIGH == 0
                && !any_below(x, 0x20)
                && !any_is(x, 0x7f)
                && !(self.quoted && (any_is(x, b'"') || any_is(x, b'\\')))
        };
        if all_plain(s.as_bytes(), eight, plain) {
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
        let eight = |x: u64| !any_below(x, 0x20) && !any_is(x, b'"') && !any_is(x, b'\\');
        if all_plain(s.as_bytes(), eight, plain) {
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

/// Whether every byte of `s` is `plain`, eight at a time by `eight` (which says whether all the
/// bytes of a little-endian word are), the rest one by one: the common case, text with nothing to
/// escape, in a few instructions per eight bytes.
fn all_plain(s: &[u8], eight: impl Fn(u64) -> bool, plain: impl Fn(u8) -> bool) -> bool {
    let mut words = s.chunks_exact(8);
    for w in &mut words {
        let mut bytes = [0; 8];
        bytes.copy_from_slice(w);
        if !eight(u64::from_le_bytes(bytes)) {
            return false;
        }
    }
    words.remainder().iter().all(|&b| plain(b))
}

/// `0x01` in every byte of a word.
const ONES: u64 = u64::MAX / 255;
/// The high bit of every byte of a word.
const HIGH: u64 = ONES * 0x80;

/// Whether a byte of `x` is below `n` (at most 0x80): a byte below `n` borrows into its own high
/// bit when `n` is taken from it, and only such a byte starts a borrow.
fn any_below(x: u64, n: u8) -> bool {
    x.wrapping_sub(ONES * u64::from(n)) & !x & HIGH != 0
}

/// Whether a byte of `x` is `b`.
fn any_is(x: u64, b: u8) -> bool {
    any_below(x ^ (ONES * u64::from(b)), 1)
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
    fn every_byte_in_every_place_of_a_word_is_judged_as_alone() {
        // Each byte value at each place of a 16-byte string (two words) and of a 13-byte one
        // (a word and a rest), among plain letters: escaped exactly when it alone would be.
        for len in [16, 13] {
            for at in 0..len {
                for b in 0..=0x7f_u8 {
                    let mut bytes = vec![b'a'; len];
                    bytes[at] = b;
                    let s = String::from_utf8(bytes).unwrap_or_default();
                    let alone = char::from(b).to_string();
                    for quoted in [false, true] {
                        assert_eq!(
                            text(&s, quoted) == s,
                            text(&alone, quoted) == alone,
                            "{b:#x} at {at} of {len}"
                        );
                    }
                    assert_eq!(json(&s) == s, json(&alone) == alone, "{b:#x} at {at}");
                }
            }
            let mut s = "a".repeat(len);
            s.replace_range(len / 2..len / 2 + 1, "é");
            assert_eq!(json(&s), s);
            assert_eq!(text(&s, true), s);
        }
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
