//! Where tokens come from: a token endpoint URL (RFC 6749 §3.2), or an issuer whose metadata
//! names it (RFC 8414 §3, OpenID Connect Discovery §4).

use crate::Error;
use reqwest::Url;
use std::fmt;

/// The token endpoint of a credential, given directly or through the issuer's metadata.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// The token endpoint URL itself (RFC 6749 §3.2).
    TokenEndpoint(Url),
    /// An issuer identifier (RFC 8414 §2): the token endpoint is read from its metadata, fetched
    /// once, on first use, from `/.well-known/openid-configuration` or
    /// `/.well-known/oauth-authorization-server` (see [`crate::discover`]).
    Issuer(Url),
}

fn parse_http_url(what: &str, url: &str) -> Result<Url, Error> {
    let parsed = Url::parse(url).map_err(|e| Error::Config(format!("{what} {url:?}: {e}")))?;
    match parsed.scheme() {
        "https" | "http" => {}
        other => {
            return Err(Error::Config(format!(
                "{what} {url:?} uses scheme {other:?}; only https (and http for development) is supported"
            )));
        }
    }
    if parsed.fragment().is_some() {
        // RFC 6749 §3.2: the endpoint URI MUST NOT include a fragment component.
        return Err(Error::Config(format!(
            "{what} {url:?} has a fragment, which RFC 6749 §3.2 forbids"
        )));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(Error::Config(format!(
            "{what} carries user information; put the client id and secret in the credential instead"
        )));
    }
    Ok(parsed)
}

impl Endpoint {
    /// A token endpoint URL (`https://…/oauth2/token`). RFC 6749 §3.2 forbids a fragment; `http`
    /// is accepted for development, though RFC 6749 §3.2 requires TLS in production.
    pub fn token_endpoint(url: &str) -> Result<Self, Error> {
        parse_http_url("token endpoint", url).map(Self::TokenEndpoint)
    }

    /// An issuer identifier (RFC 8414 §2: `https`, no query, no fragment).
    pub fn issuer(url: &str) -> Result<Self, Error> {
        let parsed = parse_http_url("issuer", url)?;
        if parsed.query().is_some() {
            return Err(Error::Config(format!(
                "issuer {url:?} has a query, which RFC 8414 §2 forbids"
            )));
        }
        Ok(Self::Issuer(parsed))
    }

    /// The URL as configured (token endpoint or issuer).
    pub fn url(&self) -> &Url {
        match self {
            Self::TokenEndpoint(u) | Self::Issuer(u) => u,
        }
    }

    /// A stable designator used in cache keys: `token:<url>` or `issuer:<url>`.
    pub(crate) fn designator(&self) -> String {
        match self {
            Self::TokenEndpoint(u) => format!("token:{u}"),
            Self::Issuer(u) => format!("issuer:{u}"),
        }
    }
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TokenEndpoint(u) => write!(f, "TokenEndpoint({u})"),
            Self::Issuer(u) => write!(f, "Issuer({u})"),
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TokenEndpoint(u) => write!(f, "token endpoint {u}"),
            Self::Issuer(u) => write!(f, "issuer {u}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_bad_urls() {
        assert!(Endpoint::token_endpoint("https://a.example/token").is_ok());
        assert!(Endpoint::token_endpoint("ftp://a.example/token").is_err());
        assert!(Endpoint::token_endpoint("https://a.example/token#x").is_err());
        assert!(Endpoint::token_endpoint("https://u:p@a.example/token").is_err());
        assert!(Endpoint::token_endpoint("not a url").is_err());
        assert!(Endpoint::issuer("https://a.example/?x=1").is_err());
        assert!(Endpoint::issuer("https://a.example/tenant").is_ok());
    }
}
