//! Public keys (or HMAC secrets) that verify JWS signatures.

use crate::jws::b64_decode;
use crate::{Algorithm, JoseError, Jwk};
use aws_lc_rs::hmac;
use aws_lc_rs::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
use std::fmt;

#[derive(Clone)]
enum Inner {
    Rsa { n: Vec<u8>, e: Vec<u8> },
    P256(Vec<u8>),
    P384(Vec<u8>),
    Ed25519(Vec<u8>),
    Hmac(Vec<u8>),
}

/// A key that verifies signatures of one algorithm family. A JWK's own `alg`, when present,
/// further restricts it to that one algorithm. `Debug` never shows an HMAC secret.
#[derive(Clone)]
pub struct VerifyingKey {
    kid: Option<String>,
    alg: Option<Algorithm>,
    inner: Inner,
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let family = match self.inner {
            Inner::Rsa { .. } => "RSA",
            Inner::P256(_) => "P-256",
            Inner::P384(_) => "P-384",
            Inner::Ed25519(_) => "Ed25519",
            Inner::Hmac(_) => "HMAC",
        };
        f.debug_struct("VerifyingKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("family", &family)
            .finish()
    }
}

impl VerifyingKey {
    /// A public key from a JWK (`RSA`, `EC` P-256/P-384, `OKP` Ed25519). `oct` keys are refused
    /// here: a JWKS never carries shared secrets; use [`VerifyingKey::hmac`].
    pub fn from_jwk(jwk: &Jwk) -> Result<Self, JoseError> {
        let member = |v: &Option<String>, name: &str| -> Result<Vec<u8>, JoseError> {
            b64_decode(
                v.as_deref()
                    .ok_or_else(|| JoseError::InvalidKey(format!("the JWK has no {name:?}")))?,
            )
        };
        if jwk.use_.as_deref().is_some_and(|u| u != "sig") {
            return Err(JoseError::InvalidKey(
                "the JWK is not for signatures".into(),
            ));
        }
        let alg = jwk.alg.as_deref().map(Algorithm::parse).transpose()?;
        let inner = match (jwk.kty.as_str(), jwk.crv.as_deref()) {
            ("RSA", _) => Inner::Rsa {
                n: member(&jwk.n, "n")?,
                e: member(&jwk.e, "e")?,
            },
            ("EC", Some(crv @ ("P-256" | "P-384"))) => {
                let x = member(&jwk.x, "x")?;
                let y = member(&jwk.y, "y")?;
                let len = if crv == "P-256" { 32 } else { 48 };
                if x.len() != len || y.len() != len {
                    return Err(JoseError::InvalidKey(
                        "EC coordinates have the wrong length".into(),
                    ));
                }
                let mut point = Vec::with_capacity(1 + 2 * len);
                point.push(4);
                point.extend(x);
                point.extend(y);
                if crv == "P-256" {
                    Inner::P256(point)
                } else {
                    Inner::P384(point)
                }
            }
            ("OKP", Some("Ed25519")) => Inner::Ed25519(member(&jwk.x, "x")?),
            (kty, crv) => {
                return Err(JoseError::InvalidKey(format!(
                    "unsupported key type {kty:?} (curve {crv:?})"
                )));
            }
        };
        let key = Self {
            kid: jwk.kid.clone(),
            alg,
            inner,
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
            inner: Inner::Hmac(secret.to_vec()),
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
        match self.inner {
            Inner::Rsa { .. } => alg.is_rsa(),
            Inner::P256(_) => alg == Algorithm::ES256,
            Inner::P384(_) => alg == Algorithm::ES384,
            Inner::Ed25519(_) => alg == Algorithm::EdDSA,
            Inner::Hmac(_) => alg.is_hmac(),
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
        let ok = match &self.inner {
            Inner::Rsa { n, e } => {
                let params: &signature::RsaParameters = match alg {
                    Algorithm::RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
                    Algorithm::RS384 => &signature::RSA_PKCS1_2048_8192_SHA384,
                    Algorithm::RS512 => &signature::RSA_PKCS1_2048_8192_SHA512,
                    Algorithm::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
                    Algorithm::PS384 => &signature::RSA_PSS_2048_8192_SHA384,
                    _ => &signature::RSA_PSS_2048_8192_SHA512,
                };
                RsaPublicKeyComponents { n, e }
                    .verify(params, message, signature)
                    .is_ok()
            }
            Inner::P256(point) => {
                UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                    .verify(message, signature)
                    .is_ok()
            }
            Inner::P384(point) => {
                UnparsedPublicKey::new(&signature::ECDSA_P384_SHA384_FIXED, point)
                    .verify(message, signature)
                    .is_ok()
            }
            Inner::Ed25519(x) => UnparsedPublicKey::new(&signature::ED25519, x)
                .verify(message, signature)
                .is_ok(),
            Inner::Hmac(secret) => {
                let h = match alg {
                    Algorithm::HS256 => hmac::HMAC_SHA256,
                    Algorithm::HS384 => hmac::HMAC_SHA384,
                    _ => hmac::HMAC_SHA512,
                };
                hmac::verify(&hmac::Key::new(h, secret), message, signature).is_ok()
            }
        };
        if ok {
            Ok(())
        } else {
            Err(JoseError::BadSignature)
        }
    }
}
