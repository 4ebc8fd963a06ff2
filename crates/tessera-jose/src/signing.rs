//! Private keys that sign: generated, loaded from PKCS#8, PEM or a private JWK, or an HMAC secret.
//! Each holds aws-lc-rs's parsed key pair (or HMAC key), so signing never re-parses a key.

use crate::jws::{Header, append_b64, b64_decode, b64_encode};
use crate::pem::parse_pem;
use crate::{Algorithm, JoseError, Jwk, VerifyingKey};
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RsaKeyPair};
use aws_lc_rs::{hmac, rsa};
use serde::Serialize;
use std::fmt;

enum Inner {
    Rsa(RsaKeyPair),
    /// ES256 and ES384: aws-lc's ECDSA, its nonces hedged with the key and the message.
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
    Hmac(Box<hmac::Key>, Vec<u8>),
}

/// A key that signs JWS with one algorithm. `Debug` shows the algorithm and `kid`, never the key.
pub struct SigningKey {
    alg: Algorithm,
    kid: Option<String>,
    inner: Inner,
    pkcs8: Option<Vec<u8>>,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

fn rejected(e: impl fmt::Display) -> JoseError {
    JoseError::InvalidKey(e.to_string())
}

fn ec_alg(alg: Algorithm) -> Option<&'static signature::EcdsaSigningAlgorithm> {
    match alg {
        Algorithm::ES256 => Some(&signature::ECDSA_P256_SHA256_FIXED_SIGNING),
        Algorithm::ES384 => Some(&signature::ECDSA_P384_SHA384_FIXED_SIGNING),
        _ => None,
    }
}

fn rsa_padding(alg: Algorithm) -> Option<&'static dyn signature::RsaEncoding> {
    Some(match alg {
        Algorithm::RS256 => &signature::RSA_PKCS1_SHA256,
        Algorithm::RS384 => &signature::RSA_PKCS1_SHA384,
        Algorithm::RS512 => &signature::RSA_PKCS1_SHA512,
        Algorithm::PS256 => &signature::RSA_PSS_SHA256,
        Algorithm::PS384 => &signature::RSA_PSS_SHA384,
        Algorithm::PS512 => &signature::RSA_PSS_SHA512,
        _ => return None,
    })
}

fn hmac_alg(alg: Algorithm) -> Option<hmac::Algorithm> {
    match alg {
        Algorithm::HS256 => Some(hmac::HMAC_SHA256),
        Algorithm::HS384 => Some(hmac::HMAC_SHA384),
        Algorithm::HS512 => Some(hmac::HMAC_SHA512),
        _ => None,
    }
}

/// A JWK's unsigned big-endian integer as aws-lc's RSA public components want it: no leading
/// zero bytes (RFC 7518 §6.3.1 asks for none; some producers add one).
fn without_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    bytes.get(start..).unwrap_or_default()
}

impl SigningKey {
    /// Generates a new key pair for `alg` (RSA keys are 2048 bits). HMAC algorithms are refused:
    /// use [`SigningKey::hmac`] with a secret.
    pub fn generate(alg: Algorithm) -> Result<Self, JoseError> {
        let failed = |_| JoseError::SigningFailed;
        let inner = if let Some(ec) = ec_alg(alg) {
            Inner::Ec(EcdsaKeyPair::generate(ec).map_err(failed)?)
        } else if alg.is_rsa() {
            Inner::Rsa(rsa::KeyPair::generate(rsa::KeySize::Rsa2048).map_err(failed)?)
        } else if alg == Algorithm::EdDSA {
            Inner::Ed(Ed25519KeyPair::generate().map_err(failed)?)
        } else {
            return Err(JoseError::KeyMismatch(alg.as_str()));
        };
        Self::from_inner(alg, inner)
    }

    /// Wraps a parsed key pair, keeping its PKCS#8 DER for [`SigningKey::pkcs8_der`].
    fn from_inner(alg: Algorithm, inner: Inner) -> Result<Self, JoseError> {
        let pkcs8 = match &inner {
            Inner::Rsa(kp) => Some(kp.as_der().map_err(rejected)?.as_ref().to_vec()),
            Inner::Ec(kp) => Some(kp.to_pkcs8v1().map_err(rejected)?.as_ref().to_vec()),
            Inner::Ed(kp) => Some(kp.to_pkcs8v1().map_err(rejected)?.as_ref().to_vec()),
            Inner::Hmac(..) => None,
        };
        Ok(Self {
            alg,
            kid: None,
            inner,
            pkcs8,
        })
    }

    /// Loads a PKCS#8 private key for `alg`.
    pub fn from_pkcs8_der(alg: Algorithm, der: &[u8]) -> Result<Self, JoseError> {
        let inner = if let Some(ec) = ec_alg(alg) {
            Inner::Ec(EcdsaKeyPair::from_pkcs8(ec, der).map_err(rejected)?)
        } else if alg.is_rsa() {
            Inner::Rsa(RsaKeyPair::from_pkcs8(der).map_err(rejected)?)
        } else if alg == Algorithm::EdDSA {
            Inner::Ed(Ed25519KeyPair::from_pkcs8(der).map_err(rejected)?)
        } else {
            return Err(JoseError::KeyMismatch(alg.as_str()));
        };
        Ok(Self {
            alg,
            kid: None,
            inner,
            pkcs8: Some(der.to_vec()),
        })
    }

    /// Loads a PEM private key: `PRIVATE KEY` (PKCS#8), `RSA PRIVATE KEY` (PKCS#1) or
    /// `EC PRIVATE KEY` (SEC 1).
    pub fn from_pem(alg: Algorithm, pem: &str) -> Result<Self, JoseError> {
        let (label, der) = parse_pem(pem)?;
        match label.as_str() {
            "PRIVATE KEY" => Self::from_pkcs8_der(alg, &der),
            "RSA PRIVATE KEY" if alg.is_rsa() => Self::from_inner(
                alg,
                Inner::Rsa(RsaKeyPair::from_der(&der).map_err(rejected)?),
            ),
            "EC PRIVATE KEY" => {
                let ec = ec_alg(alg).ok_or(JoseError::KeyMismatch(alg.as_str()))?;
                let kp = EcdsaKeyPair::from_private_key_der(ec, &der).map_err(rejected)?;
                Self::from_inner(alg, Inner::Ec(kp))
            }
            other => Err(JoseError::InvalidKey(format!(
                "PEM label {other:?} is not a private key this algorithm can use"
            ))),
        }
    }

    /// Loads a private JWK (RSA with CRT members, EC, OKP, or `oct` for HMAC). The algorithm is
    /// `alg` when given, else the JWK's own `alg`.
    pub fn from_jwk(jwk: &Jwk, alg: Option<Algorithm>) -> Result<Self, JoseError> {
        let alg = match (alg, jwk.alg.as_deref()) {
            (Some(a), _) => a,
            (None, Some(a)) => Algorithm::parse(a)?,
            (None, None) => return Err(JoseError::InvalidKey("the JWK names no alg".into())),
        };
        if alg.kty() != jwk.kty {
            return Err(JoseError::KeyMismatch(alg.as_str()));
        }
        let member = |v: &Option<String>, name: &str| -> Result<Vec<u8>, JoseError> {
            b64_decode(
                v.as_deref()
                    .ok_or_else(|| JoseError::InvalidKey(format!("the JWK has no {name:?}")))?,
            )
        };
        let key = if alg.is_hmac() {
            Self::hmac(alg, &member(&jwk.k, "k")?)?
        } else if alg.is_rsa() {
            let (n, e) = (member(&jwk.n, "n")?, member(&jwk.e, "e")?);
            let components = rsa::KeyPairComponents {
                public_key: rsa::PublicKeyComponents {
                    n: without_leading_zeros(&n),
                    e: without_leading_zeros(&e),
                },
                d: member(&jwk.d, "d")?,
                p: member(&jwk.p, "p")?,
                q: member(&jwk.q, "q")?,
                dP: member(&jwk.dp, "dp")?,
                dQ: member(&jwk.dq, "dq")?,
                qInv: member(&jwk.qi, "qi")?,
            };
            let kp = RsaKeyPair::from_components(&components).map_err(rejected)?;
            Self::from_inner(alg, Inner::Rsa(kp))?
        } else if let Some(ec) = ec_alg(alg) {
            let mut point = vec![4u8];
            point.extend(member(&jwk.x, "x")?);
            point.extend(member(&jwk.y, "y")?);
            let kp =
                EcdsaKeyPair::from_private_key_and_public_key(ec, &member(&jwk.d, "d")?, &point)
                    .map_err(rejected)?;
            Self::from_inner(alg, Inner::Ec(kp))?
        } else {
            let kp = Ed25519KeyPair::from_seed_and_public_key(
                &member(&jwk.d, "d")?,
                &member(&jwk.x, "x")?,
            )
            .map_err(rejected)?;
            Self::from_inner(alg, Inner::Ed(kp))?
        };
        Ok(match &jwk.kid {
            Some(kid) => key.with_kid(kid.clone()),
            None => key,
        })
    }

    /// An HMAC key (HS256/384/512) from a shared secret.
    pub fn hmac(alg: Algorithm, secret: &[u8]) -> Result<Self, JoseError> {
        let h = hmac_alg(alg).ok_or(JoseError::KeyMismatch(alg.as_str()))?;
        Ok(Self {
            alg,
            kid: None,
            inner: Inner::Hmac(Box::new(hmac::Key::new(h, secret)), secret.to_vec()),
            pkcs8: None,
        })
    }

    /// Sets the key id sent in the `kid` header.
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = Some(kid.into());
        self
    }

    /// The algorithm.
    pub fn alg(&self) -> Algorithm {
        self.alg
    }

    /// The key id.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The PKCS#8 DER of a key pair (for storage); `None` for HMAC keys.
    pub fn pkcs8_der(&self) -> Option<&[u8]> {
        self.pkcs8.as_deref()
    }

    /// The public JWK with `kid`, `alg` and `use: sig`; `None` for HMAC keys.
    pub fn public_jwk(&self) -> Option<Jwk> {
        let mut jwk = Jwk {
            kid: self.kid.clone(),
            alg: Some(self.alg.as_str().to_owned()),
            use_: Some("sig".to_owned()),
            kty: self.alg.kty().to_owned(),
            ..Default::default()
        };
        match &self.inner {
            Inner::Rsa(kp) => {
                let public = kp.public_key();
                jwk.n = Some(b64_encode(
                    public.modulus().big_endian_without_leading_zero(),
                ));
                jwk.e = Some(b64_encode(
                    public.exponent().big_endian_without_leading_zero(),
                ));
            }
            Inner::Ec(kp) => {
                // The uncompressed SEC 1 point: 0x04, then x and y of equal width.
                let point = kp.public_key().as_ref();
                let len = (point.len().checked_sub(1)?) / 2;
                jwk.crv = Some(
                    if self.alg == Algorithm::ES256 {
                        "P-256"
                    } else {
                        "P-384"
                    }
                    .into(),
                );
                jwk.x = Some(b64_encode(point.get(1..1 + len)?));
                jwk.y = Some(b64_encode(point.get(1 + len..)?));
            }
            Inner::Ed(kp) => {
                jwk.crv = Some("Ed25519".into());
                jwk.x = Some(b64_encode(kp.public_key().as_ref()));
            }
            Inner::Hmac(..) => return None,
        }
        Some(jwk)
    }

    /// The key that verifies this key's signatures.
    pub fn verifying_key(&self) -> Result<VerifyingKey, JoseError> {
        match &self.inner {
            Inner::Hmac(_, secret) => Ok(VerifyingKey::hmac(secret)),
            _ => {
                let jwk = self
                    .public_jwk()
                    .ok_or(JoseError::InvalidKey("no public key".into()))?;
                VerifyingKey::from_jwk(&jwk)
            }
        }
    }

    /// Signs `message` and returns the JWS signature bytes (fixed-width `r||s` for ECDSA).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, JoseError> {
        match &self.inner {
            Inner::Rsa(kp) => {
                let padding =
                    rsa_padding(self.alg).ok_or(JoseError::KeyMismatch(self.alg.as_str()))?;
                let mut sig = vec![0u8; kp.public_modulus_len()];
                kp.sign(padding, &SystemRandom::new(), message, &mut sig)
                    .map_err(|_| JoseError::SigningFailed)?;
                Ok(sig)
            }
            Inner::Ec(kp) => kp
                .sign(&SystemRandom::new(), message)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| JoseError::SigningFailed),
            Inner::Ed(kp) => Ok(kp.sign(message).as_ref().to_vec()),
            Inner::Hmac(key, _) => Ok(hmac::sign(key, message).as_ref().to_vec()),
        }
    }

    /// Signs a payload under an already base64url-encoded header: the fast path for callers that
    /// reuse one header for many tokens.
    pub fn sign_with_encoded_header(
        &self,
        header_b64: &str,
        payload: &[u8],
    ) -> Result<String, JoseError> {
        let payload_len = base64::encoded_len(payload.len(), false).unwrap_or(0);
        let mut out = Vec::with_capacity(header_b64.len() + payload_len + 700);
        out.extend_from_slice(header_b64.as_bytes());
        out.push(b'.');
        append_b64(&mut out, payload);
        let sig = self.sign(&out)?;
        out.push(b'.');
        append_b64(&mut out, &sig);
        // base64url and the caller's (base64url) header: ASCII, so this never fails.
        String::from_utf8(out).map_err(|_| JoseError::SigningFailed)
    }

    /// The base64url header `{"alg", "typ", "kid"}` this key signs under.
    pub fn encoded_header(&self, typ: Option<&str>) -> String {
        let header = Header::new(self.alg, typ, self.kid.as_deref());
        b64_encode(
            serde_json::to_string(&header)
                .unwrap_or_default()
                .as_bytes(),
        )
    }

    /// Signs `claims` as a compact JWS with header `alg`, `typ` (when given) and `kid`.
    pub fn encode<T: Serialize>(&self, typ: Option<&str>, claims: &T) -> Result<String, JoseError> {
        let payload = serde_json::to_vec(claims).map_err(|e| JoseError::Json(e.to_string()))?;
        self.sign_with_encoded_header(&self.encoded_header(typ), &payload)
    }

    /// Signs `claims` under a header the caller built (extra header parameters, `x5t`, …).
    pub fn encode_with_header<T: Serialize>(
        &self,
        header: &Header,
        claims: &T,
    ) -> Result<String, JoseError> {
        let header_json = serde_json::to_vec(header).map_err(|e| JoseError::Json(e.to_string()))?;
        let payload = serde_json::to_vec(claims).map_err(|e| JoseError::Json(e.to_string()))?;
        self.sign_with_encoded_header(&b64_encode(&header_json), &payload)
    }
}
