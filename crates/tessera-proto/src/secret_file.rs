//! The text of a file that holds one secret (a client secret, an HMAC key): everything but one
//! trailing line break (`\n` or `\r\n`), which editors and `echo` add and which is not part of
//! the secret.

/// `text` without one trailing `\n` or `\r\n`.
pub fn secret_text(text: &str) -> &str {
    text.strip_suffix("\r\n")
        .or_else(|| text.strip_suffix('\n'))
        .unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_trailing_line_break_goes() {
        assert_eq!(secret_text("s3cret\n"), "s3cret");
        assert_eq!(secret_text("s3cret\r\n"), "s3cret");
        assert_eq!(secret_text("s3cret\n\n"), "s3cret\n");
        assert_eq!(secret_text("s3cret"), "s3cret");
        assert_eq!(secret_text(" s3cret \r"), " s3cret \r");
    }
}
