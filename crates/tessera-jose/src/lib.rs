//! JOSE for Tessera: JWS compact serialization (RFC 7515), JSON Web Keys (RFC 7517, 7518, 8037)
//! and JWK thumbprints (RFC 7638). The server signs access tokens and verifies client assertions
//! with it, the token client signs assertions, and the guard verifies access tokens.
//!
//! Algorithms: HS256/384/512, RS256/384/512, PS256/384/512, ES256, ES384 and EdDSA (Ed25519).
//! `none` is never accepted, and a key only verifies signatures of its own algorithm family, so an
//! RSA public key can never be used as an HMAC secret.
//!
//! # Where the cryptography comes from
//!
//! No cryptography is written here. Signatures are aws-lc-rs's own: `EcdsaKeyPair::sign` (its
//! ECDSA nonces hedged with the key and the message) for ES256 and ES384, `Ed25519KeyPair`,
//! `RsaKeyPair` (PKCS#1 v1.5 and PSS) and `hmac`. Keys are parsed and serialised by aws-lc-rs
//! (PKCS#8, PKCS#1, SEC 1, RSA key components) and PEM is read and written by RustCrypto's
//! `pem-rfc7468`.
//!
//! `jsonwebtoken` (on aws-lc-rs) does the JOSE work it covers: [`VerifyingKey`] holds its
//! `DecodingKey`, built from the JWK's members, and verifies with its aws-lc verifiers, and
//! [`Jwk::thumbprint`] is its RFC 7638 thumbprint. This crate keeps its own thin code for what
//! `jsonwebtoken` does not cover:
//! - **Signing with a key parsed once.** `jsonwebtoken`'s `EncodingKey` holds the key's DER and
//!   its signers parse it again on every signature (`EcdsaKeyPair::from_pkcs8` per ES256 token,
//!   including the check of the public key against the private one). Measured with the `sign`
//!   divan bench on the 2-core test machine (fastest / median of 100 to 300 samples, other
//!   builds running): an ES256 signature with the key pair kept 17.8 / 18.4 µs, with
//!   `jsonwebtoken::crypto::sign` and an `EncodingKey` 29.2 / 29.5 µs; EdDSA 10.7 / 11.1 µs
//!   against 18.7 / 18.9 µs. Parsing the key again would spend about 11 µs of the server's
//!   budget of 30 µs per token beyond the signature's own cost, so [`SigningKey`] keeps
//!   aws-lc-rs's parsed key pair and signs with it. The compact serialization around the
//!   signature (base64url header and payload joined by dots, with
//!   [`SigningKey::sign_with_encoded_header`] reusing one encoded header) is this crate's.
//! - **Private JWKs.** `jsonwebtoken::jwk::Jwk` has no private members (`d`, `p`, `q`, `dp`,
//!   `dq`, `qi`), while Tessera's client loads its private key from a JWK; [`Jwk`] is a plain
//!   serde struct with them, and [`SigningKey::from_jwk`] hands them to aws-lc-rs
//!   (`RsaKeyPair::from_components`, `EcdsaKeyPair::from_private_key_and_public_key`,
//!   `Ed25519KeyPair::from_seed_and_public_key`).
//! - **Verifying apart from the claims.** `jsonwebtoken::decode` checks the signature and its own
//!   claim rules (`exp`, `nbf`, `aud`, …) together and reports one error type; Tessera's server,
//!   client and guard choose the key by the header's `kid` and `alg`, then check claims with their
//!   own rules and errors. [`UnverifiedJws`] splits and decodes the token once and verifies the
//!   signature with a [`VerifyingKey`] (that is, with `jsonwebtoken`'s verifier), refusing `crit`.

mod alg;
mod error;
mod jwk;
mod jws;
mod pem;
mod signing;
mod verifying;

pub use alg::Algorithm;
pub use error::JoseError;
pub use jwk::{Jwk, JwkSet};
pub use jws::{Header, UnverifiedJws, b64_decode, b64_encode};
pub use pem::to_pem;
pub use signing::SigningKey;
pub use verifying::VerifyingKey;
