//! Why a guard could not be set up, why a token or a request was refused (RFC 6750 §3.1), and
//! why the guard could not decide (its key or introspection server is unreachable).
//!
//! The `Display` text of [`TokenError`] and [`RequestError`] is what the client reads as
//! `error_description`: it says what is wrong without echoing the token or the guard's settings.

/// A configuration the guard refuses to start with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The issuer is empty.
    #[error("the issuer is empty")]
    EmptyIssuer,
    /// A URL does not parse or has an unusable scheme.
    #[error("the {what} URL is not usable: {reason}")]
    BadUrl {
        /// Which URL.
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// An `http://` URL to a host that is not loopback (RFC 8414 §2 wants `https`).
    #[error(
        "the {0} URL uses http to a host that is not loopback; use https (or allow_insecure_http for tests)"
    )]
    InsecureUrl(&'static str),
    /// No accepted audience: RFC 9068 §4 makes the `aud` check mandatory.
    #[error("no accepted audience: a resource server must check aud (RFC 9068 §4)")]
    NoAudience,
    /// The algorithm allow-list is empty.
    #[error("the algorithm allow-list is empty")]
    NoAlgorithm,
    /// An HMAC algorithm in the allow-list: the guard holds only public keys (RFC 8725 §2.1).
    #[error("{0} is an HMAC algorithm; the guard verifies with public keys only (RFC 8725 §2.1)")]
    HmacAlgorithm(&'static str),
    /// The introspection client id is empty.
    #[error("the introspection client id is empty")]
    EmptyClientId,
    /// Another inconsistent setting.
    #[error("{0}")]
    Invalid(String),
    /// [`Guard::start`](crate::Guard::start) was called outside a Tokio runtime.
    #[error("the guard must be started inside a Tokio runtime")]
    NoRuntime,
    /// The HTTP client could not be built.
    #[error("the HTTP client could not be built: {0}")]
    HttpClient(String),
}

/// Why [`Guard::connect`](crate::Guard::connect) failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StartError {
    /// The configuration is refused.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Discovery or the first JWKS fetch failed.
    #[error(transparent)]
    Unavailable(#[from] UnavailableError),
}

/// Why an access token is refused: the RFC 6750 §3.1 `invalid_token` cases (answered 401).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Longer than the configured maximum.
    #[error("the access token is too long")]
    TooLong,
    /// A JWS that does not decode, or claims that are not a JSON object (RFC 7515 §7.1).
    #[error("the access token is malformed: {0}")]
    Malformed(&'static str),
    /// The `alg` is `none`, unknown or not allowed (RFC 8725 §3.1).
    #[error("the access token's signing algorithm is not accepted")]
    Algorithm,
    /// The `typ` is not accepted (RFC 9068 §4, RFC 8725 §3.11).
    #[error("the access token's typ header is not accepted (expected at+jwt)")]
    Typ,
    /// A `crit` header: the guard understands no extension (RFC 7515 §4.1.11).
    #[error("the access token has a crit header the guard does not understand")]
    Crit,
    /// No key of the issuer has this `kid` (or fits the algorithm).
    #[error("the access token was signed with a key the issuer does not publish")]
    UnknownKey,
    /// The signature does not verify.
    #[error("the access token's signature does not verify")]
    BadSignature,
    /// `iss` is missing or not the configured issuer (RFC 9068 §4).
    #[error("the access token was not issued by the expected issuer")]
    Issuer,
    /// `aud` is missing or names none of the accepted audiences (RFC 9068 §4).
    #[error("the access token is not meant for this API (aud)")]
    Audience,
    /// `exp` has passed (RFC 7519 §4.1.4).
    #[error("the access token expired")]
    Expired,
    /// `nbf` is still in the future (RFC 7519 §4.1.5).
    #[error("the access token is not valid yet (nbf)")]
    NotYetValid,
    /// `iat` is in the future (RFC 7519 §4.1.6).
    #[error("the access token was issued in the future (iat)")]
    IssuedInFuture,
    /// A required claim is missing or of the wrong type.
    #[error("the access token's {0} claim is missing or invalid")]
    Claim(&'static str),
    /// Introspection says the token is not active (RFC 7662 §2.2).
    #[error("the access token is not active")]
    Inactive,
    /// Introspection calls the token something other than a bearer access token.
    #[error("the token is not a bearer access token")]
    TokenType,
    /// Not a JWS, and the guard has no introspection configured.
    #[error("the access token is not a JWT and cannot be introspected here")]
    NotJwt,
}

/// Why the guard could not decide about a token: its own dependencies failed (answered 503, not
/// 401, so the client does not throw away a token that may well be good).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnavailableError {
    /// Discovery (RFC 8414 §3) failed or returned unusable metadata.
    #[error("authorization server metadata unavailable: {0}")]
    Discovery(String),
    /// The JWKS could not be fetched and no key was known for the token.
    #[error("signing keys unavailable: {0}")]
    Jwks(String),
    /// The introspection endpoint failed (RFC 7662 §2.3 errors, timeouts, bad JSON).
    #[error("token introspection unavailable: {0}")]
    Introspection(String),
}

/// Why the request itself is malformed: RFC 6750 §3.1 `invalid_request` (answered 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// More than one `Authorization` header.
    #[error("the request has more than one Authorization header")]
    MultipleAuthorization,
    /// `Authorization: Bearer` without a well-formed `b64token` (RFC 6750 §2.1).
    #[error(
        "the Authorization header is not 'Bearer' followed by one token (RFC 6750 section 2.1)"
    )]
    MalformedBearer,
    /// The token was sent in more than one way (RFC 6750 §2: "MUST NOT use more than one method").
    #[error(
        "the access token was sent in more than one way; send it only in the Authorization header"
    )]
    TokenSentTwice,
    /// An `access_token` query parameter (RFC 6750 §2.3; RFC 9700 §2.4.1 forbids it).
    #[error("access tokens in the URI query are not accepted; send it in the Authorization header")]
    TokenInQuery,
    /// An `access_token` form field (RFC 6750 §2.2, which this API does not accept).
    #[error(
        "access tokens in the request body are not accepted; send it in the Authorization header"
    )]
    TokenInBody,
    /// The form body could not be read to look for a second token.
    #[error("the request body could not be read")]
    UnreadableBody,
    /// A form body without a `Content-Length` (chunked, or HTTP/2 without `content-length`)
    /// ran past the most the guard reads to look for a second token (RFC 6750 §2.2), so it
    /// could not be checked.
    #[error(
        "the form body is too long to be checked for an access token; send it with a Content-Length"
    )]
    FormBodyTooLong,
}

/// What [`Guard::verify`](crate::Guard::verify) can fail with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The token is refused.
    #[error(transparent)]
    Invalid(#[from] TokenError),
    /// The guard could not decide.
    #[error(transparent)]
    Unavailable(#[from] UnavailableError),
}
