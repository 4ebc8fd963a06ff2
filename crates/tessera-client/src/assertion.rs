//! JWT assertions signed by the client: client assertions for `client_secret_jwt` and
//! `private_key_jwt` (RFC 7523 §2.2 and §3, OpenID Connect Core §9), and authorization grant
//! assertions for the `jwt-bearer` grant (RFC 7523 §2.1).
//!
//! Every request gets a fresh assertion: a new random `jti`, `iat` now and `exp` after the
//! profile's lifetime, so that a server that remembers `jti`s (RFC 7523 §3 item 7) never sees one
//! twice.

use crate::{Error, SecretString};
use secrecy::ExposeSecret;
use serde_json::{Map, Value};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tessera_jose::{Algorithm, Header, Jwk, SigningKey};

/// Where the signing key of a [`SigningProfile`] comes from.
#[derive(Clone)]
pub enum KeySource {
    /// The client secret, as the HMAC key of `client_secret_jwt` (OpenID Connect Core §9).
    ClientSecret,
    /// A PEM private key (`PRIVATE KEY`, `RSA PRIVATE KEY` or `EC PRIVATE KEY`), or an HMAC secret
    /// for HS* algorithms.
    Pem(SecretString),
    /// A file holding a PEM private key, or an HMAC secret for HS* algorithms (one trailing
    /// newline, `\n` or `\r\n`, is not part of the secret, as for a `client_secret` file).
    PemFile(PathBuf),
    /// A private JWK (RFC 7517) as JSON.
    Jwk(SecretString),
    /// A file holding a private JWK as JSON.
    JwkFile(PathBuf),
    /// An environment variable holding a PEM private key or a private JWK as JSON.
    Env(String),
    /// A key already loaded.
    Key(Arc<SigningKey>),
}

impl std::fmt::Debug for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::ClientSecret => f.write_str("ClientSecret"),
            Self::Pem(_) => f.write_str("Pem([redacted])"),
            Self::PemFile(p) => write!(f, "PemFile({})", p.display()),
            Self::Jwk(_) => f.write_str("Jwk([redacted])"),
            Self::JwkFile(p) => write!(f, "JwkFile({})", p.display()),
            Self::Env(v) => write!(f, "Env({v})"),
            Self::Key(k) => write!(f, "Key({k:?})"),
        }
    }
}

/// How to sign an assertion: algorithm, key, lifetime, audience, extra claims and headers, `kid`
/// (Couper's `jwt_signing_profile`).
#[derive(Debug, Clone)]
pub struct SigningProfile {
    /// The JWS algorithm: HS256/384/512 for `client_secret_jwt`; RS256/384/512, PS256, ES256,
    /// ES384 or EdDSA for `private_key_jwt` and grant assertions.
    pub alg: Algorithm,
    /// The key.
    pub key: KeySource,
    /// How long each assertion is valid (`exp - iat`). Default 60 seconds.
    pub lifetime: Duration,
    /// The `aud` claim. Default: the token endpoint URL (RFC 7523 §3 item 3).
    pub audience: Option<String>,
    /// The `iss` claim. Default: the client id (required for client assertions, RFC 7523 §3).
    pub issuer: Option<String>,
    /// The `sub` claim. Default: the client id (required for client assertions, RFC 7523 §3).
    pub subject: Option<String>,
    /// The `kid` header. Default: the JWK's `kid`, if the key came from one.
    pub kid: Option<String>,
    /// Extra claims. `iss`, `sub`, `aud`, `jti`, `iat` and `exp` are always set by the profile and
    /// cannot be overridden here.
    pub claims: Map<String, Value>,
    /// Extra JOSE header parameters (`x5t#S256`, …). `alg` and `kid` cannot be overridden.
    pub headers: Map<String, Value>,
}

impl SigningProfile {
    /// A profile with `alg` and `key`, a 60-second lifetime and default claims.
    pub fn new(alg: Algorithm, key: KeySource) -> Self {
        Self {
            alg,
            key,
            lifetime: Duration::from_secs(60),
            audience: None,
            issuer: None,
            subject: None,
            kid: None,
            claims: Map::new(),
            headers: Map::new(),
        }
    }
}

/// What an HMAC key signs to identify itself in cache keys.
const HMAC_FINGERPRINT_LABEL: &[u8] = b"tessera-client cache key: HMAC key fingerprint";

/// A signing profile with its key loaded, ready to sign.
#[derive(Debug, Clone)]
pub(crate) struct Signer {
    pub(crate) profile: SigningProfile,
    pub(crate) key: Arc<SigningKey>,
    /// What identifies the key in cache keys: the public JWK thumbprint (RFC 7638) for key pairs,
    /// a MAC of a fixed label under the key for HMAC (only ever fed to the keyed fingerprint).
    pub(crate) fingerprint_material: SecretString,
}

fn read_file(path: &PathBuf) -> Result<SecretString, Error> {
    std::fs::read_to_string(path)
        .map(SecretString::from)
        .map_err(|e| Error::Config(format!("cannot read key file {}: {e}", path.display())))
}

/// An HMAC secret read from a file: the file's content without one trailing newline (`\n` or
/// `\r\n`), which editors and `echo` add and which is not part of the secret.
fn read_secret_file(path: &PathBuf) -> Result<SecretString, Error> {
    let text = read_file(path)?;
    Ok(SecretString::from(tessera_proto::secret_file::secret_text(
        text.expose_secret(),
    )))
}

fn load_jwk(json: &SecretString, alg: Algorithm) -> Result<SigningKey, Error> {
    let jwk: Jwk = serde_json::from_str(json.expose_secret())
        .map_err(|e| Error::Config(format!("the signing key is not a JWK: {e}")))?;
    SigningKey::from_jwk(&jwk, Some(alg))
        .map_err(|e| Error::Config(format!("the signing JWK cannot be used for {alg}: {e}")))
}

fn load_pem_or_secret(text: &SecretString, alg: Algorithm) -> Result<SigningKey, Error> {
    if alg.is_hmac() {
        return SigningKey::hmac(alg, text.expose_secret().as_bytes())
            .map_err(|e| Error::Config(format!("HMAC key for {alg}: {e}")));
    }
    SigningKey::from_pem(alg, text.expose_secret())
        .map_err(|e| Error::Config(format!("the signing key cannot be used for {alg}: {e}")))
}

impl Signer {
    /// Loads the key of `profile`; `client_secret` serves [`KeySource::ClientSecret`].
    pub(crate) fn load(
        profile: SigningProfile,
        client_secret: Option<&SecretString>,
    ) -> Result<Self, Error> {
        let alg = profile.alg;
        let key = match &profile.key {
            KeySource::ClientSecret => {
                let secret = client_secret.ok_or_else(|| {
                    Error::Config(
                        "the signing profile uses the client secret, but none is set".into(),
                    )
                })?;
                if !alg.is_hmac() {
                    return Err(Error::Config(format!(
                        "a client secret signs with HS256/HS384/HS512, not {alg}"
                    )));
                }
                load_pem_or_secret(secret, alg)?
            }
            KeySource::Pem(pem) => load_pem_or_secret(pem, alg)?,
            KeySource::PemFile(path) if alg.is_hmac() => {
                load_pem_or_secret(&read_secret_file(path)?, alg)?
            }
            KeySource::PemFile(path) => load_pem_or_secret(&read_file(path)?, alg)?,
            KeySource::Jwk(json) => load_jwk(json, alg)?,
            KeySource::JwkFile(path) => load_jwk(&read_file(path)?, alg)?,
            KeySource::Env(var) => {
                let value = std::env::var(var).map_err(|_| {
                    Error::Config(format!(
                        "environment variable {var} (signing key) is not set"
                    ))
                })?;
                let value = SecretString::from(value);
                if value.expose_secret().trim_start().starts_with('{') {
                    load_jwk(&value, alg)?
                } else {
                    load_pem_or_secret(&value, alg)?
                }
            }
            KeySource::Key(k) => {
                if k.alg() != alg {
                    return Err(Error::Config(format!(
                        "the signing key is for {}, the profile says {alg}",
                        k.alg()
                    )));
                }
                return Self::from_key(profile.clone(), Arc::clone(k));
            }
        };
        let key = match &profile.kid {
            Some(kid) => key.with_kid(kid.clone()),
            None => key,
        };
        Self::from_key(profile, Arc::new(key))
    }

    fn from_key(profile: SigningProfile, key: Arc<SigningKey>) -> Result<Self, Error> {
        let fingerprint_material = match key.public_jwk().and_then(|j| j.thumbprint()) {
            Some(t) => SecretString::from(format!("jwk-thumbprint:{t}")),
            // An HMAC key, wherever it came from (client secret, PEM, JWK, file, variable, a key
            // already loaded): a MAC of a fixed label under it depends on the key bytes alone,
            // and reveals nothing of them; it then goes through the keyed fingerprint.
            None => {
                let mac = key
                    .sign(HMAC_FINGERPRINT_LABEL)
                    .map_err(|e| Error::Config(format!("the HMAC key cannot sign: {e}")))?;
                SecretString::from(format!("hmac-mac:{}", hex::encode(mac)))
            }
        };
        Ok(Self {
            profile,
            key,
            fingerprint_material,
        })
    }

    /// Signs a fresh assertion: `iss`, `sub`, `aud`, a random `jti`, `iat` = now, `exp` = now +
    /// lifetime, then the profile's extra claims (RFC 7523 §3).
    pub(crate) fn sign(
        &self,
        client_id: &str,
        default_audience: &str,
    ) -> Result<SecretString, Error> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(|_| Error::Assertion("the system clock is before 1970".into()))?
            .as_secs();
        let p = &self.profile;
        let mut claims = Map::new();
        for (k, v) in &p.claims {
            claims.insert(k.clone(), v.clone());
        }
        claims.insert(
            "iss".into(),
            Value::String(p.issuer.clone().unwrap_or_else(|| client_id.to_owned())),
        );
        claims.insert(
            "sub".into(),
            Value::String(p.subject.clone().unwrap_or_else(|| client_id.to_owned())),
        );
        claims.insert(
            "aud".into(),
            Value::String(
                p.audience
                    .clone()
                    .unwrap_or_else(|| default_audience.to_owned()),
            ),
        );
        claims.insert("jti".into(), Value::String(new_jti()?));
        claims.insert("iat".into(), Value::from(now));
        claims.insert(
            "exp".into(),
            Value::from(now.saturating_add(p.lifetime.as_secs().max(1))),
        );
        // The profile's `kid` names the key, whatever the key was loaded as (an already loaded
        // key keeps its own `kid` otherwise).
        let kid = p.kid.as_deref().or(self.key.kid());
        let mut header = Header::new(p.alg, Some("JWT"), kid);
        for (k, v) in &p.headers {
            if k != "alg" && k != "kid" && k != "typ" {
                header.extra.insert(k.clone(), v.clone());
            }
            if k == "typ"
                && let Value::String(t) = v
            {
                header.typ = Some(t.clone());
            }
        }
        self.key
            .encode_with_header(&header, &claims)
            .map(SecretString::from)
            .map_err(|e| Error::Assertion(e.to_string()))
    }
}

/// 128 random bits, base64url: a `jti` no two assertions share.
fn new_jti() -> Result<String, Error> {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes)
        .map_err(|_| Error::Assertion("the system random generator failed".into()))?;
    Ok(tessera_jose::b64_encode(&bytes))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use tessera_jose::UnverifiedJws;

    #[test]
    fn fresh_claims_every_time() {
        let profile = SigningProfile::new(Algorithm::HS256, KeySource::ClientSecret);
        let secret = SecretString::from("s3cr3t");
        let signer = Signer::load(profile, Some(&secret)).unwrap();
        let a = signer.sign("client", "https://as.example/token").unwrap();
        let b = signer.sign("client", "https://as.example/token").unwrap();
        let ca: Map<String, Value> = UnverifiedJws::parse(a.expose_secret())
            .unwrap()
            .claims()
            .unwrap();
        let cb: Map<String, Value> = UnverifiedJws::parse(b.expose_secret())
            .unwrap()
            .claims()
            .unwrap();
        assert_ne!(ca["jti"], cb["jti"]);
        assert_eq!(ca["aud"], "https://as.example/token");
        assert_eq!(ca["iss"], "client");
        assert_eq!(ca["sub"], "client");
        assert_eq!(
            ca["exp"].as_u64().unwrap() - ca["iat"].as_u64().unwrap(),
            60
        );
        let key = signer.key.verifying_key().unwrap();
        UnverifiedJws::parse(a.expose_secret())
            .unwrap()
            .verify(&key, &[Algorithm::HS256])
            .unwrap();
    }

    #[test]
    fn an_hmac_key_file_loses_one_trailing_newline() {
        let dir = tempfile::tempdir().unwrap();
        let mac_of = |content: &str| {
            let file = dir.path().join("k");
            std::fs::write(&file, content).unwrap();
            let profile = SigningProfile::new(Algorithm::HS256, KeySource::PemFile(file));
            let signer = Signer::load(profile, None).unwrap();
            signer.key.sign(b"payload").unwrap()
        };
        let bare = SigningKey::hmac(Algorithm::HS256, b"shared-secret")
            .unwrap()
            .sign(b"payload")
            .unwrap();
        assert_eq!(mac_of("shared-secret"), bare);
        assert_eq!(mac_of("shared-secret\n"), bare);
        assert_eq!(mac_of("shared-secret\r\n"), bare);
        // Only one: a second newline is part of the secret.
        assert_ne!(mac_of("shared-secret\n\n"), bare);
    }

    #[test]
    fn client_secret_needs_hmac() {
        let profile = SigningProfile::new(Algorithm::RS256, KeySource::ClientSecret);
        assert!(Signer::load(profile, Some(&SecretString::from("x"))).is_err());
    }
}
