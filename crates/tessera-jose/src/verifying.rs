//! Public keys (or HMAC secrets) that verify JWS signatures: `jsonwebtoken`'s decoding keys and
//! verifiers on aws-lc-rs, behind the checks Tessera adds (key family, `use`, `alg`, curve).

use crate::jws::b64_decode;
use crate::{Algorithm, JoseError, Jwk};
use jsonwebtoken::DecodingKey;
use jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER;
use std::fmt;

/// The key families: a key verifies only its own family's algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Rsa,
    P256,
    P384,
    Ed25519,
    Hmac,
}

/// A key that verifies signatures of one algorithm family. A JWK's own `alg`, when present,
/// further restricts it to that one algorithm. `Debug` never shows an HMAC secret.
#[derive(Clone)]
pub struct VerifyingKey {
    kid: Option<String>,
    alg: Option<Algorithm>,
    family: Family,
    key: DecodingKey,
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let family = match self.family {
            Family::Rsa => "RSA",
            Family::P256 => "P-256",
            Family::P384 => "P-384",
            Family::Ed25519 => "Ed25519",
            Family::Hmac => "HMAC",
        };
        f.debug_struct("VerifyingKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("family", &family)
            .finish()
    }
}

/// jsonwebtoken's name for an algorithm.
pub(crate) fn their_alg(alg: Algorithm) -> jsonwebtoken::Algorithm {
    match alg {
        Algorithm::HS256 => jsonwebtoken::Algorithm::HS256,
        Algorithm::HS384 => jsonwebtoken::Algorithm::HS384,
        Algorithm::HS512 => jsonwebtoken::Algorithm::HS512,
        Algorithm::RS256 => jsonwebtoken::Algorithm::RS256,
        Algorithm::RS384 => jsonwebtoken::Algorithm::RS384,
        Algorithm::RS512 => jsonwebtoken::Algorithm::RS512,
        Algorithm::PS256 => jsonwebtoken::Algorithm::PS256,
        Algorithm::PS384 => jsonwebtoken::Algorithm::PS384,
        Algorithm::PS512 => jsonwebtoken::Algorithm::PS512,
        Algorithm::ES256 => jsonwebtoken::Algorithm::ES256,
        Algorithm::ES384 => jsonwebtoken::Algorithm::ES384,
        Algorithm::EdDSA => jsonwebtoken::Algorithm::EdDSA,
    }
}

impl VerifyingKey {
    /// A public key from a JWK (`RSA`, `EC` P-256/P-384, `OKP` Ed25519). `oct` keys are refused
    /// here: a JWKS never carries shared secrets; use [`VerifyingKey::hmac`].
    pub fn from_jwk(jwk: &Jwk) -> Result<Self, JoseError> {
        if jwk.use_.as_deref().is_some_and(|u| u != "sig") {
            return Err(JoseError::InvalidKey(
                "the JWK is not for signatures".into(),
            ));
        }
        let alg = jwk.alg.as_deref().map(Algorithm::parse).transpose()?;
        let required = |v: &Option<String>, name: &str| -> Result<String, JoseError> {
            v.clone()
                .ok_or_else(|| JoseError::InvalidKey(format!("the JWK has no {name:?}")))
        };
        let invalid = |e: jsonwebtoken::errors::Error| JoseError::InvalidKey(e.to_string());
        let (family, key) = match (jwk.kty.as_str(), jwk.crv.as_deref()) {
            ("RSA", _) => {
                let (n, e) = (required(&jwk.n, "n")?, required(&jwk.e, "e")?);
                (
                    Family::Rsa,
                    DecodingKey::from_rsa_components(&n, &e).map_err(invalid)?,
                )
            }
            ("EC", Some(crv @ ("P-256" | "P-384"))) => {
                let (x, y) = (required(&jwk.x, "x")?, required(&jwk.y, "y")?);
                let (family, len) = if crv == "P-256" {
                    (Family::P256, 32)
                } else {
                    (Family::P384, 48)
                };
                if b64_decode(&x)?.len() != len || b64_decode(&y)?.len() != len {
                    return Err(JoseError::InvalidKey(
                        "EC coordinates have the wrong length".into(),
                    ));
                }
                (
                    family,
                    DecodingKey::from_ec_components(&x, &y).map_err(invalid)?,
                )
            }
            ("OKP", Some("Ed25519")) => {
                let x = required(&jwk.x, "x")?;
                (
                    Family::Ed25519,
                    DecodingKey::from_ed_components(&x).map_err(invalid)?,
                )
            }
            (kty, crv) => {
                return Err(JoseError::InvalidKey(format!(
                    "unsupported key type {kty:?} (curve {crv:?})"
                )));
            }
        };
        let key = Self {
            kid: jwk.kid.clone(),
            alg,
            family,
            key,
        };
        if let Some(a) = alg
            && !key.family_fits(a)
        {
            return Err(JoseError::KeyMismatch(a.as_str()));
        }
        Ok(key)
    }

    /// An HMAC verification key from a shared secret (for `client_secret_jwt`).
    pub fn hmac(secret: &[u8]) -> Self {
        Self {
            kid: None,
            alg: None,
            family: Family::Hmac,
            key: DecodingKey::from_secret(secret),
        }
    }

    /// The key id.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The one algorithm the key is restricted to, if its JWK named one.
    pub fn alg(&self) -> Option<Algorithm> {
        self.alg
    }

    fn family_fits(&self, alg: Algorithm) -> bool {
        match self.family {
            Family::Rsa => alg.is_rsa(),
            Family::P256 => alg == Algorithm::ES256,
            Family::P384 => alg == Algorithm::ES384,
            Family::Ed25519 => alg == Algorithm::EdDSA,
            Family::Hmac => alg.is_hmac(),
        }
    }

    /// Whether this key can verify signatures made with `alg`.
    pub fn supports(&self, alg: Algorithm) -> bool {
        self.family_fits(alg) && self.alg.is_none_or(|a| a == alg)
    }

    /// Verifies `signature` over `message` with `alg`.
    pub fn verify(
        &self,
        alg: Algorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), JoseError> {
        if !self.supports(alg) {
            return Err(JoseError::KeyMismatch(alg.as_str()));
        }
        // jsonwebtoken's aws-lc verifiers: RSA moduli of 2048 to 8192 bits, ECDSA signatures in
        // the fixed-width `r||s` form, HMAC tags compared in constant time.
        let verifier = (DEFAULT_PROVIDER.verifier_factory)(&their_alg(alg), &self.key)
            .map_err(|_| JoseError::KeyMismatch(alg.as_str()))?;
        let ok = verifier.verify(message, &signature.to_vec()).is_ok();
        if ok {
            Ok(())
        } else {
            Err(JoseError::BadSignature)
        }
    }
}
