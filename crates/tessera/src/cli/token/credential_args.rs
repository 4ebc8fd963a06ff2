//! The flags that describe a credential, shared by `get`, `validate` and `profile add`, and how
//! they combine with a named profile (flags override the profile's values).

use crate::cli::duration::parse_secs;
use anyhow::{Context, bail};
use clap::Args;
use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;
use tessera_client::config::{
    BasicEncodingConfig, CredentialConfig, KeyRef, LoadedProfiles, ProfileFile, SecretRef,
    SigningConfig,
};
use tessera_client::{
    Algorithm, ClientAuthMethod, Credential, GrantType, LifetimePolicy, RetryPolicy,
};

/// A credential on the command line: a `--profile`, flags, or both (flags win).
#[derive(Debug, Clone, Args)]
pub(crate) struct CredentialArgs {
    /// A named credential from the credentials file.
    #[arg(long, short = 'p', env = "TESSERA_PROFILE", value_name = "NAME")]
    pub(crate) profile: Option<String>,
    /// The credentials file (default ~/.config/tessera/credentials.toml).
    #[arg(long, env = "TESSERA_CREDENTIALS_FILE", value_name = "FILE")]
    pub(crate) credentials_file: Option<PathBuf>,

    /// The token endpoint URL.
    #[arg(long, value_name = "URL", conflicts_with = "issuer")]
    pub(crate) token_endpoint: Option<String>,
    /// The issuer URL: the token endpoint is discovered (RFC 8414 / OpenID Connect Discovery).
    #[arg(long, value_name = "URL")]
    pub(crate) issuer: Option<String>,
    /// The client id.
    #[arg(long, value_name = "ID")]
    pub(crate) client_id: Option<String>,
    /// The client secret from an environment variable.
    #[arg(long, value_name = "VAR", group = "secret")]
    pub(crate) client_secret_env: Option<String>,
    /// The client secret from a file (one trailing newline ignored).
    #[arg(long, value_name = "FILE", group = "secret")]
    pub(crate) client_secret_file: Option<PathBuf>,
    /// The client secret itself (visible to other users in the process list: prefer
    /// --client-secret-env or --client-secret-file).
    #[arg(long, value_name = "SECRET", group = "secret", hide_env_values = true)]
    pub(crate) client_secret: Option<String>,
    /// Client authentication: client_secret_basic (default), client_secret_post,
    /// client_secret_jwt or private_key_jwt.
    #[arg(long, value_name = "METHOD")]
    pub(crate) auth_method: Option<ClientAuthMethod>,
    /// Send Basic credentials raw instead of form-urlencoded first (for servers that do not
    /// follow RFC 6749 §2.3.1).
    #[arg(long)]
    pub(crate) basic_raw: bool,

    /// The grant: client_credentials (default), password or jwt-bearer.
    #[arg(long, value_name = "GRANT")]
    pub(crate) grant: Option<GrantType>,
    /// The user name (password grant).
    #[arg(long, value_name = "NAME")]
    pub(crate) username: Option<String>,
    /// The password from an environment variable (password grant).
    #[arg(long, value_name = "VAR")]
    pub(crate) password_env: Option<String>,
    /// The password from a file (password grant).
    #[arg(long, value_name = "FILE")]
    pub(crate) password_file: Option<PathBuf>,
    /// A jwt-bearer grant assertion from a file.
    #[arg(long, value_name = "FILE")]
    pub(crate) assertion_file: Option<PathBuf>,
    /// A jwt-bearer grant assertion from an environment variable.
    #[arg(long, value_name = "VAR")]
    pub(crate) assertion_env: Option<String>,
    /// Sign the jwt-bearer grant assertion with this algorithm (HS* default to the client secret
    /// as key; others need a --grant-assertion-key-file/-jwk-file/-key-env). Default: the `alg`
    /// of a JWK key.
    #[arg(long, value_name = "ALG")]
    pub(crate) grant_assertion_alg: Option<Algorithm>,
    /// The grant assertion's key: a PEM file (or an HMAC secret file for HS*).
    #[arg(long, value_name = "FILE", group = "grant_assertion_key")]
    pub(crate) grant_assertion_key_file: Option<PathBuf>,
    /// The grant assertion's key: a private JWK file.
    #[arg(long, value_name = "FILE", group = "grant_assertion_key")]
    pub(crate) grant_assertion_jwk_file: Option<PathBuf>,
    /// The grant assertion's key: an environment variable holding a PEM key or a JWK.
    #[arg(long, value_name = "VAR", group = "grant_assertion_key")]
    pub(crate) grant_assertion_key_env: Option<String>,
    /// The `kid` header of the grant assertion.
    #[arg(long, value_name = "KID")]
    pub(crate) grant_assertion_kid: Option<String>,
    /// The grant assertion's `iss` (default: the client id).
    #[arg(long, value_name = "ISS")]
    pub(crate) grant_assertion_issuer: Option<String>,
    /// The grant assertion's `sub` (default: the client id).
    #[arg(long, value_name = "SUB")]
    pub(crate) grant_assertion_subject: Option<String>,
    /// The grant assertion's `aud` (default: the token endpoint URL).
    #[arg(long, value_name = "AUD")]
    pub(crate) grant_assertion_audience: Option<String>,
    /// The grant assertion's lifetime: 60s, 5m, or seconds (default 60).
    #[arg(long, value_name = "DURATION", value_parser = parse_secs)]
    pub(crate) grant_assertion_lifetime: Option<u64>,
    /// An extra claim NAME=VALUE in the grant assertion (VALUE as JSON, else as a string).
    #[arg(long = "grant-assertion-claim", value_name = "NAME=VALUE")]
    pub(crate) grant_assertion_claims: Vec<String>,
    /// An extra header parameter NAME=VALUE in the grant assertion.
    #[arg(long = "grant-assertion-header", value_name = "NAME=VALUE")]
    pub(crate) grant_assertion_headers: Vec<String>,

    /// A scope to request (repeat, or separate with spaces).
    #[arg(long = "scope", short = 's', value_name = "SCOPE")]
    pub(crate) scopes: Vec<String>,
    /// An `audience` parameter (repeatable).
    #[arg(long = "audience", value_name = "AUD")]
    pub(crate) audiences: Vec<String>,
    /// An RFC 8707 `resource` parameter (repeatable).
    #[arg(long = "resource", value_name = "URI")]
    pub(crate) resources: Vec<String>,
    /// An extra token request parameter NAME=VALUE (repeatable).
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub(crate) params: Vec<String>,

    /// The client assertion's algorithm (client_secret_jwt: HS256/384/512; private_key_jwt:
    /// RS256/384/512, PS256, ES256, ES384, EdDSA). Default: the `alg` of a JWK key.
    #[arg(long, value_name = "ALG")]
    pub(crate) signing_alg: Option<Algorithm>,
    /// The client assertion's key: a PEM file.
    #[arg(long, value_name = "FILE", group = "signing_key")]
    pub(crate) signing_key_file: Option<PathBuf>,
    /// The client assertion's key: a private JWK file.
    #[arg(long, value_name = "FILE", group = "signing_key")]
    pub(crate) signing_jwk_file: Option<PathBuf>,
    /// The client assertion's key: an environment variable holding a PEM key or a JWK.
    #[arg(long, value_name = "VAR", group = "signing_key")]
    pub(crate) signing_key_env: Option<String>,
    /// The `kid` header of the client assertion.
    #[arg(long, value_name = "KID")]
    pub(crate) kid: Option<String>,
    /// The client assertion's lifetime: 60s, 5m, or seconds (default 60).
    #[arg(long, value_name = "DURATION", value_parser = parse_secs)]
    pub(crate) assertion_lifetime: Option<u64>,
    /// The client assertion's `aud` (default: the token endpoint URL).
    #[arg(long, value_name = "AUD")]
    pub(crate) assertion_audience: Option<String>,
    /// The client assertion's `iss` (default and RFC 7523 §3: the client id).
    #[arg(long, value_name = "ISS")]
    pub(crate) assertion_issuer: Option<String>,
    /// The client assertion's `sub` (default and RFC 7523 §3: the client id).
    #[arg(long, value_name = "SUB")]
    pub(crate) assertion_subject: Option<String>,
    /// An extra claim NAME=VALUE in the client assertion (VALUE as JSON, else as a string).
    #[arg(long = "claim", value_name = "NAME=VALUE")]
    pub(crate) claims: Vec<String>,
    /// An extra header parameter NAME=VALUE in the client assertion.
    #[arg(long = "header", value_name = "NAME=VALUE")]
    pub(crate) headers: Vec<String>,

    /// Timeout of each request: 10s, 1m, or seconds.
    #[arg(long, default_value = "10", value_name = "DURATION", value_parser = parse_secs)]
    pub(crate) timeout: u64,
}

/// How tokens are kept and fetched (`tessera token get`): lifetimes and retries.
#[derive(Debug, Clone, Args)]
pub(crate) struct SourceArgs {
    /// The lifetime given a token when the response has no expires_in and the token is not a
    /// JWT with exp: 5m, 300s, or seconds (default 300).
    #[arg(long, value_name = "DURATION", value_parser = parse_secs)]
    pub(crate) default_lifetime: Option<u64>,
    /// The longest lifetime given a token, whatever the server says: 24h, 1h 30m, or seconds
    /// (default 86400).
    #[arg(long, value_name = "DURATION", value_parser = parse_secs)]
    pub(crate) max_lifetime: Option<u64>,
    /// Retries of a failed token request (network errors, 5xx, 429/503), with exponential
    /// backoff; OAuth errors such as invalid_client are never retried.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub(crate) retries: u32,
}

impl SourceArgs {
    /// The lifetime policy.
    pub(crate) fn lifetime(&self) -> LifetimePolicy {
        let d = LifetimePolicy::default();
        LifetimePolicy {
            default_lifetime: self
                .default_lifetime
                .map_or(d.default_lifetime, |s| Duration::from_secs(s.max(1))),
            max_lifetime: self
                .max_lifetime
                .map_or(d.max_lifetime, |s| Duration::from_secs(s.max(1))),
        }
    }

    /// The retry policy.
    pub(crate) fn retry(&self) -> RetryPolicy {
        RetryPolicy {
            max_attempts: self.retries.saturating_add(1),
            ..RetryPolicy::default()
        }
    }
}

/// The flags of one signing profile (the client assertion's, or the grant assertion's).
struct SigningFlags<'a> {
    alg: Option<Algorithm>,
    key: Option<KeyRef>,
    kid: Option<&'a String>,
    lifetime: Option<u64>,
    audience: Option<&'a String>,
    issuer: Option<&'a String>,
    subject: Option<&'a String>,
    claims: &'a [String],
    headers: &'a [String],
}

fn key_ref(pem: &Option<PathBuf>, jwk: &Option<PathBuf>, env: &Option<String>) -> Option<KeyRef> {
    if let Some(f) = pem {
        Some(KeyRef::PemFile { file: f.clone() })
    } else if let Some(f) = jwk {
        Some(KeyRef::JwkFile {
            jwk_file: f.clone(),
        })
    } else {
        env.as_ref().map(|v| KeyRef::Env { env: v.clone() })
    }
}

impl SigningFlags<'_> {
    fn touched(&self) -> bool {
        self.alg.is_some()
            || self.key.is_some()
            || self.kid.is_some()
            || self.lifetime.is_some()
            || self.audience.is_some()
            || self.issuer.is_some()
            || self.subject.is_some()
            || !self.claims.is_empty()
            || !self.headers.is_empty()
    }

    /// The flags over `base` (a profile's signing profile). The algorithm is the one given,
    /// else the `alg` of a JWK key given, else the profile's; without a profile, else
    /// `default_alg`, else the error `no_alg`.
    fn apply(
        &self,
        base: Option<SigningConfig>,
        default_alg: Option<Algorithm>,
        no_alg: &str,
    ) -> anyhow::Result<SigningConfig> {
        let alg = match (self.alg, &self.key) {
            (Some(a), _) => Some(a),
            (None, Some(key)) => super::jwk_alg::of(key)?,
            (None, None) => None,
        };
        let mut s = match base {
            Some(s) => s,
            None => {
                let Some(alg) = alg.or(default_alg) else {
                    bail!("{no_alg}");
                };
                SigningConfig::of(alg)
            }
        };
        if let Some(a) = alg {
            s.alg = a;
        }
        if self.key.is_some() {
            s.key = self.key.clone();
        }
        let set = |dst: &mut Option<String>, v: Option<&String>| {
            if let Some(v) = v {
                *dst = Some(v.clone());
            }
        };
        set(&mut s.kid, self.kid);
        set(&mut s.audience, self.audience);
        set(&mut s.issuer, self.issuer);
        set(&mut s.subject, self.subject);
        if let Some(l) = self.lifetime {
            s.lifetime_secs = Some(l);
        }
        for claim in self.claims {
            let (k, v) = split_pair(claim, "a claim")?;
            s.claims.insert(k, json_or_string(&v));
        }
        for h in self.headers {
            let (k, v) = split_pair(h, "a header parameter")?;
            s.headers.insert(k, json_or_string(&v));
        }
        Ok(s)
    }
}

fn split_pair(s: &str, what: &str) -> anyhow::Result<(String, String)> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => bail!("{what} {s:?} is not NAME=VALUE"),
    }
}

fn json_or_string(v: &str) -> Value {
    serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.to_owned()))
}

impl CredentialArgs {
    /// The request timeout.
    pub(crate) fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout.max(1))
    }

    /// The credentials file path.
    pub(crate) fn credentials_path(&self) -> anyhow::Result<PathBuf> {
        match &self.credentials_file {
            Some(p) => Ok(p.clone()),
            None => ProfileFile::default_path()
                .context("cannot find the credentials file: set HOME or --credentials-file"),
        }
    }

    /// Loads the credentials file.
    pub(crate) fn load_profiles(&self) -> anyhow::Result<LoadedProfiles> {
        Ok(ProfileFile::load(&self.credentials_path()?)?)
    }

    /// Applies the flags over `base` (a profile's configuration, or an empty one).
    pub(crate) fn apply(&self, mut c: CredentialConfig) -> anyhow::Result<CredentialConfig> {
        if let Some(t) = &self.token_endpoint {
            c.token_endpoint = Some(t.clone());
            c.issuer = None;
        }
        if let Some(i) = &self.issuer {
            c.issuer = Some(i.clone());
            c.token_endpoint = None;
        }
        if let Some(id) = &self.client_id {
            c.client_id = id.clone();
        }
        if let Some(v) = &self.client_secret_env {
            c.client_secret = Some(SecretRef::Env { env: v.clone() });
        }
        if let Some(f) = &self.client_secret_file {
            c.client_secret = Some(SecretRef::File { file: f.clone() });
        }
        if let Some(s) = &self.client_secret {
            c.client_secret = Some(SecretRef::Inline(s.clone()));
        }
        if let Some(m) = self.auth_method {
            c.auth_method = Some(m);
        }
        if self.basic_raw {
            c.basic_encoding = Some(BasicEncodingConfig::Raw);
        }
        if let Some(g) = self.grant {
            c.grant = Some(g);
        }
        if let Some(u) = &self.username {
            c.username = Some(u.clone());
        }
        if let Some(v) = &self.password_env {
            c.password = Some(SecretRef::Env { env: v.clone() });
        }
        if let Some(f) = &self.password_file {
            c.password = Some(SecretRef::File { file: f.clone() });
        }
        if let Some(f) = &self.assertion_file {
            c.assertion = Some(SecretRef::File { file: f.clone() });
            c.assertion_signing = None;
        }
        if let Some(v) = &self.assertion_env {
            c.assertion = Some(SecretRef::Env { env: v.clone() });
            c.assertion_signing = None;
        }
        let grant_signing = SigningFlags {
            alg: self.grant_assertion_alg,
            key: key_ref(
                &self.grant_assertion_key_file,
                &self.grant_assertion_jwk_file,
                &self.grant_assertion_key_env,
            ),
            kid: self.grant_assertion_kid.as_ref(),
            lifetime: self.grant_assertion_lifetime,
            audience: self.grant_assertion_audience.as_ref(),
            issuer: self.grant_assertion_issuer.as_ref(),
            subject: self.grant_assertion_subject.as_ref(),
            claims: &self.grant_assertion_claims,
            headers: &self.grant_assertion_headers,
        };
        if grant_signing.touched() {
            c.assertion = None;
            c.assertion_signing = Some(grant_signing.apply(
                c.assertion_signing.take(),
                None,
                "--grant-assertion-alg is required to sign the jwt-bearer grant assertion (e.g. \
                 ES256, RS256, HS256), unless the key is a JWK whose alg says it",
            )?);
        }
        let scopes: Vec<String> = self
            .scopes
            .iter()
            .flat_map(|s| s.split(' '))
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        if !scopes.is_empty() {
            c.scopes = scopes;
        }
        if !self.audiences.is_empty() {
            c.audiences = self.audiences.clone();
        }
        if !self.resources.is_empty() {
            c.resources = self.resources.clone();
        }
        for p in &self.params {
            let (k, v) = split_pair(p, "--param")?;
            c.params.insert(k, v);
        }
        let client_signing = SigningFlags {
            alg: self.signing_alg,
            key: key_ref(
                &self.signing_key_file,
                &self.signing_jwk_file,
                &self.signing_key_env,
            ),
            kid: self.kid.as_ref(),
            lifetime: self.assertion_lifetime,
            audience: self.assertion_audience.as_ref(),
            issuer: self.assertion_issuer.as_ref(),
            subject: self.assertion_subject.as_ref(),
            claims: &self.claims,
            headers: &self.headers,
        };
        if client_signing.touched() {
            let default_alg = (c.auth_method == Some(ClientAuthMethod::ClientSecretJwt))
                .then_some(Algorithm::HS256);
            c.signing = Some(client_signing.apply(
                c.signing.take(),
                default_alg,
                "--signing-alg is required for a client assertion (e.g. ES256, RS256, HS256), \
                 unless the key is a JWK whose alg says it",
            )?);
        }
        Ok(c)
    }

    /// The configuration: the profile (if any) with the flags applied.
    pub(crate) fn config(&self) -> anyhow::Result<(CredentialConfig, Option<String>)> {
        let base = match &self.profile {
            Some(name) => {
                let loaded = self.load_profiles()?;
                let cfg = loaded.file.profiles.get(name).cloned().with_context(|| {
                    format!(
                        "no profile {name:?} in {} (see `tessera token profile list`)",
                        loaded.path.display()
                    )
                })?;
                if cfg.has_inline_secrets() && !loaded.private {
                    bail!(
                        "profile {name:?} has a secret written inline in {}, which others can read: \
                         chmod 600 it, or use {{ env = \"VAR\" }} / {{ file = \"/path\" }} references",
                        loaded.path.display()
                    );
                }
                cfg
            }
            None => CredentialConfig::default(),
        };
        let cfg = self.apply(base)?;
        if cfg.client_id.is_empty() {
            bail!("no client id: give --client-id or --profile NAME");
        }
        Ok((cfg, self.profile.clone()))
    }

    /// The credential to use.
    pub(crate) fn credential(&self) -> anyhow::Result<Credential> {
        let (cfg, _) = self.config()?;
        // Inline secrets from a shared profile file were refused above; flags may carry one.
        Ok(cfg.to_credential(true)?)
    }
}
