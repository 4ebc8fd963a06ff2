//! Credentials as configuration: the named profiles of `~/.config/tessera/credentials.toml`
//! (`tessera token --profile NAME`), also usable by any program that configures credentials in
//! TOML or JSON (the gateway's backends).
//!
//! Secrets are references — `{ env = "VAR" }` or `{ file = "/path" }` — and an inline value is
//! accepted only from a file that no one but its owner can read (mode `0600` or stricter).
//!
//! ```toml
//! [profiles.billing]
//! token_endpoint = "https://auth.example.com/oauth2/token"   # or: issuer = "https://auth.example.com"
//! client_id = "billing-service"
//! client_secret = { env = "BILLING_CLIENT_SECRET" }
//! auth_method = "client_secret_basic"                          # default
//! scopes = ["core.accounting.read"]
//! resources = ["https://api.example.com/"]
//!
//! [profiles.signer]
//! issuer = "https://auth.example.com"
//! client_id = "signer"
//! auth_method = "private_key_jwt"
//! signing = { alg = "ES256", key = { file = "/etc/signer/key.pem" }, kid = "k1", lifetime_secs = 60 }
//! ```

use crate::assertion::{KeySource, SigningProfile};
use crate::credential::{BasicEncoding, Grant, JwtBearerAssertion};
use crate::{Credential, Endpoint, Error, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tessera_jose::Algorithm;
use tessera_proto::{ClientAuthMethod, GrantType};

/// A secret in configuration: a reference to an environment variable or a file, or (only in a
/// private file) the value itself.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SecretRef {
    /// `{ env = "VAR" }`: the value of an environment variable.
    Env {
        /// The variable's name.
        env: String,
    },
    /// `{ file = "/path" }`: the content of a file, one trailing newline removed.
    File {
        /// The file's path.
        file: PathBuf,
    },
    /// `"value"`: the secret itself; refused unless the configuration file is private.
    Inline(String),
}

impl std::fmt::Debug for SecretRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Env { env } => write!(f, "Env({env})"),
            Self::File { file } => write!(f, "File({})", file.display()),
            Self::Inline(_) => f.write_str("Inline([redacted])"),
        }
    }
}

impl SecretRef {
    /// Reads the secret. `allow_inline` is false for a configuration file others can read.
    pub fn resolve(&self, what: &str, allow_inline: bool) -> Result<SecretString, Error> {
        match self {
            Self::Env { env } => std::env::var(env).map(SecretString::from).map_err(|_| {
                Error::Config(format!("{what}: environment variable {env} is not set"))
            }),
            Self::File { file } => {
                let text = std::fs::read_to_string(file).map_err(|e| {
                    Error::Config(format!("{what}: cannot read {}: {e}", file.display()))
                })?;
                Ok(SecretString::from(tessera_proto::secret_file::secret_text(
                    &text,
                )))
            }
            Self::Inline(v) if allow_inline => Ok(SecretString::from(v.as_str())),
            Self::Inline(_) => Err(Error::Config(format!(
                "{what} is written inline in a file that others can read: make the file private \
                 (chmod 600) or use {{ env = \"VAR\" }} / {{ file = \"/path\" }}"
            ))),
        }
    }

    /// Whether the secret is written inline.
    pub fn is_inline(&self) -> bool {
        matches!(self, Self::Inline(_))
    }
}

/// A signing key in configuration.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum KeyRef {
    /// `{ file = "key.pem" }`: a PEM private key file (or an HMAC secret file for HS*).
    PemFile {
        /// The file.
        file: PathBuf,
    },
    /// `{ jwk_file = "key.json" }`: a private JWK file.
    JwkFile {
        /// The file.
        jwk_file: PathBuf,
    },
    /// `{ env = "VAR" }`: a variable holding a PEM key or a JWK.
    Env {
        /// The variable's name.
        env: String,
    },
    /// `{ pem = "-----BEGIN …" }` inline (private files only).
    Pem {
        /// The PEM document.
        pem: String,
    },
    /// `{ jwk = "{…}" }` inline (private files only).
    Jwk {
        /// The JWK as JSON.
        jwk: String,
    },
    /// `"client_secret"`: the client secret is the HMAC key (`client_secret_jwt`).
    Named(String),
}

impl std::fmt::Debug for KeyRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::PemFile { file } => write!(f, "PemFile({})", file.display()),
            Self::JwkFile { jwk_file } => write!(f, "JwkFile({})", jwk_file.display()),
            Self::Env { env } => write!(f, "Env({env})"),
            Self::Pem { .. } => f.write_str("Pem([redacted])"),
            Self::Jwk { .. } => f.write_str("Jwk([redacted])"),
            Self::Named(n) => write!(f, "{n}"),
        }
    }
}

/// A signing profile in configuration (see [`SigningProfile`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SigningConfig {
    /// The algorithm (`HS256`, `RS256`, `PS256`, `ES256`, `ES384`, `EdDSA`…).
    pub alg: Algorithm,
    /// The key; default: the client secret for HS* algorithms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<KeyRef>,
    /// Assertion lifetime in seconds (default 60).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifetime_secs: Option<u64>,
    /// The `aud` claim (default: the token endpoint URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// The `iss` claim (default: the client id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// The `sub` claim (default: the client id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The `kid` header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// Extra claims.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub claims: Map<String, Value>,
    /// Extra header parameters.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub headers: Map<String, Value>,
}

impl SigningConfig {
    /// A profile of `alg` and nothing else: for HMAC algorithms the key is the client secret;
    /// lifetime, audience, issuer, subject and `kid` take their defaults.
    pub fn of(alg: Algorithm) -> Self {
        Self {
            alg,
            key: None,
            lifetime_secs: None,
            audience: None,
            issuer: None,
            subject: None,
            kid: None,
            claims: Map::new(),
            headers: Map::new(),
        }
    }

    fn to_profile(&self, allow_inline: bool) -> Result<SigningProfile, Error> {
        let key = match &self.key {
            None if self.alg.is_hmac() => KeySource::ClientSecret,
            None => {
                return Err(Error::Config(format!(
                    "the {} signing profile needs a key",
                    self.alg
                )));
            }
            Some(KeyRef::Named(n)) if n == "client_secret" => KeySource::ClientSecret,
            Some(KeyRef::Named(n)) => {
                return Err(Error::Config(format!(
                    "unknown signing key {n:?}: use \"client_secret\", {{ file = … }}, {{ jwk_file = … }} or {{ env = … }}"
                )));
            }
            Some(KeyRef::PemFile { file }) => KeySource::PemFile(file.clone()),
            Some(KeyRef::JwkFile { jwk_file }) => KeySource::JwkFile(jwk_file.clone()),
            Some(KeyRef::Env { env }) => KeySource::Env(env.clone()),
            Some(KeyRef::Pem { pem }) => {
                SecretRef::Inline(pem.clone()).resolve("the signing key", allow_inline)?;
                KeySource::Pem(SecretString::from(pem.as_str()))
            }
            Some(KeyRef::Jwk { jwk }) => {
                SecretRef::Inline(jwk.clone()).resolve("the signing key", allow_inline)?;
                KeySource::Jwk(SecretString::from(jwk.as_str()))
            }
        };
        let mut p = SigningProfile::new(self.alg, key);
        if let Some(s) = self.lifetime_secs {
            p.lifetime = Duration::from_secs(s);
        }
        p.audience = self.audience.clone();
        p.issuer = self.issuer.clone();
        p.subject = self.subject.clone();
        p.kid = self.kid.clone();
        p.claims = self.claims.clone();
        p.headers = self.headers.clone();
        Ok(p)
    }

    fn has_inline(&self) -> bool {
        matches!(self.key, Some(KeyRef::Pem { .. } | KeyRef::Jwk { .. }))
    }
}

/// How `client_secret_basic` encodes id and secret, in configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum BasicEncodingConfig {
    /// Form-urlencoded first (RFC 6749 §2.3.1). The default.
    #[default]
    Form,
    /// Raw (RFC 7617), for servers that do not decode.
    Raw,
}

/// A credential in configuration (one profile).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialConfig {
    /// The token endpoint URL (this or `issuer`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint: Option<String>,
    /// The issuer, for discovery (this or `token_endpoint`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// The client id.
    pub client_id: String,
    /// The client secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<SecretRef>,
    /// The client authentication method (default `client_secret_basic`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_method: Option<ClientAuthMethod>,
    /// Basic encoding: `form` (default) or `raw`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basic_encoding: Option<BasicEncodingConfig>,
    /// The client assertion's signing profile (`client_secret_jwt`, `private_key_jwt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing: Option<SigningConfig>,
    /// The grant: `client_credentials` (default), `password` or `jwt-bearer`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant: Option<GrantType>,
    /// The user name of the `password` grant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The password of the `password` grant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<SecretRef>,
    /// A given assertion for the `jwt-bearer` grant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assertion: Option<SecretRef>,
    /// The signing profile of a `jwt-bearer` grant assertion signed per request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assertion_signing: Option<SigningConfig>,
    /// Scopes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// `audience` parameters.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audiences: Vec<String>,
    /// RFC 8707 `resource` parameters.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
    /// Extra token request parameters.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, String>,
}

impl CredentialConfig {
    /// Whether any secret or key is written inline.
    pub fn has_inline_secrets(&self) -> bool {
        [&self.client_secret, &self.password, &self.assertion]
            .iter()
            .any(|s| s.as_ref().is_some_and(SecretRef::is_inline))
            || self.signing.as_ref().is_some_and(SigningConfig::has_inline)
            || self
                .assertion_signing
                .as_ref()
                .is_some_and(SigningConfig::has_inline)
    }

    /// Builds the credential, reading its secrets; `allow_inline` is false when the file holding
    /// this configuration can be read by others.
    pub fn to_credential(&self, allow_inline: bool) -> Result<Credential, Error> {
        let endpoint = match (&self.token_endpoint, &self.issuer) {
            (Some(t), None) => Endpoint::token_endpoint(t)?,
            (None, Some(i)) => Endpoint::issuer(i)?,
            (Some(_), Some(_)) => {
                return Err(Error::Config(
                    "set token_endpoint or issuer, not both".into(),
                ));
            }
            (None, None) => {
                return Err(Error::Config(
                    "set token_endpoint (or issuer, for discovery)".into(),
                ));
            }
        };
        let mut b = Credential::builder(endpoint, self.client_id.clone());
        if let Some(s) = &self.client_secret {
            b = b.client_secret(s.resolve("client_secret", allow_inline)?);
        }
        if let Some(m) = self.auth_method {
            b = b.auth_method(m);
        }
        if let Some(BasicEncodingConfig::Raw) = self.basic_encoding {
            b = b.basic_encoding(BasicEncoding::Raw);
        }
        if let Some(s) = &self.signing {
            b = b.client_assertion(s.to_profile(allow_inline)?);
        }
        let grant = match self.grant.unwrap_or(GrantType::ClientCredentials) {
            GrantType::ClientCredentials => Grant::ClientCredentials,
            GrantType::Password => Grant::Password {
                username: self
                    .username
                    .clone()
                    .ok_or_else(|| Error::Config("the password grant needs username".into()))?,
                password: self
                    .password
                    .as_ref()
                    .ok_or_else(|| Error::Config("the password grant needs password".into()))?
                    .resolve("password", allow_inline)?,
            },
            GrantType::JwtBearer => match (&self.assertion, &self.assertion_signing) {
                (Some(a), None) => Grant::JwtBearer(JwtBearerAssertion::Given(
                    a.resolve("assertion", allow_inline)?,
                )),
                (None, Some(s)) => {
                    Grant::JwtBearer(JwtBearerAssertion::Signed(s.to_profile(allow_inline)?))
                }
                _ => {
                    return Err(Error::Config(
                        "the jwt-bearer grant needs either assertion or assertion_signing".into(),
                    ));
                }
            },
            other => {
                return Err(Error::Config(format!(
                    "grant {other} is not one the token client performs (client_credentials, password, jwt-bearer)"
                )));
            }
        };
        b = b.grant(grant).scopes(self.scopes.iter().cloned());
        for a in &self.audiences {
            b = b.audience(a.clone());
        }
        for r in &self.resources {
            b = b.resource(r.clone());
        }
        for (k, v) in &self.params {
            b = b.param(k.clone(), v.clone());
        }
        b.build()
    }
}

/// A credentials file: named profiles under `[profiles.NAME]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileFile {
    /// The profiles by name.
    #[serde(default)]
    pub profiles: BTreeMap<String, CredentialConfig>,
}

/// A loaded credentials file and whether only its owner can read it.
#[derive(Debug, Clone)]
pub struct LoadedProfiles {
    /// The profiles.
    pub file: ProfileFile,
    /// Where they were read from.
    pub path: PathBuf,
    /// Whether the file is private (no group or other permission bits), so inline secrets are
    /// allowed.
    pub private: bool,
}

impl ProfileFile {
    /// `$XDG_CONFIG_HOME/tessera/credentials.toml`, else `~/.config/tessera/credentials.toml`.
    pub fn default_path() -> Option<PathBuf> {
        if let Some(x) = std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
            return Some(PathBuf::from(x).join("tessera").join("credentials.toml"));
        }
        std::env::var_os("HOME").filter(|v| !v.is_empty()).map(|h| {
            PathBuf::from(h)
                .join(".config")
                .join("tessera")
                .join("credentials.toml")
        })
    }

    /// Reads `path`; a missing file is an empty one.
    pub fn load(path: &Path) -> Result<LoadedProfiles, Error> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(LoadedProfiles {
                    file: ProfileFile::default(),
                    path: path.to_owned(),
                    private: true,
                });
            }
            Err(e) => {
                return Err(Error::Config(format!(
                    "cannot read {}: {e}",
                    path.display()
                )));
            }
        };
        let file: ProfileFile =
            toml::from_str(&text).map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
        Ok(LoadedProfiles {
            file,
            path: path.to_owned(),
            private: is_private(path),
        })
    }

    /// Writes the file with mode `0600` (its folder `0700` when created), replacing it atomically.
    pub fn save(&self, path: &Path) -> Result<(), Error> {
        let text = toml::to_string_pretty(self)
            .map_err(|e| Error::Config(format!("cannot encode the profiles: {e}")))?;
        let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
        if let Some(dir) = dir
            && !dir.exists()
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::Config(format!("cannot create {}: {e}", dir.display())))?;
            set_mode(dir, 0o700)?;
        }
        let tmp = path.with_extension("toml.tmp");
        write_private(&tmp, text.as_bytes())?;
        std::fs::rename(&tmp, path)
            .map_err(|e| Error::Config(format!("cannot write {}: {e}", path.display())))
    }
}

impl LoadedProfiles {
    /// The credential of profile `name`.
    pub fn credential(&self, name: &str) -> Result<Credential, Error> {
        let cfg = self.file.profiles.get(name).ok_or_else(|| {
            Error::Config(format!(
                "no profile {name:?} in {} (see `tessera token profile list`)",
                self.path.display()
            ))
        })?;
        cfg.to_credential(self.private)
    }
}

#[cfg(unix)]
fn is_private(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 == 0)
}

#[cfg(not(unix))]
fn is_private(_path: &Path) -> bool {
    false
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> Result<(), Error> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| Error::Config(format!("cannot set permissions of {}: {e}", path.display())))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> Result<(), Error> {
    Ok(())
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| Error::Config(format!("cannot write {}: {e}", path.display())))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| Error::Config(format!("cannot write {}: {e}", path.display())))?;
    set_mode(path, 0o600)
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    std::fs::write(path, bytes)
        .map_err(|e| Error::Config(format!("cannot write {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn inline_only_when_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tessera").join("credentials.toml");
        let mut file = ProfileFile::default();
        file.profiles.insert(
            "a".into(),
            CredentialConfig {
                token_endpoint: Some("https://as.example/token".into()),
                client_id: "c".into(),
                client_secret: Some(SecretRef::Inline("s3cret".into())),
                scopes: vec!["a.b.c".into()],
                ..Default::default()
            },
        );
        file.save(&path).unwrap();
        let loaded = ProfileFile::load(&path).unwrap();
        assert!(loaded.private);
        assert_eq!(loaded.file, file);
        assert!(loaded.credential("a").is_ok());
        assert!(loaded.credential("b").is_err());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            let loaded = ProfileFile::load(&path).unwrap();
            assert!(!loaded.private);
            let err = loaded.credential("a").unwrap_err().to_string();
            assert!(err.contains("chmod 600"), "{err}");
            assert!(!format!("{loaded:?}").contains("s3cret"));
        }
    }

    #[test]
    fn parses_references() {
        let text = r#"
            [profiles.x]
            issuer = "https://as.example"
            client_id = "x"
            client_secret = { env = "TESSERA_TEST_NOPE_UNSET" }
            auth_method = "client_secret_jwt"
            signing = { alg = "HS384", lifetime_secs = 30 }

            [profiles.y]
            token_endpoint = "https://as.example/token"
            client_id = "y"
            auth_method = "private_key_jwt"
            signing = { alg = "ES256", key = { file = "/nonexistent.pem" } }
        "#;
        let f: ProfileFile = toml::from_str(text).unwrap();
        assert_eq!(f.profiles.len(), 2);
        let err = f.profiles["x"]
            .to_credential(false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("TESSERA_TEST_NOPE_UNSET"), "{err}");
        let err = f.profiles["y"]
            .to_credential(false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("nonexistent.pem"), "{err}");
    }
}
