//! Grant types (RFC 6749 §4 and extensions).

use serde::{Deserialize, Serialize};
use std::fmt;

/// A grant type: the value of the `grant_type` parameter at the token endpoint, and what a client
/// registration lists under `grant_types`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GrantType {
    /// RFC 6749 §4.4 `client_credentials`.
    ClientCredentials,
    /// RFC 6749 §4.1 `authorization_code`.
    AuthorizationCode,
    /// RFC 6749 §6 `refresh_token`.
    RefreshToken,
    /// RFC 6749 §4.3 `password` (legacy; RFC 9700 §2.4 says not to use it).
    Password,
    /// RFC 8628 §3.4 `urn:ietf:params:oauth:grant-type:device_code`.
    DeviceCode,
    /// RFC 7523 §2.1 `urn:ietf:params:oauth:grant-type:jwt-bearer`.
    JwtBearer,
}

impl GrantType {
    /// Every grant type Tessera knows.
    pub const ALL: [GrantType; 6] = [
        Self::ClientCredentials,
        Self::AuthorizationCode,
        Self::RefreshToken,
        Self::Password,
        Self::DeviceCode,
        Self::JwtBearer,
    ];

    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientCredentials => "client_credentials",
            Self::AuthorizationCode => "authorization_code",
            Self::RefreshToken => "refresh_token",
            Self::Password => "password",
            Self::DeviceCode => "urn:ietf:params:oauth:grant-type:device_code",
            Self::JwtBearer => "urn:ietf:params:oauth:grant-type:jwt-bearer",
        }
    }

    /// Parses a wire value (also the short forms `device_code` and `jwt-bearer` used on the CLI).
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "client_credentials" => Self::ClientCredentials,
            "authorization_code" => Self::AuthorizationCode,
            "refresh_token" => Self::RefreshToken,
            "password" => Self::Password,
            "urn:ietf:params:oauth:grant-type:device_code" | "device_code" => Self::DeviceCode,
            "urn:ietf:params:oauth:grant-type:jwt-bearer" | "jwt-bearer" | "jwt_bearer" => {
                Self::JwtBearer
            }
            _ => return None,
        })
    }
}

impl fmt::Display for GrantType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for GrantType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s).ok_or_else(|| format!("unknown grant type {s:?}"))
    }
}

impl Serialize for GrantType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for GrantType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("unknown grant type {s:?}")))
    }
}
