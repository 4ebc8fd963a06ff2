//! Wire types shared by every Tessera part: the authorization server, the token client, the guard
//! and the gateway.
//!
//! Everything here is plain data and parsing: grants ([RFC 6749 §4]), token requests and responses
//! ([§5]), error codes ([§5.2], [RFC 6750 §3.1], [RFC 8628 §3.5]), scopes ([§3.3]), client
//! authentication ([§2.3.1]), introspection ([RFC 7662]), discovery metadata ([RFC 8414]) and JWT
//! access token claims ([RFC 9068]). No I/O.
//! Also the one duration grammar of settings and the command line ([`duration`]).
//!
//! [RFC 6749 §4]: https://www.rfc-editor.org/rfc/rfc6749#section-4
//! [§5]: https://www.rfc-editor.org/rfc/rfc6749#section-5
//! [§5.2]: https://www.rfc-editor.org/rfc/rfc6749#section-5.2
//! [§3.3]: https://www.rfc-editor.org/rfc/rfc6749#section-3.3
//! [§2.3.1]: https://www.rfc-editor.org/rfc/rfc6749#section-2.3.1
//! [RFC 6750 §3.1]: https://www.rfc-editor.org/rfc/rfc6750#section-3.1
//! [RFC 8628 §3.5]: https://www.rfc-editor.org/rfc/rfc8628#section-3.5
//! [RFC 7662]: https://www.rfc-editor.org/rfc/rfc7662
//! [RFC 8414]: https://www.rfc-editor.org/rfc/rfc8414
//! [RFC 9068]: https://www.rfc-editor.org/rfc/rfc9068

pub mod basic;
pub mod client_auth;
pub mod discovery;
pub mod duration;
pub mod error;
pub mod form;
pub mod grant;
pub mod introspection;
pub mod jwt;
#[cfg(feature = "utoipa")]
pub mod openapi;
pub mod scope;
pub mod secret_file;
pub mod token;

pub use client_auth::ClientAuthMethod;
pub use error::{ErrorCode, ErrorResponse};
pub use form::{FormError, FormParams};
pub use grant::GrantType;
pub use scope::{ScopeName, ScopeNaming, ScopeSet};
pub use token::{TokenFormat, TokenResponse};
