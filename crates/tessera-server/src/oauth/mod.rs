//! The OAuth 2.0 endpoints.

pub mod assertion;
pub mod authorize;
pub mod client_auth;
pub mod device;
pub mod discovery;
pub mod error;
pub mod grants;
pub mod id_token;
pub mod introspect;
pub mod pkce;
pub mod remote_jwks;
pub mod request;
pub mod revoke;
pub mod token;
pub mod token_latency;
pub mod userinfo;
