//! The OAuth endpoints an address can be mapped onto, by the names RFC 8414 §2 gives their
//! metadata (`token_endpoint` → `token`, `jwks_uri` → `jwks`).

use serde::{Deserialize, Serialize};
use std::fmt;

/// An endpoint of this server that may be reached through another address (see
/// [`super::aliases`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    /// The authorization endpoint (RFC 6749 §3.1), `/oauth2/authorize`.
    Authorization,
    /// The token endpoint (RFC 6749 §3.2), `/oauth2/token`.
    Token,
    /// The device authorization endpoint (RFC 8628 §3.1), `/oauth2/device_authorization`.
    DeviceAuthorization,
    /// The introspection endpoint (RFC 7662 §2), `/oauth2/introspect`.
    Introspection,
    /// The revocation endpoint (RFC 7009 §2), `/oauth2/revoke`.
    Revocation,
    /// The UserInfo endpoint (OpenID Connect Core §5.3), `/oauth2/userinfo`.
    Userinfo,
    /// The JWK Set document (RFC 8414 §2 `jwks_uri`), `/oauth2/jwks`.
    Jwks,
}

impl Endpoint {
    /// Every endpoint.
    pub const ALL: [Endpoint; 7] = [
        Endpoint::Authorization,
        Endpoint::Token,
        Endpoint::DeviceAuthorization,
        Endpoint::Introspection,
        Endpoint::Revocation,
        Endpoint::Userinfo,
        Endpoint::Jwks,
    ];

    /// The name used in settings (`token`, `device_authorization`, …).
    pub fn name(self) -> &'static str {
        match self {
            Self::Authorization => "authorization",
            Self::Token => "token",
            Self::DeviceAuthorization => "device_authorization",
            Self::Introspection => "introspection",
            Self::Revocation => "revocation",
            Self::Userinfo => "userinfo",
            Self::Jwks => "jwks",
        }
    }

    /// The endpoint's standard address, the one discovery announces.
    pub fn path(self) -> &'static str {
        match self {
            Self::Authorization => "/oauth2/authorize",
            Self::Token => "/oauth2/token",
            Self::DeviceAuthorization => "/oauth2/device_authorization",
            Self::Introspection => "/oauth2/introspect",
            Self::Revocation => "/oauth2/revoke",
            Self::Userinfo => "/oauth2/userinfo",
            Self::Jwks => "/oauth2/jwks",
        }
    }

    /// Reads a name as [`Endpoint::name`] writes it.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.name() == name)
    }

    /// The names, for error messages.
    pub fn names() -> String {
        Self::ALL.map(Endpoint::name).join(", ")
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_back_and_match_serde() {
        for e in Endpoint::ALL {
            assert_eq!(Endpoint::parse(e.name()), Some(e));
            assert_eq!(
                serde_json::to_value(e).ok(),
                Some(serde_json::Value::String(e.name().to_owned()))
            );
            assert!(e.path().starts_with("/oauth2/"));
        }
        assert_eq!(Endpoint::parse("tokens"), None);
    }
}
