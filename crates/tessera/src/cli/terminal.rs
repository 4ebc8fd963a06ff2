//! What the CLI writes to a terminal: text that came from elsewhere (a client id or username typed
//! into an unauthenticated request and kept in the audit log, a server's error description) is
//! shown with its control characters escaped, so that it cannot move the cursor, recolour or
//! clear the screen, start a new line inside a field, or reorder what is displayed.

use std::borrow::Cow;

/// Whether `c` acts on a terminal rather than being shown: the C0 controls (newline, escape, …),
/// DEL, the C1 controls (including the one-byte CSI), and the bidirectional embeddings, overrides
/// and isolates (U+202A–U+202E, U+2066–U+2069) that reorder a line as displayed.
pub(crate) fn is_dangerous(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every [dangerous](is_dangerous) character written as Rust writes it, `\u{1b}`;
/// everything else (backslashes included) as it is. Escaping twice changes nothing more.
pub(crate) fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_dangerous) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_dangerous(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `text` line by line through [`escape`], the line breaks kept: for an error message, whose own
/// text may run over several lines while the values it quotes must not act on the terminal. A
/// line break inside a quoted value starts a new line and nothing more.
pub(crate) fn escape_lines(text: &str) -> String {
    text.split('\n').map(escape).collect::<Vec<_>>().join("\n")
}

/// `println!` for text meant for people: the formatted line is passed through [`escape`]. (The
/// CLI's format strings hold no control characters of their own, so only the values change.)
macro_rules! outln {
    ($($arg:tt)*) => {
        ::std::println!("{}", $crate::cli::terminal::escape(&::std::format!($($arg)*)))
    };
}

/// `eprintln!` with the line passed through [`escape`], as [`outln!`] does.
macro_rules! errln {
    ($($arg:tt)*) => {
        ::std::eprintln!("{}", $crate::cli::terminal::escape(&::std::format!($($arg)*)))
    };
}

pub(crate) use {errln, outln};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_bidi_controls_are_escaped() {
        assert_eq!(escape("plain café ✓"), "plain café ✓");
        assert!(matches!(escape("plain"), Cow::Borrowed(_)));
        assert_eq!(escape("a\x1b[31mb\nc"), "a\\u{1b}[31mb\\u{a}c");
        assert_eq!(escape("\0\t\r\x7f"), "\\u{0}\\u{9}\\u{d}\\u{7f}");
        assert_eq!(escape("\u{9b}2J"), "\\u{9b}2J");
        assert_eq!(escape("x\u{202E}y\u{2066}z"), "x\\u{202e}y\\u{2066}z");
        assert_eq!(escape("\u{2029}"), "\u{2029}");
        let once = escape("\x1b]0;title\x07");
        assert_eq!(escape(&once), once);
        assert!(!once.chars().any(is_dangerous));
    }

    #[test]
    fn escape_lines_keeps_line_breaks_only() {
        assert_eq!(escape_lines("one\ntwo"), "one\ntwo");
        assert_eq!(
            escape_lines("a\x1b[2J\r\nb\t"),
            "a\\u{1b}[2J\\u{d}\nb\\u{9}"
        );
        assert_eq!(escape_lines(""), "");
    }

    #[test]
    fn every_dangerous_character_is_caught() {
        let ranges = (0u32..0x20)
            .chain(0x7f..0xa0)
            .chain(0x202a..0x202f)
            .chain(0x2066..0x206a);
        assert_eq!(ranges.clone().count(), 32 + 33 + 5 + 4);
        for c in ranges.filter_map(char::from_u32) {
            assert!(is_dangerous(c), "{c:?}");
        }
        for c in [' ', '~', '\u{a0}', 'é', '\u{2028}', '\u{200f}'] {
            assert!(!is_dangerous(c), "{c:?}");
        }
    }
}
