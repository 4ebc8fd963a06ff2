//! Tessera's token client: gets OAuth 2.0 access tokens from any standards-compliant
//! authorization server, keeps them cached and fresh, and presents them.
//!
//! - A [`Credential`] says where and how to get a token: the token endpoint (or an issuer resolved
//!   through [RFC 8414] / [OpenID Connect Discovery]), the client id, the client authentication
//!   method ([RFC 6749 §2.3.1], [RFC 7523 §2.2]), the grant ([RFC 6749 §4.4], [§4.3],
//!   [RFC 7523 §2.1], and [§6] refresh whenever the server returns a refresh token), scopes,
//!   audiences, [RFC 8707] resources and extra parameters.
//! - A [`TokenSource`] serves tokens for one credential from a [`TokenCache`]: the cached token is
//!   returned without a lock and without an allocation; it is refreshed in the background ahead of
//!   its expiry (with jitter) while the current one keeps being served; concurrent callers on a cold
//!   entry cause exactly one token request, which runs in its own task so that a caller that gives
//!   up does not cancel it.
//! - [`BearerMiddleware`] is a `reqwest-middleware` layer that presents the token
//!   ([RFC 6750 §2.1]) and, on a `401` whose challenge says `invalid_token` (or names no error),
//!   evicts that token, gets a new one and retries ([`BearerMiddleware::retries`] times, default 1).
//!
//! Secrets ([`SecretString`], `secrecy`'s, re-exported with [`ExposeSecret`]) and tokens
//! ([`AccessToken`]) never print: their `Debug` is redacted, they have no `Display`, and they are
//! wiped on drop. Logs (`tracing`) and metrics (`metrics`, see [`metrics`](crate::metrics))
//! never carry a token or a secret.
//!
//! ```no_run
//! # async fn demo() -> Result<(), tessera_client::Error> {
//! use tessera_client::{Credential, Endpoint, SecretString, TokenSource};
//!
//! let credential = Credential::builder(
//!         Endpoint::token_endpoint("https://auth.example.com/oauth2/token")?,
//!         "billing-service",
//!     )
//!     .client_secret(SecretString::from("tsk_…"))
//!     .scopes(["core.accounting.read"])
//!     .build()?;
//! let source = TokenSource::new(credential)?;
//! let token = source.token().await?;
//! # let _ = token; Ok(()) }
//! ```
//!
//! [RFC 8414]: https://www.rfc-editor.org/rfc/rfc8414
//! [OpenID Connect Discovery]: https://openid.net/specs/openid-connect-discovery-1_0.html
//! [RFC 6749 §2.3.1]: https://www.rfc-editor.org/rfc/rfc6749#section-2.3.1
//! [RFC 7523 §2.2]: https://www.rfc-editor.org/rfc/rfc7523#section-2.2
//! [RFC 6749 §4.4]: https://www.rfc-editor.org/rfc/rfc6749#section-4.4
//! [§4.3]: https://www.rfc-editor.org/rfc/rfc6749#section-4.3
//! [RFC 7523 §2.1]: https://www.rfc-editor.org/rfc/rfc7523#section-2.1
//! [§6]: https://www.rfc-editor.org/rfc/rfc6749#section-6
//! [RFC 8707]: https://www.rfc-editor.org/rfc/rfc8707
//! [RFC 6750 §2.1]: https://www.rfc-editor.org/rfc/rfc6750#section-2.1

mod assertion;
mod auth;
mod backoff;
mod cache;
mod challenge;
pub mod config;
mod credential;
mod discovery;
mod endpoint;
mod error;
mod fetch;
mod key;
mod lifetime;
pub mod metrics;
mod middleware;
mod singleflight;
mod source;
mod striped;
mod token;

pub use assertion::{KeySource, SigningProfile};
pub use backoff::RetryPolicy;
pub use cache::TokenCache;
pub use challenge::BearerChallenge;
pub use credential::{BasicEncoding, Credential, CredentialBuilder, Grant, JwtBearerAssertion};
pub use discovery::discover;
pub use endpoint::Endpoint;
pub use error::Error;
pub use fetch::{FetchedToken, LifetimeSource};
pub use key::CacheKey;
pub use lifetime::{LifetimePolicy, RefreshPolicy};
pub use middleware::BearerMiddleware;
pub use secrecy::{ExposeSecret, SecretString};
pub use source::{TokenSource, TokenSourceBuilder};
pub use token::AccessToken;

pub use tessera_jose::Algorithm;
pub use tessera_proto::{
    ClientAuthMethod, ErrorCode, ErrorResponse, GrantType, ScopeSet, TokenResponse,
};
