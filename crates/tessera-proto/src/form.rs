//! `application/x-www-form-urlencoded` request bodies with OAuth's rules on parameters.
//!
//! Parsing costs time linear in the body's size: the parameters are counted before any is decoded
//! (more than [`MAX_PARAMS`] is refused at once), and names are looked up through an index sorted
//! once per body, so no body, however its names are chosen, makes the server compare every name
//! with every other (and no hash of attacker-chosen names is involved).

use std::borrow::Cow;
use std::cmp::Ordering;

/// The most parameters a form body or query string may carry. No OAuth or page request needs more
/// than a few dozen; a body with more is refused before its names are decoded.
pub const MAX_PARAMS: usize = 100;

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
    /// The body has more parameters than its reader accepts ([`MAX_PARAMS`] unless it says).
    #[error("too many parameters: at most {0} are accepted")]
    TooMany(usize),
}

/// The parameters of a form body, in order, with OAuth's rules applied: a parameter sent without a
/// value is treated as omitted (RFC 6749 §3.1), and [`FormParams::get`] refuses a repeated one.
///
/// Its `Debug` output lists the names only: values may be secrets (`client_secret`, `password`).
#[derive(Clone, Default)]
pub struct FormParams {
    pairs: Vec<(String, String)>,
    /// Positions in `pairs`, ordered by name and, for one name, by position: the occurrences of a
    /// name are next to each other, in the order they were sent.
    by_name: Vec<usize>,
}

impl std::fmt::Debug for FormParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.pairs.iter().map(|(k, _)| k))
            .finish()
    }
}

impl FormParams {
    /// Parses a body. Fails when it has more than [`MAX_PARAMS`] parameters (checked before any
    /// is decoded) or when a name or value is not UTF-8 once percent-decoded.
    pub fn parse(body: &[u8]) -> Result<Self, FormError> {
        Self::parse_at_most(body, MAX_PARAMS)
    }

    /// Parses a body as [`FormParams::parse`] does, accepting up to `max_params` parameters (a
    /// page form with one checkbox per scope, say). The cost stays linear in the body's size.
    pub fn parse_at_most(body: &[u8], max_params: usize) -> Result<Self, FormError> {
        let parts = || body.split(|b| *b == b'&').filter(|p| !p.is_empty());
        if parts().nth(max_params).is_some() {
            return Err(FormError::TooMany(max_params));
        }
        let mut pairs = Vec::with_capacity(4);
        for part in parts() {
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
        let mut by_name: Vec<usize> = (0..pairs.len()).collect();
        // Stable: equal names keep the order they were sent in.
        by_name.sort_by(|a, b| pairs[*a].0.cmp(&pairs[*b].0));
        Ok(Self { pairs, by_name })
    }

    fn name_at(&self, i: usize) -> &str {
        self.by_name
            .get(i)
            .and_then(|p| self.pairs.get(*p))
            .map_or("", |(k, _)| k.as_str())
    }

    /// The positions in `pairs` where `name` occurs, in order.
    fn occurrences(&self, name: &str) -> &[usize] {
        let from = self
            .by_name
            .partition_point(|p| self.pairs[*p].0.as_str().cmp(name) == Ordering::Less);
        let len = self.by_name[from..]
            .iter()
            .take_while(|p| self.pairs[**p].0 == name)
            .count();
        &self.by_name[from..from + len]
    }

    /// The single value of `name`, or `None` when absent; an error when it is repeated.
    pub fn get(&self, name: &str) -> Result<Option<&str>, FormError> {
        match self.occurrences(name) {
            [] => Ok(None),
            [p] => Ok(self.pairs.get(*p).map(|(_, v)| v.as_str())),
            _ => Err(FormError::Repeated(name.to_owned())),
        }
    }

    /// The single value of `name`; an error when absent or repeated.
    pub fn require(&self, name: &str) -> Result<&str, FormError> {
        self.get(name)?
            .ok_or_else(|| FormError::Missing(name.to_owned()))
    }

    /// Every value of a parameter that may repeat (such as RFC 8707's `resource`), in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.occurrences(name)
            .iter()
            .filter_map(|p| self.pairs.get(*p))
            .map(|(_, v)| v.as_str())
    }

    /// Whether `name` is present (with a value).
    pub fn contains(&self, name: &str) -> bool {
        !self.occurrences(name).is_empty()
    }

    /// The first parameter other than those in `allowed_repeats` that is present more than once:
    /// of the repeated names, the one whose second occurrence comes first.
    pub fn first_repeated(&self, allowed_repeats: &[&str]) -> Option<&str> {
        (1..self.by_name.len())
            .filter(|i| self.name_at(*i) == self.name_at(i - 1))
            .filter(|i| !allowed_repeats.contains(&self.name_at(*i)))
            .filter_map(|i| self.by_name.get(i).copied())
            .min()
            .and_then(|p| self.pairs.get(p))
            .map(|(k, _)| k.as_str())
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

    /// `n` distinct names, each with a value: `p0=1&p1=1&…`.
    fn distinct_names(n: usize) -> String {
        encode(
            (0..n)
                .map(|i| format!("p{i}"))
                .collect::<Vec<_>>()
                .iter()
                .map(|k| (k.as_str(), "1")),
        )
    }

    #[test]
    fn at_most_max_params_are_accepted() {
        let f = FormParams::parse(distinct_names(MAX_PARAMS).as_bytes());
        assert!(f.is_ok());
        let f = f.unwrap_or_default();
        assert_eq!(f.pairs().count(), MAX_PARAMS);
        assert_eq!(f.first_repeated(&[]), None);
        assert_eq!(f.get("p99"), Ok(Some("1")));
        for n in [MAX_PARAMS + 1, 10_000] {
            assert_eq!(
                FormParams::parse(distinct_names(n).as_bytes()).map(|_| ()),
                Err(FormError::TooMany(MAX_PARAMS)),
                "{n} names"
            );
        }
        // Empty parts (`&&`) are not parameters; empty values are.
        let sparse = format!("{}&&&&&&", distinct_names(MAX_PARAMS));
        assert!(FormParams::parse(sparse.as_bytes()).is_ok());
        let empty_values = format!("{}&a=&b=", distinct_names(MAX_PARAMS - 1));
        assert_eq!(
            FormParams::parse(empty_values.as_bytes()).map(|_| ()),
            Err(FormError::TooMany(MAX_PARAMS))
        );
    }

    #[test]
    fn too_many_is_refused_before_any_name_is_decoded() {
        // The first name is not UTF-8: decoding it would fail with `NotUtf8`, so `TooMany` shows
        // that the count came first, and that no per-name work was done on the other 10,000.
        let body = format!("%FF=1&{}", distinct_names(10_000));
        assert_eq!(
            FormParams::parse(body.as_bytes()).map(|_| ()),
            Err(FormError::TooMany(MAX_PARAMS))
        );
    }

    #[test]
    fn repeats_are_found_wherever_they_are() {
        let mut body = distinct_names(MAX_PARAMS - 2);
        body.push_str("&p40=again&resource=x");
        let f = FormParams::parse(body.as_bytes()).unwrap_or_default();
        assert_eq!(f.first_repeated(&[]), Some("p40"));
        assert_eq!(f.first_repeated(&["p40"]), None);
        assert_eq!(f.get("p40"), Err(FormError::Repeated("p40".into())));
        assert_eq!(f.get_all("p40").collect::<Vec<_>>(), ["1", "again"]);
        assert_eq!(f.get_all("absent").count(), 0);
        assert!(f.contains("resource") && !f.contains("absent"));
        // Of several repeated names, the one repeated first in the body.
        let f = FormParams::parse(b"a=1&b=1&b=2&a=2").unwrap_or_default();
        assert_eq!(f.first_repeated(&[]), Some("b"));
        assert_eq!(f.first_repeated(&["b"]), Some("a"));
    }

    #[test]
    fn debug_shows_names_not_values() {
        let f = FormParams::parse(b"client_id=c&client_secret=s3cr3t").unwrap_or_default();
        let shown = format!("{f:?}");
        assert!(
            shown.contains("client_secret") && !shown.contains("s3cr3t"),
            "{shown}"
        );
    }

    proptest! {
        #[test]
        fn parse_never_panics(body in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = FormParams::parse(&body);
        }

        #[test]
        fn the_index_agrees_with_a_plain_scan(
            pairs in proptest::collection::vec(("[abc]{1,2}", "[xy]{0,2}"), 0..40),
            allowed in proptest::collection::vec("[abc]{1,2}", 0..3),
        ) {
            let body = encode(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            let f = FormParams::parse(body.as_bytes()).unwrap_or_default();
            let kept: Vec<_> = pairs.iter().filter(|(_, v)| !v.is_empty()).collect();
            let allowed: Vec<&str> = allowed.iter().map(String::as_str).collect();
            let repeated = kept.iter().enumerate().find_map(|(i, (k, _))| {
                (!allowed.contains(&k.as_str()) && kept[..i].iter().any(|(p, _)| p == k))
                    .then_some(k.as_str())
            });
            prop_assert_eq!(f.first_repeated(&allowed), repeated);
            for name in ["a", "b", "c", "aa", "ab", "ca", "cc"] {
                let values: Vec<&str> =
                    kept.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect();
                prop_assert_eq!(f.get_all(name).collect::<Vec<_>>(), values.clone());
                prop_assert_eq!(f.contains(name), !values.is_empty());
                let expected = match values.as_slice() {
                    [] => Ok(None),
                    [v] => Ok(Some(*v)),
                    _ => Err(FormError::Repeated(name.to_owned())),
                };
                prop_assert_eq!(f.get(name), expected);
            }
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
