//! The guard: lets an API accept OAuth 2.0 bearer access tokens with a few lines of code.
//!
//! - JWT access tokens (RFC 9068) are verified offline against the issuer's JWKS (RFC 7517),
//!   found by discovery (RFC 8414, OpenID Connect Discovery) or configured: signature with an
//!   allow-listed asymmetric algorithm (RFC 8725 §3.1), `typ` (`at+jwt`), `crit`, `iss`, `aud`,
//!   `exp`, `nbf` and `iat`.
//! - Other tokens are introspected (RFC 7662) with the guard's own client credentials.
//! - Results are cached by the token's SHA-256 until the token expires: a repeated token costs a
//!   hash and a map look-up.
//! - [`GuardLayer`] (tower) protects routes and answers per RFC 6750 §3; [`VerifiedToken`] is the
//!   axum extractor that hands handlers the claims.
//!
//! See `docs/guard.md` for an example and the choices made where the RFCs leave one.

mod bearer;
mod cache;
mod challenge;
mod clock;
mod config;
mod discovery;
mod error;
mod extract;
mod fetch;
mod guard;
mod introspection;
mod jwks;
mod layer;
mod token;
mod verify;

pub use challenge::{Rejection, RejectionKind};
pub use clock::Clock;
pub use config::{
    DEFAULT_ALGORITHMS, DEFAULT_LEEWAY, DEFAULT_MAX_TOKEN_LEN, GuardConfig, IntrospectionConfig,
    JwksPolicy, KeySource, MIN_MAX_TOKEN_LEN, TypPolicy,
};
pub use error::{ConfigError, RequestError, StartError, TokenError, UnavailableError, VerifyError};
pub use guard::Guard;
pub use layer::{GuardLayer, GuardService};
pub use tessera_jose::Algorithm;
pub use tessera_proto::ScopeSet;
pub use token::{TokenSource, VerifiedToken};
