//! Errors of this crate.

/// Why a key could not be used or a JWS was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JoseError {
    /// The JWS is not three base64url parts joined by dots, or a part does not decode.
    #[error("malformed JWS: {0}")]
    Malformed(&'static str),
    /// The header or payload is not the JSON expected.
    #[error("malformed JWS JSON: {0}")]
    Json(String),
    /// The algorithm is unknown or not allowed (`none` never is).
    #[error("algorithm {0:?} is not supported or not allowed")]
    UnsupportedAlgorithm(String),
    /// The key cannot be used with this algorithm.
    #[error("the key does not fit algorithm {0}")]
    KeyMismatch(&'static str),
    /// The key material is invalid.
    #[error("invalid key: {0}")]
    InvalidKey(String),
    /// The signature does not verify.
    #[error("the signature does not verify")]
    BadSignature,
    /// Signing failed inside the crypto library.
    #[error("signing failed")]
    SigningFailed,
}
