//! The cache key of a credential: token endpoint (or issuer), client id, a keyed fingerprint of
//! the credential's secret material and assertion profiles, grant, sorted scopes, sorted audiences and resources, and
//! sorted extra parameters. Never the secret itself.
//!
//! The fingerprint is an HMAC-SHA-256 under a random key made once per process, so that even a
//! weak secret cannot be guessed back from a key that ends up in a log or a heap dump.

use crate::assertion::Signer;
use crate::credential::{Credential, LoadedGrant};
use aws_lc_rs::{digest, hmac};
use secrecy::ExposeSecret;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::OnceLock;
use tessera_proto::{ClientAuthMethod, GrantType};

fn process_key() -> &'static hmac::Key {
    static KEY: OnceLock<hmac::Key> = OnceLock::new();
    KEY.get_or_init(|| {
        let mut bytes = [0u8; 32];
        if aws_lc_rs::rand::fill(&mut bytes).is_err() {
            // The system RNG failed: fall back to a key that still differs per process.
            let seed = format!("{:?}{}", std::time::SystemTime::now(), std::process::id());
            let d = digest::digest(&digest::SHA256, seed.as_bytes());
            bytes.copy_from_slice(d.as_ref());
        }
        hmac::Key::new(hmac::HMAC_SHA256, &bytes)
    })
}

/// Feeds length-prefixed fields into a hash so that no two field lists collide.
struct Fields<F: FnMut(&[u8])>(F);

impl<F: FnMut(&[u8])> Fields<F> {
    fn field(&mut self, bytes: &[u8]) {
        (self.0)(&(bytes.len() as u64).to_be_bytes());
        (self.0)(bytes);
    }
}

/// Feeds everything that shapes the assertions of `s` into a fingerprint: the key, the algorithm,
/// `iss`, `sub`, `aud`, lifetime, `kid`, extra claims and extra header parameters.
fn signer_fields<F: FnMut(&[u8])>(f: &mut Fields<F>, s: &Signer) {
    let p = &s.profile;
    f.field(s.fingerprint_material.expose_secret().as_bytes());
    f.field(p.alg.as_str().as_bytes());
    for v in [&p.issuer, &p.subject, &p.audience, &p.kid] {
        match v {
            Some(v) => f.field(v.as_bytes()),
            None => f.field(b"\0none"),
        }
    }
    f.field(&p.lifetime.as_nanos().to_be_bytes());
    for map in [&p.claims, &p.headers] {
        let mut entries: Vec<_> = map.iter().collect();
        entries.sort_by(|a, b| a.0.cmp(b.0));
        f.field(&(entries.len() as u64).to_be_bytes());
        for (k, v) in entries {
            f.field(k.as_bytes());
            f.field(v.to_string().as_bytes());
        }
    }
}

/// Identifies one credential's tokens in a [`crate::TokenCache`]. Two credentials that would get
/// the same tokens have equal keys; a change of secret, key, grant, scope, audience, resource,
/// extra parameter or assertion profile (`iss`, `sub`, `aud`, lifetime, `kid`, claims, headers)
/// gives a new key. `Debug` shows the non-secret parts and the fingerprint's first
/// 8 bytes.
#[derive(Clone)]
pub struct CacheKey {
    digest: [u8; 32],
    endpoint: String,
    client_id: String,
    auth_method: ClientAuthMethod,
    grant: GrantType,
    fingerprint: [u8; 32],
    scopes: String,
    audiences: Vec<String>,
    resources: Vec<String>,
    extra_names: Vec<String>,
}

impl CacheKey {
    /// The key of `credential`.
    pub fn of(credential: &Credential) -> Self {
        let mut fp = hmac::Context::with_key(process_key());
        {
            let mut f = Fields(|b: &[u8]| fp.update(b));
            f.field(credential.auth_method.as_str().as_bytes());
            f.field(
                credential
                    .client_secret
                    .as_ref()
                    .map(|s| s.expose_secret().as_bytes())
                    .unwrap_or(b"\0none"),
            );
            match &credential.client_signer {
                Some(s) => signer_fields(&mut f, s),
                None => f.field(b"\0none"),
            }
            match &credential.grant {
                LoadedGrant::ClientCredentials => f.field(b"client_credentials"),
                LoadedGrant::Password { username, password } => {
                    f.field(b"password");
                    f.field(username.as_bytes());
                    f.field(password.expose_secret().as_bytes());
                }
                LoadedGrant::JwtBearerGiven(a) => {
                    f.field(b"jwt-bearer-given");
                    f.field(a.expose_secret().as_bytes());
                }
                LoadedGrant::JwtBearerSigned(s) => {
                    f.field(b"jwt-bearer-signed");
                    signer_fields(&mut f, s);
                }
            }
            f.field(format!("{:?}", credential.basic_encoding).as_bytes());
        }
        let mut fingerprint = [0u8; 32];
        fingerprint.copy_from_slice(fp.sign().as_ref());

        let mut audiences = credential.audiences.clone();
        audiences.sort();
        audiences.dedup();
        let mut resources = credential.resources.clone();
        resources.sort();
        resources.dedup();
        let mut extra = credential.extra.clone();
        extra.sort();
        let endpoint = credential.endpoint.designator();
        let scopes = credential.scopes.to_string();
        let grant = credential.grant_type();

        let mut d = digest::Context::new(&digest::SHA256);
        {
            let mut f = Fields(|b: &[u8]| d.update(b));
            f.field(endpoint.as_bytes());
            f.field(credential.client_id.as_bytes());
            f.field(credential.auth_method.as_str().as_bytes());
            f.field(grant.as_str().as_bytes());
            f.field(&fingerprint);
            f.field(scopes.as_bytes());
            f.field(&(audiences.len() as u64).to_be_bytes());
            for a in &audiences {
                f.field(a.as_bytes());
            }
            f.field(&(resources.len() as u64).to_be_bytes());
            for r in &resources {
                f.field(r.as_bytes());
            }
            f.field(&(extra.len() as u64).to_be_bytes());
            for (k, v) in &extra {
                f.field(k.as_bytes());
                f.field(v.as_bytes());
            }
        }
        let mut digest = [0u8; 32];
        digest.copy_from_slice(d.finish().as_ref());
        Self {
            digest,
            endpoint,
            client_id: credential.client_id.clone(),
            auth_method: credential.auth_method,
            grant,
            fingerprint,
            scopes,
            audiences,
            resources,
            extra_names: extra.into_iter().map(|(k, _)| k).collect(),
        }
    }

    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// `token:<url>` or `issuer:<url>`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// A short hex id of the whole key, safe to log.
    pub fn short_id(&self) -> String {
        hex::encode(&self.digest[..6])
    }
}

impl PartialEq for CacheKey {
    fn eq(&self, other: &Self) -> bool {
        self.digest == other.digest
    }
}

impl Eq for CacheKey {}

impl Hash for CacheKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.digest.hash(state);
    }
}

impl fmt::Debug for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CacheKey")
            .field("endpoint", &self.endpoint)
            .field("client_id", &self.client_id)
            .field("auth_method", &self.auth_method)
            .field("grant", &self.grant)
            .field("fingerprint", &hex::encode(&self.fingerprint[..8]))
            .field("scopes", &self.scopes)
            .field("audiences", &self.audiences)
            .field("resources", &self.resources)
            .field("extra", &self.extra_names)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::{Endpoint, Grant, JwtBearerAssertion, KeySource, SecretString, SigningProfile};
    use serde_json::json;
    use tessera_jose::Algorithm;

    fn cred(secret: &str, scopes: &[&str]) -> Credential {
        Credential::builder(
            Endpoint::token_endpoint("https://as.example/token").unwrap(),
            "client",
        )
        .client_secret(SecretString::from(secret))
        .scopes(scopes.iter().copied())
        .build()
        .unwrap()
    }

    #[test]
    fn keys() {
        let a = CacheKey::of(&cred("s1", &["b", "a"]));
        let b = CacheKey::of(&cred("s1", &["a", "b"]));
        let c = CacheKey::of(&cred("s2", &["a", "b"]));
        let d = CacheKey::of(&cred("s1", &["a"]));
        assert_eq!(a, b, "scope order does not matter");
        assert_ne!(a, c, "the secret matters");
        assert_ne!(a, d, "scopes matter");
        let debug = format!("{a:?}");
        assert!(!debug.contains("s1"), "{debug}");
        assert!(debug.contains("client"));
    }

    fn jwt_bearer(profile: SigningProfile) -> CacheKey {
        let c = Credential::builder(
            Endpoint::token_endpoint("https://as.example/token").unwrap(),
            "client",
        )
        .client_secret(SecretString::from("s"))
        .grant(Grant::JwtBearer(JwtBearerAssertion::Signed(profile)))
        .build()
        .unwrap();
        CacheKey::of(&c)
    }

    type Change = Box<dyn Fn(&mut SigningProfile)>;

    #[test]
    fn every_part_of_a_grant_assertion_profile_counts() {
        let base = || {
            let mut p =
                SigningProfile::new(Algorithm::HS256, KeySource::Pem(SecretString::from("k1")));
            p.subject = Some("alice".into());
            p.claims.insert("tenant".into(), json!("a"));
            p
        };
        let a = jwt_bearer(base());
        assert_eq!(a, jwt_bearer(base()), "equal profiles, equal keys");
        let variants: [(&str, Change); 7] = [
            (
                "a claim",
                Box::new(|p| {
                    p.claims.insert("tenant".into(), json!("b"));
                }),
            ),
            (
                "an added claim",
                Box::new(|p| {
                    p.claims.insert("role".into(), json!(["admin"]));
                }),
            ),
            (
                "aud",
                Box::new(|p| p.audience = Some("https://other.example".into())),
            ),
            (
                "lifetime",
                Box::new(|p| p.lifetime = std::time::Duration::from_secs(61)),
            ),
            (
                "a header",
                Box::new(|p| {
                    p.headers.insert("x5t#S256".into(), json!("abc"));
                }),
            ),
            ("kid", Box::new(|p| p.kid = Some("k-2".into()))),
            (
                "the key",
                Box::new(|p| p.key = KeySource::Pem(SecretString::from("k2"))),
            ),
        ];
        for (what, change) in variants {
            let mut p = base();
            change(&mut p);
            assert_ne!(a, jwt_bearer(p), "{what} matters");
        }
    }

    #[test]
    fn hmac_keys_from_files_are_fingerprinted_by_their_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            path
        };
        let pem = write("a.key", "hmac-secret-one");
        let same = write("b.key", "hmac-secret-one");
        let other = write("c.key", "hmac-secret-two");
        let k = tessera_jose::b64_encode(b"hmac-secret-one");
        let jwk = write("a.jwk", &json!({"kty": "oct", "k": k}).to_string());
        let profile = |src: KeySource| SigningProfile::new(Algorithm::HS256, src);
        let from = |src: KeySource| jwt_bearer(profile(src));

        // Loaded twice from the same file: one entry (the address of the loaded key is not used).
        assert_eq!(
            from(KeySource::PemFile(pem.clone())),
            from(KeySource::PemFile(pem.clone()))
        );
        assert_eq!(
            from(KeySource::JwkFile(jwk.clone())),
            from(KeySource::JwkFile(jwk.clone()))
        );
        // The bytes count, not the file's name or format.
        assert_eq!(
            from(KeySource::PemFile(pem.clone())),
            from(KeySource::PemFile(same))
        );
        assert_eq!(
            from(KeySource::PemFile(pem.clone())),
            from(KeySource::JwkFile(jwk))
        );
        assert_ne!(
            from(KeySource::PemFile(pem.clone())),
            from(KeySource::PemFile(other.clone()))
        );

        // The same for the client assertion of client_secret_jwt.
        let client = |path: &std::path::Path| {
            let c = Credential::builder(
                Endpoint::token_endpoint("https://as.example/token").unwrap(),
                "client",
            )
            .client_assertion(profile(KeySource::PemFile(path.to_owned())))
            .build()
            .unwrap();
            CacheKey::of(&c)
        };
        assert_eq!(client(&pem), client(&pem));
        assert_ne!(client(&pem), client(&other));
        // The key never shows.
        let debug = format!("{:?}", client(&pem));
        assert!(!debug.contains("hmac-secret"), "{debug}");
    }
}
