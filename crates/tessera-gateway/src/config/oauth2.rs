//! An upstream's `oauth2` block, in Couper's words (`token_endpoint`, `backend`, `grant_type`,
//! `token_endpoint_auth_method`, `jwt_signing_profile`, `retries`…), turned into a token client
//! credential ([`tessera_client::config::CredentialConfig`]).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;
use tessera_client::config::{
    BasicEncodingConfig, CredentialConfig, KeyRef, SecretRef, SigningConfig,
};
use tessera_client::{Algorithm, ClientAuthMethod, Credential, GrantType};

/// One value or a list (`audience = "a"` or `audience = ["a", "b"]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    /// A single value.
    One(String),
    /// Several values.
    Many(Vec<String>),
}

impl Default for OneOrMany {
    fn default() -> Self {
        Self::Many(Vec::new())
    }
}

impl OneOrMany {
    /// The values.
    pub fn to_vec(&self) -> Vec<String> {
        match self {
            Self::One(v) => vec![v.clone()],
            Self::Many(v) => v.clone(),
        }
    }

    /// The values, a string split on spaces (`scope = "a b"`, RFC 6749 §3.3).
    pub fn split_scopes(&self) -> Vec<String> {
        match self {
            Self::One(v) => v.split_ascii_whitespace().map(str::to_owned).collect(),
            Self::Many(v) => v.clone(),
        }
    }
}

/// A signing key in a `jwt_signing_profile`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum KeyConfig {
    /// `{ env = "VAR" }`: a PEM key or a JWK in an environment variable.
    Env {
        /// The variable.
        env: String,
    },
    /// `{ file = "key.pem" }`: a PEM file (the same as `key_file`).
    File {
        /// The file.
        file: PathBuf,
    },
    /// `"-----BEGIN …"` or `"{…}"` inline: only in a file that only its owner can read.
    Inline(String),
}

impl std::fmt::Debug for KeyConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Env { env } => write!(f, "Env({env})"),
            Self::File { file } => write!(f, "File({})", file.display()),
            Self::Inline(_) => f.write_str("Inline([redacted])"),
        }
    }
}

/// Couper's `jwt_signing_profile`: how to sign a client assertion (`client_secret_jwt`,
/// `private_key_jwt`, RFC 7523 §2.2) or a `jwt-bearer` grant assertion (RFC 7523 §2.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SigningProfileConfig {
    /// `HS256`/`HS384`/`HS512` (`client_secret_jwt`, keyed by the client secret), `RS256`…,
    /// `PS256`, `ES256`, `ES384`, `EdDSA`.
    pub signature_algorithm: Algorithm,
    /// A PEM private key file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_file: Option<PathBuf>,
    /// A private JWK file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwk_file: Option<PathBuf>,
    /// The key by reference (`{ env = … }`, `{ file = … }`) or inline (private files only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<KeyConfig>,
    /// Lifetime of each assertion (default 60 s).
    #[serde(
        default,
        with = "tessera_proto::duration::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub ttl: Option<Duration>,
    /// The `kid` header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// The `aud` claim (default: the token endpoint URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// The `iss` claim (default: `claims.iss`, else the client id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// The `sub` claim (default: `claims.sub`, else the client id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Extra claims; `iss` and `sub` here stand for `issuer` and `subject` when those are unset
    /// (as Couper writes them); `aud`, `jti`, `iat`, `exp` cannot be overridden.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub claims: Map<String, Value>,
    /// Extra JOSE header parameters.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub headers: Map<String, Value>,
}

impl SigningProfileConfig {
    fn to_signing(&self) -> Result<SigningConfig, String> {
        // Couper writes the assertion's `iss` and `sub` among its claims.
        let mut claims = self.claims.clone();
        let mut from_claims = |name: &str, field: &Option<String>| match field {
            Some(v) => Ok(Some(v.clone())),
            None => match claims.remove(name) {
                Some(Value::String(v)) => Ok(Some(v)),
                Some(_) => Err(format!(
                    "jwt_signing_profile: claims.{name} must be a string"
                )),
                None => Ok(None),
            },
        };
        let issuer = from_claims("iss", &self.issuer)?;
        let subject = from_claims("sub", &self.subject)?;
        let given = [
            self.key_file.is_some(),
            self.jwk_file.is_some(),
            self.key.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if given > 1 {
            return Err("jwt_signing_profile: set one of key_file, jwk_file and key".into());
        }
        let key = if let Some(f) = &self.key_file {
            Some(KeyRef::PemFile { file: f.clone() })
        } else if let Some(f) = &self.jwk_file {
            Some(KeyRef::JwkFile {
                jwk_file: f.clone(),
            })
        } else {
            match &self.key {
                None => None,
                Some(KeyConfig::Env { env }) => Some(KeyRef::Env { env: env.clone() }),
                Some(KeyConfig::File { file }) => Some(KeyRef::PemFile { file: file.clone() }),
                Some(KeyConfig::Inline(v)) if v.trim_start().starts_with('{') => {
                    Some(KeyRef::Jwk { jwk: v.clone() })
                }
                Some(KeyConfig::Inline(v)) => Some(KeyRef::Pem { pem: v.clone() }),
            }
        };
        Ok(SigningConfig {
            alg: self.signature_algorithm,
            key,
            lifetime_secs: self.ttl.map(|d| d.as_secs().max(1)),
            audience: self.audience.clone(),
            issuer,
            subject,
            kid: self.kid.clone(),
            claims,
            headers: self.headers.clone(),
        })
    }
}

fn default_retries() -> u32 {
    1
}

/// The timeout of each token request when neither `timeout` nor a `backend` sets one.
pub const DEFAULT_TOKEN_TIMEOUT: Duration = Duration::from_secs(10);

/// An upstream's `oauth2` block: where and how the gateway gets the token it puts on requests to
/// that upstream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuth2Config {
    /// The token endpoint URL (this or `issuer`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint: Option<String>,
    /// The issuer, whose token endpoint is found by discovery (RFC 8414, OpenID Connect).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// The upstream (by name) whose transport settings token requests use (Couper's `backend`):
    /// its CA file, timeouts, connection pool and HTTP version. `token_endpoint` may then be a path
    /// on that upstream's URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<String>,
    /// The client id. Required unless `grant_type` is `jwt-bearer`: without it the request carries
    /// no client authentication (RFC 7523 §3.1) and the server knows the client from the
    /// assertion's issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The client secret: `{ env = "VAR" }` or `{ file = "/path" }` (inline only in a private file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<SecretRef>,
    /// `client_credentials` (default), `password`, or
    /// `urn:ietf:params:oauth:grant-type:jwt-bearer`.
    #[serde(default = "default_grant")]
    pub grant_type: GrantType,
    /// `client_secret_basic` (default), `client_secret_post`, `client_secret_jwt`,
    /// `private_key_jwt`.
    #[serde(default)]
    pub token_endpoint_auth_method: ClientAuthMethod,
    /// `form` (default: RFC 6749 §2.3.1) or `raw` Basic credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basic_encoding: Option<BasicEncodingConfig>,
    /// Signs the client assertion for `client_secret_jwt`/`private_key_jwt`; with the
    /// `jwt-bearer` grant and any other method, signs the grant assertion (as in Couper).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwt_signing_profile: Option<SigningProfileConfig>,
    /// Signs the `jwt-bearer` grant assertion when `jwt_signing_profile` signs the client
    /// assertion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assertion_signing_profile: Option<SigningProfileConfig>,
    /// A given `jwt-bearer` grant assertion (`{ env = … }`, `{ file = … }`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assertion: Option<SecretRef>,
    /// The `password` grant's user name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The `password` grant's password (`{ env = … }`, `{ file = … }`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<SecretRef>,
    /// Scopes: `"a b"` or `["a", "b"]`.
    #[serde(default)]
    pub scope: OneOrMany,
    /// `audience` parameters.
    #[serde(default)]
    pub audience: OneOrMany,
    /// RFC 8707 `resource` parameters.
    #[serde(default)]
    pub resource: OneOrMany,
    /// Extra token request parameters.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, String>,
    /// How many times a request is replayed with a new token after a `401` (default 1).
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// Trust only the certificates of this PEM file for an `https` token endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// Timeout of each token request (default: the `backend`'s `request_timeout`, else 10 s).
    #[serde(
        default,
        with = "tessera_proto::duration::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub timeout: Option<Duration>,
}

fn default_grant() -> GrantType {
    GrantType::ClientCredentials
}

/// An absolute `http(s)` URL's origin (scheme, host, port), lower-cased.
fn origin(url: &str) -> Option<String> {
    let u = http::Uri::try_from(url).ok()?;
    let scheme = u.scheme_str()?.to_ascii_lowercase();
    let host = u.host()?.to_ascii_lowercase();
    let port = u
        .port_u16()
        .unwrap_or(if scheme == "https" { 443 } else { 80 });
    matches!(scheme.as_str(), "http" | "https").then(|| format!("{scheme}://{host}:{port}"))
}

impl OAuth2Config {
    /// The timeout of each token request: `timeout`, else the backend's `request_timeout`, else
    /// [`DEFAULT_TOKEN_TIMEOUT`].
    pub fn token_timeout(&self, backend: Option<&super::UpstreamConfig>) -> Duration {
        self.timeout
            .or(backend.map(|b| b.request_timeout))
            .unwrap_or(DEFAULT_TOKEN_TIMEOUT)
    }

    /// Checks the block against the upstreams it may name (`backend`), without reading secrets.
    pub fn check(&self, upstreams: &BTreeMap<String, super::UpstreamConfig>) -> Result<(), String> {
        let Some(name) = &self.backend else {
            if self
                .token_endpoint
                .as_deref()
                .is_some_and(|t| t.starts_with('/'))
            {
                return Err(
                    "token_endpoint is a path: name the backend it is on, or give a full URL"
                        .into(),
                );
            }
            return Ok(());
        };
        let backend = upstreams.get(name).ok_or_else(|| {
            format!(
                "backend: no upstream named {name:?} (known: {})",
                upstreams.keys().cloned().collect::<Vec<_>>().join(", ")
            )
        })?;
        if self.ca_file.is_some() {
            return Err(format!(
                "ca_file and backend: the token requests use backend {name:?}'s transport; set ca_file there"
            ));
        }
        let Some(theirs) = origin(&backend.url) else {
            return Err(format!("backend {name:?} has no usable url"));
        };
        for (what, url) in [
            ("token_endpoint", &self.token_endpoint),
            ("issuer", &self.issuer),
        ] {
            if let Some(u) = url
                && !(what == "token_endpoint" && u.starts_with('/'))
                && origin(u).as_deref() != Some(theirs.as_str())
            {
                return Err(format!(
                    "{what} {u:?} is not on backend {name:?} ({}); token requests go only to the backend's origin",
                    backend.url
                ));
            }
        }
        Ok(())
    }

    /// The token endpoint URL: `token_endpoint` as written, or, for a path, that path on the
    /// backend's URL (after its base path, as proxied requests are).
    fn token_endpoint_url(&self, backend: Option<&super::UpstreamConfig>) -> Option<String> {
        let t = self.token_endpoint.as_ref()?;
        match backend {
            Some(b) if t.starts_with('/') => Some(format!("{}{t}", b.url.trim_end_matches('/'))),
            _ => Some(t.clone()),
        }
    }

    /// The token client's view of this block; `backend` is the upstream named by `backend`.
    pub fn to_credential_config(
        &self,
        backend: Option<&super::UpstreamConfig>,
    ) -> Result<CredentialConfig, String> {
        let unauthenticated = self.client_id.is_none();
        if unauthenticated && self.grant_type != GrantType::JwtBearer {
            return Err(format!(
                "client_id is required for grant_type {} (only the jwt-bearer grant may go without \
                 client authentication)",
                self.grant_type
            ));
        }
        if unauthenticated
            && (self.client_secret.is_some()
                || matches!(
                    self.token_endpoint_auth_method,
                    ClientAuthMethod::ClientSecretJwt | ClientAuthMethod::PrivateKeyJwt
                ))
        {
            return Err(
                "client_secret and client assertions authenticate a client: set client_id, or \
                 leave them out for a jwt-bearer request without client authentication"
                    .into(),
            );
        }
        let method = if unauthenticated {
            ClientAuthMethod::None
        } else {
            self.token_endpoint_auth_method
        };
        let signs_client = matches!(
            method,
            ClientAuthMethod::ClientSecretJwt | ClientAuthMethod::PrivateKeyJwt
        );
        let profile = self
            .jwt_signing_profile
            .as_ref()
            .map(SigningProfileConfig::to_signing)
            .transpose()?;
        let assertion_profile = self
            .assertion_signing_profile
            .as_ref()
            .map(SigningProfileConfig::to_signing)
            .transpose()?;
        let (signing, assertion_signing) = match (signs_client, self.grant_type) {
            (true, _) => (profile, assertion_profile),
            // Couper: with jwt-bearer and no assertion, the profile signs the grant assertion.
            (false, GrantType::JwtBearer) if self.assertion.is_none() => {
                (None, assertion_profile.or(profile))
            }
            (false, _) if profile.is_some() => {
                return Err(format!(
                    "jwt_signing_profile is used with token_endpoint_auth_method client_secret_jwt or \
                     private_key_jwt, or to sign a jwt-bearer grant assertion; not with {method}"
                ));
            }
            (false, _) => (None, assertion_profile),
        };
        if signs_client && signing.is_none() && method == ClientAuthMethod::PrivateKeyJwt {
            return Err("private_key_jwt needs a jwt_signing_profile with a key".into());
        }
        // client_secret_jwt without a profile: HS256 keyed by the client secret.
        let signing = match (method, signing) {
            (ClientAuthMethod::ClientSecretJwt, None) => Some(SigningConfig::of(Algorithm::HS256)),
            (_, s) => s,
        };
        if !matches!(
            self.grant_type,
            GrantType::ClientCredentials | GrantType::Password | GrantType::JwtBearer
        ) {
            return Err(format!(
                "grant_type {} is not one the gateway performs (client_credentials, password, \
                 urn:ietf:params:oauth:grant-type:jwt-bearer)",
                self.grant_type
            ));
        }
        Ok(CredentialConfig {
            token_endpoint: self.token_endpoint_url(backend),
            issuer: self.issuer.clone(),
            client_id: self.client_id.clone().unwrap_or_default(),
            client_secret: self.client_secret.clone(),
            auth_method: Some(method),
            basic_encoding: self.basic_encoding,
            signing,
            grant: Some(self.grant_type),
            username: self.username.clone(),
            password: self.password.clone(),
            assertion: self.assertion.clone(),
            assertion_signing,
            scopes: self.scope.split_scopes(),
            audiences: self.audience.to_vec(),
            resources: self.resource.to_vec(),
            params: self.params.clone(),
        })
    }

    /// Builds the token client credential, reading secrets and keys now; `allow_inline` is false
    /// when the configuration file can be read by others.
    pub fn to_credential(
        &self,
        backend: Option<&super::UpstreamConfig>,
        allow_inline: bool,
    ) -> Result<Credential, String> {
        let cfg = self.to_credential_config(backend)?;
        cfg.to_credential(allow_inline).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn parse(text: &str) -> OAuth2Config {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn couper_names_and_defaults() {
        let c = parse(
            r#"
            token_endpoint = "https://as.example/oauth2/token"
            client_id = "gw"
            client_secret = { env = "GW_SECRET" }
            scope = "a.b.read a.b.write"
            audience = "https://api.example/"
            "#,
        );
        assert_eq!(c.retries, 1);
        assert_eq!(c.grant_type, GrantType::ClientCredentials);
        assert_eq!(
            c.token_endpoint_auth_method,
            ClientAuthMethod::ClientSecretBasic
        );
        let cc = c.to_credential_config(None).unwrap();
        assert_eq!(cc.scopes, ["a.b.read", "a.b.write"]);
        assert_eq!(cc.audiences, ["https://api.example/"]);
    }

    #[test]
    fn jwt_bearer_profile_signs_the_grant_assertion() {
        let c = parse(
            r#"
            token_endpoint = "https://as.example/oauth2/token"
            client_id = "gw"
            client_secret = { env = "GW_SECRET" }
            grant_type = "urn:ietf:params:oauth:grant-type:jwt-bearer"
            jwt_signing_profile = { signature_algorithm = "ES256", key_file = "/k.pem", ttl = "30s" }
            "#,
        );
        let cc = c.to_credential_config(None).unwrap();
        assert!(cc.signing.is_none());
        let a = cc.assertion_signing.unwrap();
        assert_eq!(a.lifetime_secs, Some(30));
    }

    #[test]
    fn client_secret_jwt_defaults_to_hs256_with_the_secret() {
        let c = parse(
            r#"
            token_endpoint = "https://as.example/oauth2/token"
            client_id = "gw"
            client_secret = { env = "GW_SECRET" }
            token_endpoint_auth_method = "client_secret_jwt"
            "#,
        );
        let cc = c.to_credential_config(None).unwrap();
        assert_eq!(cc.signing.unwrap().alg, Algorithm::HS256);
    }

    #[test]
    fn refuses_a_profile_that_signs_nothing_and_unknown_fields() {
        let c = parse(
            r#"
            token_endpoint = "https://as.example/oauth2/token"
            client_id = "gw"
            jwt_signing_profile = { signature_algorithm = "ES256", key_file = "/k.pem" }
            "#,
        );
        assert!(c.to_credential_config(None).is_err());
        assert!(
            toml::from_str::<OAuth2Config>("client_id = \"x\"\nclient_sercet = \"typo\"").is_err()
        );
        let c = parse(
            "token_endpoint = \"https://as.example/t\"\nclient_id = \"x\"\ngrant_type = \"authorization_code\"",
        );
        assert!(c.to_credential_config(None).is_err());
    }
}
