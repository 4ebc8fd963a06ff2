//! The caller's address.

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// Whether to believe `X-Forwarded-For`; set once at start-up from `http.trust_forwarded_for`.
#[derive(Debug, Clone, Copy)]
pub struct TrustForwardedFor(pub bool);

/// The client's IP address: the peer's, or the left-most `X-Forwarded-For` entry when the server
/// is configured to trust it.
#[derive(Debug, Clone, Copy)]
pub struct RemoteAddr(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for RemoteAddr {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let trust = parts
            .extensions
            .get::<TrustForwardedFor>()
            .copied()
            .unwrap_or(TrustForwardedFor(false));
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)), |c| c.0);
        Ok(Self::resolve(&parts.headers, peer, trust))
    }
}

impl RemoteAddr {
    /// The caller's address for a request from `peer` with `headers`.
    pub fn resolve(headers: &HeaderMap, peer: SocketAddr, trust: TrustForwardedFor) -> Self {
        if trust.0
            && let Some(ip) = headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .and_then(|v| v.trim().parse::<IpAddr>().ok())
        {
            return Self(ip);
        }
        Self(peer.ip())
    }
}
