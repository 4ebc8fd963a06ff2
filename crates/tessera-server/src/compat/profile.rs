//! Compatibility profiles: each one switches on what a system people migrate from documents and
//! Tessera does not do by default (its endpoint addresses; for Coupa, parameters in the query
//! string of a POST). `docs/migrating.md` lists what each one does.

use super::endpoint::Endpoint;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A system whose documented requests a profile makes work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// Coupa: `/oauth2/authorizations/new`, `/oauth2/device_authorizations`, and parameters in
    /// the query string of a POST to the token and device authorization endpoints.
    Coupa,
    /// OneLogin: the `/oidc/…` and `/oidc/2/…` addresses.
    #[serde(rename = "onelogin")]
    OneLogin,
    /// Curity: the `/oauth/v2/oauth-…` addresses.
    Curity,
}

/// Coupa's addresses (Coupa Core API, "OpenID Connect Clients").
const COUPA: [(&str, Endpoint); 2] = [
    ("/oauth2/authorizations/new", Endpoint::Authorization),
    (
        "/oauth2/device_authorizations",
        Endpoint::DeviceAuthorization,
    ),
];

/// OneLogin's addresses: its OpenID Connect API, version 1 (`/oidc/…`) and version 2
/// (`/oidc/2/…`).
const ONELOGIN: [(&str, Endpoint); 12] = [
    ("/oidc/auth", Endpoint::Authorization),
    ("/oidc/token", Endpoint::Token),
    ("/oidc/token/introspection", Endpoint::Introspection),
    ("/oidc/token/revocation", Endpoint::Revocation),
    ("/oidc/me", Endpoint::Userinfo),
    ("/oidc/certs", Endpoint::Jwks),
    ("/oidc/2/auth", Endpoint::Authorization),
    ("/oidc/2/token", Endpoint::Token),
    ("/oidc/2/token/introspection", Endpoint::Introspection),
    ("/oidc/2/token/revocation", Endpoint::Revocation),
    ("/oidc/2/me", Endpoint::Userinfo),
    ("/oidc/2/certs", Endpoint::Jwks),
];

/// The Curity Identity Server's default endpoint addresses.
const CURITY: [(&str, Endpoint); 6] = [
    ("/oauth/v2/oauth-authorize", Endpoint::Authorization),
    ("/oauth/v2/oauth-token", Endpoint::Token),
    ("/oauth/v2/oauth-introspect", Endpoint::Introspection),
    ("/oauth/v2/oauth-revoke", Endpoint::Revocation),
    ("/oauth/v2/oauth-userinfo", Endpoint::Userinfo),
    ("/oauth/v2/oauth-anonymous/jwks", Endpoint::Jwks),
];

impl Profile {
    /// Every profile.
    pub const ALL: [Profile; 3] = [Profile::Coupa, Profile::OneLogin, Profile::Curity];

    /// The name used in settings and metric labels.
    pub fn name(self) -> &'static str {
        match self {
            Self::Coupa => "coupa",
            Self::OneLogin => "onelogin",
            Self::Curity => "curity",
        }
    }

    /// Reads a name as [`Profile::name`] writes it (any case).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(name))
    }

    /// The vendor's addresses this profile serves, and the endpoint each one is.
    pub fn addresses(self) -> &'static [(&'static str, Endpoint)] {
        match self {
            Self::Coupa => &COUPA,
            Self::OneLogin => &ONELOGIN,
            Self::Curity => &CURITY,
        }
    }

    /// Whether parameters in the query string of a POST to the token and device authorization
    /// endpoints are read as if they were in the body (Coupa's documented requests).
    pub fn reads_query_parameters(self) -> bool {
        self == Self::Coupa
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_back_and_addresses_are_paths() {
        for p in Profile::ALL {
            assert_eq!(Profile::parse(p.name()), Some(p));
            assert_eq!(Profile::parse(&p.name().to_uppercase()), Some(p));
            for (path, _) in p.addresses() {
                assert!(path.starts_with('/') && !path.starts_with("/oauth2/token"));
            }
        }
        assert_eq!(Profile::parse("okta"), None);
    }
}
