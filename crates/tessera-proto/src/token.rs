//! The token endpoint's successful response (RFC 6749 §5.1) and token formats.

use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

/// A successful token response (RFC 6749 §5.1, OpenID Connect Core §3.1.3.3).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    /// The access token.
    pub access_token: String,
    /// The token type; `Bearer` (RFC 6750). Compared case-insensitively by clients.
    pub token_type: String,
    /// Lifetime in seconds. Some servers send it as a string; both are accepted.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "number_or_string"
    )]
    pub expires_in: Option<u64>,
    /// A refresh token, when the grant gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// The granted scope, space-delimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// An OpenID Connect ID token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &"[redacted]")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[redacted]"),
            )
            .field("scope", &self.scope)
            .field("id_token", &self.id_token.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

fn number_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NumOrStr {
        Num(u64),
        Float(f64),
        Str(String),
    }
    match Option::<NumOrStr>::deserialize(d)? {
        None => Ok(None),
        Some(NumOrStr::Num(n)) => Ok(Some(n)),
        Some(NumOrStr::Float(f)) if f.is_finite() && f >= 0.0 => Ok(Some(f as u64)),
        Some(NumOrStr::Float(_)) => Err(serde::de::Error::custom("expires_in is negative")),
        Some(NumOrStr::Str(s)) => s
            .trim()
            .parse::<u64>()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("expires_in {s:?} is not a number"))),
    }
}

/// The form of an access token Tessera issues.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum TokenFormat {
    /// A signed JWT per RFC 9068, verifiable offline against the JWKS.
    #[default]
    Jwt,
    /// A random reference token, verifiable by introspection only.
    Opaque,
}

impl TokenFormat {
    /// The configuration name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Jwt => "jwt",
            Self::Opaque => "opaque",
        }
    }
}

impl std::str::FromStr for TokenFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "jwt" => Ok(Self::Jwt),
            "opaque" => Ok(Self::Opaque),
            _ => Err(format!("unknown token format {s:?} (jwt or opaque)")),
        }
    }
}

impl fmt::Display for TokenFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// RFC 8693 token type identifiers used by introspection and revocation hints (RFC 7009 §2.1).
pub mod token_type_hint {
    /// `access_token`.
    pub const ACCESS_TOKEN: &str = "access_token";
    /// `refresh_token`.
    pub const REFRESH_TOKEN: &str = "refresh_token";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expires_in_as_string_or_number() {
        let a: Result<TokenResponse, _> = serde_json::from_str(
            r#"{"access_token":"x","token_type":"Bearer","expires_in":"3600"}"#,
        );
        assert_eq!(a.ok().and_then(|t| t.expires_in), Some(3600));
        let b: Result<TokenResponse, _> =
            serde_json::from_str(r#"{"access_token":"x","token_type":"Bearer","expires_in":60}"#);
        assert_eq!(b.ok().and_then(|t| t.expires_in), Some(60));
        let c: Result<TokenResponse, _> =
            serde_json::from_str(r#"{"access_token":"x","token_type":"Bearer"}"#);
        assert_eq!(c.ok().map(|t| t.expires_in), Some(None));
    }

    #[test]
    fn debug_redacts() {
        let t = TokenResponse {
            access_token: "secret-token".into(),
            token_type: "Bearer".into(),
            expires_in: None,
            refresh_token: Some("rt".into()),
            scope: None,
            id_token: None,
        };
        let d = format!("{t:?}");
        assert!(!d.contains("secret-token") && !d.contains("\"rt\""));
    }
}
