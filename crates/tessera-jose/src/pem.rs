//! PEM documents (RFC 7468), read and written by RustCrypto's `pem-rfc7468`.

use crate::JoseError;
use pem_rfc7468::{Decoder, LineEnding};

/// Splits a PEM document into its label and DER body. Explanatory text before the document is
/// skipped; the base64 line width is detected from the first line.
pub(crate) fn parse_pem(pem: &str) -> Result<(String, Vec<u8>), JoseError> {
    let bad = |e: pem_rfc7468::Error| JoseError::InvalidKey(format!("not a PEM document: {e}"));
    let mut decoder = Decoder::new_detect_wrap(pem.as_bytes()).map_err(bad)?;
    let label = decoder.type_label().to_owned();
    let mut der = Vec::new();
    decoder.decode_to_end(&mut der).map_err(bad)?;
    Ok((label, der))
}

/// Wraps DER in a PEM document with `label` (lines of 64 characters, `\n` line endings).
/// Returns an empty string when `label` is not a valid RFC 7468 label.
pub fn to_pem(label: &str, der: &[u8]) -> String {
    pem_rfc7468::encode_string(label, LineEnding::LF, der).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let der: Vec<u8> = (0..=255u8).cycle().take(700).collect();
        let pem = to_pem("PRIVATE KEY", &der);
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        assert!(pem.ends_with("-----END PRIVATE KEY-----\n"));
        assert_eq!(
            parse_pem(&pem).unwrap_or_default(),
            ("PRIVATE KEY".to_owned(), der)
        );
    }

    #[test]
    fn preamble_and_other_line_widths_are_read() {
        let der: Vec<u8> = (0..=255u8).cycle().take(300).collect();
        let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &der);
        let body: Vec<&str> = b64
            .as_bytes()
            .chunks(76)
            .map(|c| std::str::from_utf8(c).unwrap_or_default())
            .collect();
        let pem = format!(
            "Bag Attributes\n    localKeyID: 01\n-----BEGIN RSA PRIVATE KEY-----\n{}\n-----END RSA PRIVATE KEY-----\n",
            body.join("\n")
        );
        assert_eq!(
            parse_pem(&pem).unwrap_or_default(),
            ("RSA PRIVATE KEY".to_owned(), der)
        );
    }

    /// Malformed documents are refused (an empty but well-formed document is not malformed: the
    /// key parser refuses its empty DER, see the `pem_inputs` integration test).
    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for input in [
            "",
            "-----BEGIN X-----END X-----",
            "-----BEGIN X-----\n-----END Y-----\n",
            "-----BEGIN -----\n-----END -----\n",
            "-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n",
            "-----END PRIVATE KEY-----\n-----BEGIN PRIVATE KEY-----\n",
            "-----BEGIN PRIVATE KEY-----",
            "-----BEGIN ",
            "-----BEGIN \u{e9}\u{e9}\u{e9}-----\nAAAA\n-----END \u{e9}\u{e9}\u{e9}-----\n",
            "not pem at all",
            "\0-----BEGIN X-----\nAAAA\n-----END X-----\n",
        ] {
            assert!(parse_pem(input).is_err(), "{input:?}");
        }
    }
}
