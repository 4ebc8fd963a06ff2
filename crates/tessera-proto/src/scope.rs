//! Scopes: the `scope` parameter (RFC 6749 §3.3) and Tessera's `service.object.right` names.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;

/// The scopes OpenID Connect defines (Core §5.4, §11), accepted as registered names beside
/// `service.object.right` ones.
pub const OPENID_SCOPES: [&str; 6] = [
    "openid",
    "profile",
    "email",
    "address",
    "phone",
    "offline_access",
];

/// Why a scope name or a `scope` parameter was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    /// A character outside RFC 6749 §3.3's `scope-token` (`%x21 / %x23-5B / %x5D-7E`).
    #[error("scope {0:?} has a character not allowed in a scope token (RFC 6749 §3.3)")]
    BadCharacter(String),
    /// Two spaces in a row, or a leading or trailing space.
    #[error("the scope parameter has an empty scope token; scopes are separated by single spaces")]
    Empty,
    /// Not a `scope-token` of RFC 6749 §3.3, or longer than [`MAX_SCOPE_NAME_LEN`].
    #[error(
        "scope {0:?} is not a scope token (RFC 6749 §3.3): 1 to 200 printable ASCII characters other than space, '\"' and '\\'"
    )]
    NotScopeToken(String),
    /// Not of the form `service.object.right`.
    #[error(
        "scope {0:?} is not of the form service.object.right (three dot-separated parts of lower-case letters, digits, '_' or '-', each starting with a letter)"
    )]
    NotServiceObjectRight(String),
}

/// Checks one `scope-token` of RFC 6749 §3.3.
pub fn is_scope_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
}

/// The longest scope name that may be registered.
pub const MAX_SCOPE_NAME_LEN: usize = 200;

/// Which names a scope may be registered under (the server's `scopes.naming`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum ScopeNaming {
    /// `service.object.right` (`core.accounting.read`), or an OpenID Connect scope. The default.
    #[default]
    #[serde(rename = "service.object.right")]
    ServiceObjectRight,
    /// Any `scope-token` of RFC 6749 §3.3 (`%x21 / %x23-5B / %x5D-7E`), such as Curity's `read`.
    #[serde(rename = "rfc6749")]
    Rfc6749,
}

impl ScopeNaming {
    /// The setting's value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ServiceObjectRight => "service.object.right",
            Self::Rfc6749 => "rfc6749",
        }
    }
}

impl fmt::Display for ScopeNaming {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A scope name that may be registered: `service.object.right` (`core.accounting.read`) or one of
/// the [`OPENID_SCOPES`] ([`ScopeName::parse`]); or, under [`ScopeNaming::Rfc6749`], any scope
/// token ([`ScopeName::parse_with`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ScopeName(String);

impl ScopeName {
    /// Parses a name, refusing anything that is not `service.object.right` or an OpenID scope.
    pub fn parse(s: &str) -> Result<Self, ScopeError> {
        if OPENID_SCOPES.contains(&s) {
            return Ok(Self(s.to_owned()));
        }
        let parts: Vec<&str> = s.split('.').collect();
        let part_ok = |p: &str| {
            let mut bytes = p.bytes();
            matches!(bytes.next(), Some(b'a'..=b'z'))
                && bytes.all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-'))
        };
        if parts.len() == 3 && parts.iter().all(|p| part_ok(p)) && s.len() <= MAX_SCOPE_NAME_LEN {
            Ok(Self(s.to_owned()))
        } else {
            Err(ScopeError::NotServiceObjectRight(s.to_owned()))
        }
    }

    /// Parses a name under `naming`.
    pub fn parse_with(s: &str, naming: ScopeNaming) -> Result<Self, ScopeError> {
        match naming {
            ScopeNaming::ServiceObjectRight => Self::parse(s),
            ScopeNaming::Rfc6749 if is_scope_token(s) && s.len() <= MAX_SCOPE_NAME_LEN => {
                Ok(Self(s.to_owned()))
            }
            ScopeNaming::Rfc6749 => Err(ScopeError::NotScopeToken(s.to_owned())),
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ScopeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ScopeName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A set of scope tokens, as carried by the `scope` parameter: space-delimited, order-free,
/// each token at most once (RFC 6749 §3.3). Kept sorted so it prints the same way every time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ScopeSet(BTreeSet<String>);

impl ScopeSet {
    /// The empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses a `scope` parameter. Repeated tokens collapse; empty tokens are refused.
    pub fn parse(s: &str) -> Result<Self, ScopeError> {
        let mut set = BTreeSet::new();
        if s.is_empty() {
            return Ok(Self(set));
        }
        for token in s.split(' ') {
            if token.is_empty() {
                return Err(ScopeError::Empty);
            }
            if !is_scope_token(token) {
                return Err(ScopeError::BadCharacter(token.to_owned()));
            }
            set.insert(token.to_owned());
        }
        Ok(Self(set))
    }

    /// Builds a set from names.
    pub fn from_names<I, S>(names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self(names.into_iter().map(Into::into).collect())
    }

    /// Whether the set holds `scope`.
    pub fn contains(&self, scope: &str) -> bool {
        self.0.contains(scope)
    }

    /// Whether every scope of `self` is in `other`.
    pub fn is_subset(&self, other: &ScopeSet) -> bool {
        self.0.is_subset(&other.0)
    }

    /// The scopes of `self` missing from `other`.
    pub fn difference<'a>(&'a self, other: &'a ScopeSet) -> impl Iterator<Item = &'a str> + 'a {
        self.0.difference(&other.0).map(String::as_str)
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The number of scopes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The scopes in sorted order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// Adds a scope.
    pub fn insert(&mut self, scope: impl Into<String>) {
        self.0.insert(scope.into());
    }
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for s in &self.0 {
            if !first {
                f.write_str(" ")?;
            }
            f.write_str(s)?;
            first = false;
        }
        Ok(())
    }
}

impl Serialize for ScopeSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ScopeSet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl FromIterator<String> for ScopeSet {
    fn from_iter<T: IntoIterator<Item = String>>(iter: T) -> Self {
        Self(iter.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn names() {
        assert!(ScopeName::parse("core.accounting.read").is_ok());
        assert!(ScopeName::parse("tessera.clients.write").is_ok());
        assert!(ScopeName::parse("openid").is_ok());
        assert!(ScopeName::parse("core.accounting").is_err());
        assert!(ScopeName::parse("Core.accounting.read").is_err());
        assert!(ScopeName::parse("core..read").is_err());
        assert!(ScopeName::parse("core.accounting.read.all").is_err());
        assert!(ScopeName::parse("1core.a.b").is_err());
    }

    #[test]
    fn names_under_rfc6749() {
        let n = ScopeNaming::Rfc6749;
        for ok in [
            "read",
            "core.accounting.read",
            "https://api.example/read",
            "a!#[]~",
        ] {
            assert!(ScopeName::parse_with(ok, n).is_ok(), "{ok}");
        }
        for bad in ["", "a b", "a\"b", "a\\b", "é", &"x".repeat(201)] {
            assert!(
                matches!(
                    ScopeName::parse_with(bad, n),
                    Err(ScopeError::NotScopeToken(_))
                ),
                "{bad}"
            );
        }
        assert!(ScopeName::parse_with("read", ScopeNaming::ServiceObjectRight).is_err());
        assert_eq!(
            serde_json::to_value(ScopeNaming::default()).ok(),
            Some(serde_json::Value::String("service.object.right".into()))
        );
    }

    #[test]
    fn parameter() {
        let s = ScopeSet::parse("b.c.d a.b.c b.c.d").unwrap_or_default();
        assert_eq!(s.to_string(), "a.b.c b.c.d");
        assert_eq!(ScopeSet::parse("a  b"), Err(ScopeError::Empty));
        assert_eq!(ScopeSet::parse(" a"), Err(ScopeError::Empty));
        assert!(matches!(
            ScopeSet::parse("a\"b"),
            Err(ScopeError::BadCharacter(_))
        ));
        assert!(ScopeSet::parse("").map(|s| s.is_empty()).unwrap_or(false));
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in any::<String>()) {
            let _ = ScopeSet::parse(&s);
            let _ = ScopeName::parse(&s);
        }

        #[test]
        fn printed_set_parses_back(tokens in proptest::collection::vec("[!#-\\[\\]-~]{1,12}", 0..6)) {
            let set = ScopeSet::from_names(tokens.clone());
            let back = ScopeSet::parse(&set.to_string());
            prop_assert_eq!(back, Ok(set));
        }

        #[test]
        fn valid_names_are_scope_tokens(a in "[a-z][a-z0-9_-]{0,8}", b in "[a-z][a-z0-9_-]{0,8}", c in "[a-z][a-z0-9_-]{0,8}") {
            let name = format!("{a}.{b}.{c}");
            prop_assert!(ScopeName::parse(&name).is_ok());
            prop_assert!(is_scope_token(&name));
        }
    }
}
