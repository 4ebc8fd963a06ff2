//! JOSE for Tessera: JWS compact serialization (RFC 7515), JSON Web Keys (RFC 7517, 7518, 8037)
//! and JWK thumbprints (RFC 7638), on aws-lc-rs. ES256 signatures use nonces prepared in batches
//! (see `es256`), with RustCrypto's `p256` for the arithmetic mod the group order.
//!
//! The server signs access tokens and verifies client assertions with it, the token client signs
//! assertions, and the guard verifies access tokens. Keys are parsed once and reused: signing or
//! verifying never re-parses key material.
//!
//! Algorithms: HS256/384/512, RS256/384/512, PS256/384/512, ES256, ES384 and EdDSA (Ed25519).
//! `none` is never accepted, and a key only verifies signatures of its own algorithm family, so an
//! RSA public key can never be used as an HMAC secret.

mod alg;
mod der;
mod error;
mod es256;
mod jwk;
mod jws;
mod signing;
mod verifying;

pub use alg::Algorithm;
pub use error::JoseError;
pub use jwk::{Jwk, JwkSet};
pub use jws::{Header, UnverifiedJws, b64_decode, b64_encode};
pub use signing::{SigningKey, to_pem};
pub use verifying::VerifyingKey;
