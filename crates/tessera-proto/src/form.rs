//! `application/x-www-form-urlencoded` request bodies with OAuth's rules on parameters.

use std::borrow::Cow;

/// Why a form body or one of its parameters was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    /// RFC 6749 §3.1/§3.2: "Request and response parameters MUST NOT be included more than once."
    #[error("the parameter {0:?} is included more than once")]
    Repeated(String),
    /// The body is not valid UTF-8 after percent-decoding.
    #[error("the request body is not valid application/x-www-form-urlencoded UTF-8")]
    NotUtf8,
    /// A required parameter is absent.
    #[error("the parameter {0:?} is missing")]
    Missing(String),
}

/// The parameters of a form body, in order, with OAuth's rules applied: a parameter sent without a
/// value is treated as omitted (RFC 6749 §3.1), and [`FormParams::get`] refuses a repeated one.
#[derive(Debug, Clone, Default)]
pub struct FormParams {
    pairs: Vec<(String, String)>,
}

impl FormParams {
    /// Parses a body. Fails only when a name or value is not UTF-8 once percent-decoded.
    pub fn parse(body: &[u8]) -> Result<Self, FormError> {
        let mut pairs = Vec::with_capacity(4);
        for part in body.split(|b| *b == b'&') {
            if part.is_empty() {
                continue;
            }
            let (k, v) = match part.iter().position(|b| *b == b'=') {
                Some(i) => (&part[..i], &part[i + 1..]),
                None => (part, &b""[..]),
            };
            let v = decode_component(v)?;
            if v.is_empty() {
                continue;
            }
            pairs.push((decode_component(k)?, v));
        }
        Ok(Self { pairs })
    }

    /// The single value of `name`, or `None` when absent; an error when it is repeated.
    pub fn get(&self, name: &str) -> Result<Option<&str>, FormError> {
        let mut found = None;
        for (k, v) in &self.pairs {
            if k == name {
                if found.is_some() {
                    return Err(FormError::Repeated(name.to_owned()));
                }
                found = Some(v.as_str());
            }
        }
        Ok(found)
    }

    /// The single value of `name`; an error when absent or repeated.
    pub fn require(&self, name: &str) -> Result<&str, FormError> {
        self.get(name)?
            .ok_or_else(|| FormError::Missing(name.to_owned()))
    }

    /// Every value of a parameter that may repeat (such as RFC 8707's `resource`).
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.pairs
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether `name` is present (with a value).
    pub fn contains(&self, name: &str) -> bool {
        self.pairs.iter().any(|(k, _)| k == name)
    }

    /// The first parameter other than those in `allowed_repeats` that is present more than once.
    pub fn first_repeated(&self, allowed_repeats: &[&str]) -> Option<&str> {
        for (i, (k, _)) in self.pairs.iter().enumerate() {
            if allowed_repeats.contains(&k.as_str()) {
                continue;
            }
            if self.pairs[..i].iter().any(|(p, _)| p == k) {
                return Some(k);
            }
        }
        None
    }

    /// All pairs, in order.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// Decodes one form component: `+` is a space, `%XX` a byte, and the result must be UTF-8.
fn decode_component(raw: &[u8]) -> Result<String, FormError> {
    let spaced: Cow<'_, [u8]> = if raw.contains(&b'+') {
        Cow::Owned(
            raw.iter()
                .map(|b| if *b == b'+' { b' ' } else { *b })
                .collect(),
        )
    } else {
        Cow::Borrowed(raw)
    };
    let bytes: Vec<u8> = percent_encoding::percent_decode(&spaced).collect();
    String::from_utf8(bytes).map_err(|_| FormError::NotUtf8)
}

/// Encodes pairs as a form body.
pub fn encode<'a, I>(pairs: I) -> String
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let mut ser = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        ser.append_pair(k, v);
    }
    ser.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn oauth_rules() {
        let f = FormParams::parse(b"grant_type=client_credentials&scope=&resource=a&resource=b")
            .unwrap_or_default();
        assert_eq!(f.get("grant_type"), Ok(Some("client_credentials")));
        assert_eq!(f.get("scope"), Ok(None));
        assert_eq!(
            f.get("resource"),
            Err(FormError::Repeated("resource".into()))
        );
        assert_eq!(f.get_all("resource").collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(f.first_repeated(&["resource"]), None);
        assert_eq!(f.first_repeated(&[]), Some("resource"));
        assert_eq!(f.require("x"), Err(FormError::Missing("x".into())));
    }

    #[test]
    fn decoding() {
        let f = FormParams::parse(b"a=x+y%2Bz&b=%C3%A9").unwrap_or_default();
        assert_eq!(f.get("a"), Ok(Some("x y+z")));
        assert_eq!(f.get("b"), Ok(Some("é")));
        assert!(FormParams::parse(b"a=%FF").is_err());
        assert!(FormParams::parse(&[b'a', b'=', 0xff]).is_err());
    }

    proptest! {
        #[test]
        fn parse_never_panics(body in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = FormParams::parse(&body);
        }

        #[test]
        fn encode_then_parse(pairs in proptest::collection::vec(("[a-z_]{1,8}", "\\PC{1,16}"), 0..6)) {
            let mut seen = std::collections::HashSet::new();
            let pairs: Vec<_> = pairs.into_iter().filter(|(k, _)| seen.insert(k.clone())).collect();
            let body = encode(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            let parsed = FormParams::parse(body.as_bytes());
            prop_assert!(parsed.is_ok());
            let parsed = parsed.unwrap_or_default();
            for (k, v) in &pairs {
                prop_assert_eq!(parsed.get(k), Ok(Some(v.as_str())));
            }
        }
    }
}
