//! A verified access token as a handler sees it: the RFC 9068 §2.2 claims (or the RFC 7662 §2.2
//! introspection answer) that the guard checked, read once into typed fields.

use crate::error::TokenError;
use serde_json::{Map, Value};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tessera_jose::Algorithm;
use tessera_proto::ScopeSet;

/// How a token was verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    /// A JWT access token (RFC 9068) whose signature a JWKS key verified.
    Jwt {
        /// The algorithm it was signed with.
        alg: Algorithm,
        /// The `kid` of its header.
        kid: Option<String>,
    },
    /// An opaque token the authorization server called active (RFC 7662 §2.2).
    Introspection,
}

struct Inner {
    subject: Option<String>,
    client_id: Option<String>,
    scopes: ScopeSet,
    audience: Vec<String>,
    issuer: Option<String>,
    expires_at: Option<i64>,
    not_before: Option<i64>,
    issued_at: Option<i64>,
    token_id: Option<String>,
    source: TokenSource,
    claims: Map<String, Value>,
}

/// The verified claims of the request's access token. The guard's layer puts one in the request
/// extensions; handlers take it as an axum extractor. Cloning is cheap (a reference count).
#[derive(Clone)]
pub struct VerifiedToken(Arc<Inner>);

impl fmt::Debug for VerifiedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedToken")
            .field("subject", &self.0.subject)
            .field("client_id", &self.0.client_id)
            .field("scopes", &self.0.scopes.to_string())
            .field("audience", &self.0.audience)
            .field("expires_at", &self.0.expires_at)
            .field("source", &self.0.source)
            .finish_non_exhaustive()
    }
}

impl VerifiedToken {
    /// Reads the typed fields out of a claims object, refusing claims of the wrong JSON type.
    pub(crate) fn from_claims(
        claims: Map<String, Value>,
        source: TokenSource,
    ) -> Result<Self, TokenError> {
        let string = |name: &'static str| -> Result<Option<String>, TokenError> {
            match claims.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(TokenError::Claim(name)),
            }
        };
        let time = |name: &'static str| -> Result<Option<i64>, TokenError> {
            match claims.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => numeric_date(v).map(Some).ok_or(TokenError::Claim(name)),
            }
        };
        let audience = match claims.get("aud") {
            None | Some(Value::Null) => Vec::new(),
            Some(v) => string_list(v).ok_or(TokenError::Claim("aud"))?,
        };
        // RFC 9068 §2.2.3.1 / RFC 8693 §4.2: `scope` is space-delimited; some servers send an
        // array, or `scp` (Azure AD, Okta).
        let scopes = match claims.get("scope").or_else(|| claims.get("scp")) {
            None | Some(Value::Null) => ScopeSet::new(),
            Some(Value::String(s)) => s
                .split(' ')
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect(),
            Some(v) => string_list(v)
                .ok_or(TokenError::Claim("scope"))?
                .into_iter()
                .collect(),
        };
        let client_id = match string("client_id")? {
            Some(c) => Some(c),
            None => string("azp")?,
        };
        Ok(Self(Arc::new(Inner {
            subject: string("sub")?,
            client_id,
            scopes,
            audience,
            issuer: string("iss")?,
            expires_at: time("exp")?,
            not_before: time("nbf")?,
            issued_at: time("iat")?,
            token_id: string("jti")?,
            source,
            claims,
        })))
    }

    /// `sub`: the client id for client credentials, the user otherwise (RFC 9068 §2.2).
    pub fn subject(&self) -> Option<&str> {
        self.0.subject.as_deref()
    }

    /// `client_id` (RFC 9068 §2.2, RFC 7662 §2.2), or `azp` when a server sends only that.
    pub fn client_id(&self) -> Option<&str> {
        self.0.client_id.as_deref()
    }

    /// The granted scopes (`scope`, RFC 9068 §2.2.3).
    pub fn scopes(&self) -> &ScopeSet {
        &self.0.scopes
    }

    /// Whether the token grants `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.0.scopes.contains(scope)
    }

    /// The audiences (`aud`, RFC 7519 §4.1.3), one or several.
    pub fn audience(&self) -> &[String] {
        &self.0.audience
    }

    /// The issuer (`iss`).
    pub fn issuer(&self) -> Option<&str> {
        self.0.issuer.as_deref()
    }

    /// `exp`, seconds since the epoch (always present for a JWT; optional in introspection).
    pub fn expires_at_unix(&self) -> Option<i64> {
        self.0.expires_at
    }

    /// `exp` as a time.
    pub fn expires_at(&self) -> Option<SystemTime> {
        let secs = u64::try_from(self.0.expires_at?).ok()?;
        UNIX_EPOCH.checked_add(Duration::from_secs(secs))
    }

    /// `nbf`, seconds since the epoch.
    pub fn not_before_unix(&self) -> Option<i64> {
        self.0.not_before
    }

    /// `iat`, seconds since the epoch.
    pub fn issued_at_unix(&self) -> Option<i64> {
        self.0.issued_at
    }

    /// `jti`, the token's unique id.
    pub fn token_id(&self) -> Option<&str> {
        self.0.token_id.as_deref()
    }

    /// How the token was verified.
    pub fn source(&self) -> &TokenSource {
        &self.0.source
    }

    /// Every claim, as received (for introspection: the whole answer).
    pub fn claims(&self) -> &Map<String, Value> {
        &self.0.claims
    }

    /// One claim.
    pub fn claim(&self, name: &str) -> Option<&Value> {
        self.0.claims.get(name)
    }
}

/// A `NumericDate` (RFC 7519 §2): an integer or a finite number, truncated to seconds.
pub(crate) fn numeric_date(v: &Value) -> Option<i64> {
    if let Some(i) = v.as_i64() {
        return Some(i);
    }
    let f = v.as_f64()?;
    if f.is_finite() && f.abs() < 1e15 {
        Some(f.trunc() as i64)
    } else {
        None
    }
}

/// A string or an array of strings (as `aud` is, RFC 7519 §4.1.3).
fn string_list(v: &Value) -> Option<Vec<String>> {
    match v {
        Value::String(s) => Some(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map(str::to_owned))
            .collect(),
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn reads_fields() {
        let t = VerifiedToken::from_claims(
            map(json!({"sub": "s", "azp": "c", "aud": ["a", "b"], "scp": ["x.y.z"], "exp": 10.7})),
            TokenSource::Introspection,
        );
        let t = t.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.client_id(), Some("c"));
        assert_eq!(t.audience(), ["a", "b"]);
        assert!(t.has_scope("x.y.z"));
        assert_eq!(t.expires_at_unix(), Some(10));
    }

    #[test]
    fn refuses_wrong_types() {
        for bad in [
            json!({"aud": 5}),
            json!({"aud": ["a", 1]}),
            json!({"exp": "soon"}),
            json!({"sub": {}}),
            json!({"scope": 3}),
            json!({"exp": 1e300}),
        ] {
            assert!(VerifiedToken::from_claims(map(bad), TokenSource::Introspection).is_err());
        }
    }

    /// Time claims at the ends of an `i64`, with any leeway and clock, are judged without overflow
    /// (tests build with overflow checks).
    #[test]
    fn extreme_times_are_judged_without_overflow() {
        use crate::verify::check_times;
        let t = |claims: Value| {
            VerifiedToken::from_claims(map(claims), TokenSource::Introspection).unwrap()
        };
        for now in [1_700_000_000, 0, i64::MAX, i64::MIN] {
            for leeway in [0, 60, i64::MAX] {
                let ok = |c: Value| check_times(&t(c), now, leeway, true);
                let exp = json!(i64::MAX);
                assert!(now == i64::MAX || ok(json!({"exp": exp})).is_ok());
                let r = ok(json!({"exp": i64::MIN}));
                assert!(r.is_ok() || matches!(r, Err(TokenError::Expired)));
                for claim in ["nbf", "iat"] {
                    for v in [i64::MAX, i64::MIN] {
                        let r = ok(json!({"exp": exp, claim: v}));
                        assert!(
                            r.is_ok()
                                || matches!(
                                    r,
                                    Err(TokenError::NotYetValid
                                        | TokenError::IssuedInFuture
                                        | TokenError::Expired)
                                ),
                            "{claim} {v} at {now} with {leeway}: {r:?}"
                        );
                    }
                }
            }
        }
        let far = t(json!({"exp": i64::MAX, "nbf": i64::MIN, "iat": i64::MIN}));
        assert!(check_times(&far, 1_700_000_000, 60, true).is_ok());
        let future = t(json!({"exp": i64::MAX, "nbf": i64::MAX}));
        assert!(matches!(
            check_times(&future, 1_700_000_000, 60, true),
            Err(TokenError::NotYetValid)
        ));
        assert_eq!(
            far.expires_at(),
            UNIX_EPOCH.checked_add(Duration::from_secs(i64::MAX as u64))
        );
    }
}
