//! HTTP Basic client authentication as OAuth 2.0 defines it (RFC 6749 §2.3.1 and Appendix B):
//! the client id and secret are each form-urlencoded, joined by `:`, then base64-encoded.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// Why an `Authorization: Basic …` header was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BasicError {
    /// The scheme is not `Basic`.
    #[error("the Authorization header does not use the Basic scheme")]
    NotBasic,
    /// The credentials are not valid base64.
    #[error("the Basic credentials are not valid base64")]
    Base64,
    /// The decoded credentials have no `:`.
    #[error("the Basic credentials have no ':' between client id and secret")]
    NoColon,
    /// The decoded credentials, or their form-urldecoded parts, are not UTF-8.
    #[error("the Basic credentials are not UTF-8 once decoded")]
    NotUtf8,
    /// The client id is empty.
    #[error("the Basic credentials have an empty client id")]
    EmptyId,
}

/// Form-urlencodes one value as Appendix B asks (space as `+`, everything but `*-._` and
/// alphanumerics percent-encoded).
pub fn form_urlencode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// Decodes one form-urlencoded value (`+` is a space, `%XX` a byte; the result must be UTF-8).
pub fn form_urldecode(value: &str) -> Result<String, BasicError> {
    if !value.contains(['+', '%']) {
        // Nothing encoded (the usual generated id and secret): the value as it is.
        return Ok(value.to_owned());
    }
    let spaced = value.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| BasicError::NotUtf8)
}

/// The value of an `Authorization` header carrying a client id and secret per RFC 6749 §2.3.1.
pub fn encode(client_id: &str, client_secret: &str) -> String {
    let joined = format!(
        "{}:{}",
        form_urlencode(client_id),
        form_urlencode(client_secret)
    );
    format!("Basic {}", STANDARD.encode(joined))
}

/// The value of an `Authorization` header with the id and secret joined raw (RFC 7617), for
/// servers that do not decode as RFC 6749 asks.
pub fn encode_raw(client_id: &str, client_secret: &str) -> String {
    format!(
        "Basic {}",
        STANDARD.encode(format!("{client_id}:{client_secret}"))
    )
}

/// Parses an `Authorization` header value of the Basic scheme into `(client_id, client_secret)`,
/// form-urldecoding both parts. The scheme name is matched case-insensitively (RFC 7235 §2.1).
pub fn decode(header: &str) -> Result<(String, String), BasicError> {
    let (scheme, rest) = header.split_once(' ').ok_or(BasicError::NotBasic)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(BasicError::NotBasic);
    }
    let token = rest.trim_matches(' ');
    let raw = STANDARD.decode(token).map_err(|_| BasicError::Base64)?;
    let raw = String::from_utf8(raw).map_err(|_| BasicError::NotUtf8)?;
    let (id, secret) = raw.split_once(':').ok_or(BasicError::NoColon)?;
    let id = form_urldecode(id)?;
    let secret = form_urldecode(secret)?;
    if id.is_empty() {
        return Err(BasicError::EmptyId);
    }
    Ok((id, secret))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rfc_example_shape() {
        // RFC 6749 §2.3.1 example: s6BhdRkqt3:gX1fBat3bV
        assert_eq!(
            decode("Basic czZCaGRSa3F0MzpnWDFmQmF0M2JW"),
            Ok(("s6BhdRkqt3".into(), "gX1fBat3bV".into()))
        );
        assert_eq!(
            decode("basic czZCaGRSa3F0MzpnWDFmQmF0M2JW"),
            Ok(("s6BhdRkqt3".into(), "gX1fBat3bV".into()))
        );
    }

    #[test]
    fn special_characters() {
        let id = "a:b%c+d e/é";
        let secret = "s:e%c+r e/t€";
        let header = encode(id, secret);
        assert_eq!(decode(&header), Ok((id.into(), secret.into())));
    }

    #[test]
    fn malformed() {
        assert_eq!(decode("Bearer abc"), Err(BasicError::NotBasic));
        assert_eq!(decode("Basic"), Err(BasicError::NotBasic));
        assert_eq!(decode("Basic !!!"), Err(BasicError::Base64));
        assert_eq!(decode("Basic YWJj"), Err(BasicError::NoColon));
        assert_eq!(decode("Basic OnNlY3JldA=="), Err(BasicError::EmptyId));
    }

    proptest! {
        #[test]
        fn round_trip(id in "\\PC{1,24}", secret in "\\PC{0,48}") {
            prop_assert_eq!(decode(&encode(&id, &secret)), Ok((id, secret)));
        }

        #[test]
        fn never_panics(s in "\\PC{0,64}") {
            let _ = decode(&s);
            let _ = decode(&format!("Basic {s}"));
        }
    }
}
