//! Settings: defaults, then a TOML file, then `TESSERA_…` environment variables.
//!
//! Every setting is documented in `docs/configuration.md`. Environment variables name a setting by
//! its path with `_` between section and key: `TESSERA_DATABASE_URL` sets `database.url`,
//! `TESSERA_TOKENS_DEFAULT_LIFETIME_SECS` sets `tokens.default_lifetime_secs`.

pub use crate::people_config::{
    AuthorizeConfig, DeviceConfig, PagesConfig, RefreshTokensConfig, SessionsConfig, UsersConfig,
};
pub use crate::tls::TlsConfig;
use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use secrecy::ExposeSecret;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tessera_jose::Algorithm;
use tessera_proto::{ScopeNaming, TokenFormat};
pub use tessera_serve::Threading;

/// All of the server's settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on. Default `127.0.0.1:8080`.
    pub listen: SocketAddr,
    /// Issuer identifier (RFC 8414 §2). Default `http://` + `listen` (`https://` with `[tls]`).
    /// Use `https` in production.
    pub issuer: Option<String>,
    /// Folder for the SQLite database, the master key and the bootstrap admin credential.
    pub data_dir: PathBuf,
    /// A TOML file of scopes and clients applied at start-up (see `docs/setup-file.md`).
    pub setup_file: Option<PathBuf>,
    /// The database.
    pub database: DatabaseConfig,
    /// The master key that encrypts signing keys and peppers secret hashes.
    pub secrets: SecretsConfig,
    /// Access token issuance.
    pub tokens: TokensConfig,
    /// Signing keys.
    pub keys: KeysConfig,
    /// Client authentication.
    pub client_auth: ClientAuthConfig,
    /// Rate limits on failed client authentication.
    pub rate_limit: RateLimitConfig,
    /// HTTP limits.
    pub http: HttpConfig,
    /// Logging.
    pub log: LogConfig,
    /// The bootstrap admin client.
    pub admin: AdminConfig,
    /// Several instances on one database.
    pub cluster: ClusterConfig,
    /// Login, consent and device pages.
    pub pages: PagesConfig,
    /// Sign-in limits.
    pub users: UsersConfig,
    /// Browser sessions.
    pub sessions: SessionsConfig,
    /// The authorization endpoint and its codes.
    pub authorize: AuthorizeConfig,
    /// Refresh token lifetimes.
    pub refresh_tokens: RefreshTokensConfig,
    /// The device authorization grant.
    pub device: DeviceConfig,
    /// The JWT bearer authorization grant (RFC 7523 §2.1).
    pub jwt_bearer: JwtBearerConfig,
    /// Serving HTTPS directly.
    pub tls: TlsConfig,
    /// Migration aids: compatibility profiles.
    pub compat: crate::compat::CompatConfig,
    /// Scope names.
    pub scopes: ScopesConfig,
    /// The console at `/admin/`.
    pub console: crate::console::ConsoleConfig,
    /// How long audit events are kept.
    pub audit: crate::audit_retention::AuditConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            issuer: None,
            data_dir: PathBuf::from("tessera-data"),
            setup_file: None,
            database: DatabaseConfig::default(),
            secrets: SecretsConfig::default(),
            tokens: TokensConfig::default(),
            keys: KeysConfig::default(),
            client_auth: ClientAuthConfig::default(),
            rate_limit: RateLimitConfig::default(),
            http: HttpConfig::default(),
            log: LogConfig::default(),
            admin: AdminConfig::default(),
            cluster: ClusterConfig::default(),
            pages: PagesConfig::default(),
            users: UsersConfig::default(),
            sessions: SessionsConfig::default(),
            authorize: AuthorizeConfig::default(),
            refresh_tokens: RefreshTokensConfig::default(),
            device: DeviceConfig::default(),
            jwt_bearer: JwtBearerConfig::default(),
            tls: TlsConfig::default(),
            compat: crate::compat::CompatConfig::default(),
            scopes: ScopesConfig::default(),
            console: crate::console::ConsoleConfig::default(),
            audit: crate::audit_retention::AuditConfig::default(),
        }
    }
}

/// `[cluster]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClusterConfig {
    /// Seconds between full re-reads of clients and scopes: the safety net behind change
    /// notifications. Default 30.
    #[serde(deserialize_with = "tessera_proto::duration::secs::deserialize")]
    pub full_reload_secs: u64,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        Self {
            full_reload_secs: 30,
        }
    }
}

/// `[database]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://path` or `postgres://…`. Default: `tessera.db` in `data_dir`. Read, never
    /// written out (it may hold a password).
    #[serde(serialize_with = "never_written")]
    pub url: Option<SecretString>,
    /// Connection pool size.
    pub max_connections: u32,
    /// Seconds to wait for a connection or a statement before answering 503.
    #[serde(deserialize_with = "tessera_proto::duration::secs::deserialize")]
    pub timeout_secs: u64,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: None,
            max_connections: 8,
            timeout_secs: 5,
        }
    }
}

/// `[secrets]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecretsConfig {
    /// The master key, 32 bytes in base64url. Takes precedence over `master_key_file`. Read,
    /// never written out.
    #[serde(serialize_with = "never_written")]
    pub master_key: Option<SecretString>,
    /// A file holding the master key. Default `master.key` in `data_dir`, created on first start.
    pub master_key_file: Option<PathBuf>,
}

/// `[tokens]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TokensConfig {
    /// Access token lifetime for clients that set none. Default 600.
    #[serde(deserialize_with = "tessera_proto::duration::secs::deserialize")]
    pub default_lifetime_secs: u64,
    /// The longest lifetime a client may be given. Default 86400.
    #[serde(deserialize_with = "tessera_proto::duration::secs::deserialize")]
    pub max_lifetime_secs: u64,
    /// Format for clients that set none: `jwt` (default) or `opaque`.
    pub default_format: TokenFormat,
    /// Signing algorithm for clients that set none: `ES256` (default), `RS256` or `EdDSA`.
    pub signing_alg: Algorithm,
    /// The `aud` of a token whose client has no audiences and asked for none: `issuer` (default),
    /// `client_id`, or an absolute URI.
    pub default_audience: DefaultAudience,
    /// The largest JWT access token a client may be registered for, in bytes: a client whose
    /// largest possible token is bigger is refused. Default 16384, the guards' default limit.
    pub max_jwt_bytes: usize,
}

/// `tokens.default_audience`: the audience of a token when the client has none registered and the
/// request names none (`resource`, `audience`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum DefaultAudience {
    /// This server's issuer identifier (the default).
    #[default]
    Issuer,
    /// The client's id, as OneLogin does.
    ClientId,
    /// This absolute URI.
    Uri(String),
}

impl DefaultAudience {
    /// The audience for a token of `client_id` issued by `issuer`.
    pub fn for_client(&self, issuer: &str, client_id: &str) -> String {
        match self {
            Self::Issuer => issuer.to_owned(),
            Self::ClientId => client_id.to_owned(),
            Self::Uri(u) => u.clone(),
        }
    }

    /// Reads `issuer`, `client_id` or an absolute URI without a fragment.
    pub fn parse(v: &str) -> Result<Self, String> {
        match v {
            "issuer" => Ok(Self::Issuer),
            "client_id" => Ok(Self::ClientId),
            uri => match reqwest::Url::parse(uri) {
                Ok(u) if u.fragment().is_none() && !uri.chars().any(char::is_whitespace) => {
                    Ok(Self::Uri(uri.to_owned()))
                }
                _ => Err(format!(
                    "tokens.default_audience {uri:?} is not issuer, client_id or an absolute URI without a fragment"
                )),
            },
        }
    }
}

impl Serialize for DefaultAudience {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(match self {
            Self::Issuer => "issuer",
            Self::ClientId => "client_id",
            Self::Uri(u) => u,
        })
    }
}

impl<'de> Deserialize<'de> for DefaultAudience {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = String::deserialize(d)?;
        Self::parse(&v).map_err(serde::de::Error::custom)
    }
}

impl Default for TokensConfig {
    fn default() -> Self {
        Self {
            default_lifetime_secs: 600,
            max_lifetime_secs: 86_400,
            default_format: TokenFormat::Jwt,
            signing_alg: Algorithm::ES256,
            default_audience: DefaultAudience::Issuer,
            max_jwt_bytes: 16 * 1024,
        }
    }
}

/// `[scopes]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScopesConfig {
    /// The names scopes may be created under: `service.object.right` (default) or `rfc6749` (any
    /// scope token of RFC 6749 §3.3, such as `read`).
    pub naming: ScopeNaming,
}

/// `[keys]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KeysConfig {
    /// Seconds a new key is published in the JWKS before it signs: at least the JWKS cache
    /// lifetime of every verifier. Default 300.
    #[serde(deserialize_with = "tessera_proto::duration::secs::deserialize")]
    pub publish_ahead_secs: u64,
    /// `Cache-Control: max-age` of the JWKS response. Default 300.
    #[serde(deserialize_with = "tessera_proto::duration::secs::deserialize")]
    pub jwks_max_age_secs: u64,
    /// Seconds between re-reads of the key table. Default 5.
    #[serde(deserialize_with = "tessera_proto::duration::secs::deserialize")]
    pub reload_interval_secs: u64,
    /// Seconds between automatic rotations of each signing key; 0 turns them off. Default
    /// 2592000 (30 days).
    #[serde(deserialize_with = "tessera_proto::duration::secs::deserialize")]
    pub rotation_period_secs: u64,
    /// Seconds between checks whether a rotation is due. Default 60.
    #[serde(deserialize_with = "tessera_proto::duration::secs::deserialize")]
    pub rotation_check_secs: u64,
}

impl Default for KeysConfig {
    fn default() -> Self {
        Self {
            publish_ahead_secs: 300,
            jwks_max_age_secs: 300,
            reload_interval_secs: 5,
            rotation_period_secs: 30 * 24 * 3600,
            rotation_check_secs: 60,
        }
    }
}

/// `[client_auth]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClientAuthConfig {
    /// The furthest ahead a client assertion's `exp` may be. Default 3600 (FAPI 2.0's limit, and
    /// the hour Python's Authlib signs its assertions for).
    #[serde(deserialize_with = "tessera_proto::duration::secs::deserialize")]
    pub assertion_max_lifetime_secs: u64,
    /// Clock skew allowed on assertion times. Default 30.
    #[serde(deserialize_with = "tessera_proto::duration::secs::deserialize")]
    pub clock_skew_secs: u64,
}

impl Default for ClientAuthConfig {
    fn default() -> Self {
        Self {
            assertion_max_lifetime_secs: 3600,
            clock_skew_secs: 30,
        }
    }
}

/// `[jwt_bearer]`: who may sign the assertions of the JWT bearer grant (RFC 7523 §2.1) beside
/// the client itself.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JwtBearerConfig {
    /// `[[jwt_bearer.issuers]]`: the trusted issuers.
    pub issuers: Vec<TrustedIssuer>,
}

/// One `[[jwt_bearer.issuers]]` entry: an issuer whose signed assertions a client may trade for
/// an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustedIssuer {
    /// The assertions' `iss`, compared as a plain string (RFC 7523 §3).
    pub issuer: String,
    /// Where the issuer publishes its JWK Set (fetched and cached). Exactly one of `jwks_uri`
    /// and `jwks_file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// A file holding the issuer's JWK Set, read at each use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_file: Option<PathBuf>,
    /// The signature algorithms accepted from this issuer. Default: every asymmetric one; HMAC
    /// algorithms (and `none`) are refused.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub algorithms: Vec<Algorithm>,
    /// The `aud` values accepted from this issuer. Default: this server's issuer identifier and
    /// its token endpoint URL.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audience: Vec<String>,
    /// When set, the assertions' `sub` must start with it, so that this issuer can speak only
    /// for its own subjects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_prefix: Option<String>,
    /// The registered client this issuer acts as: its assertions may then be traded without
    /// client authentication (RFC 7523 §3.1), for tokens of that client. Without it, the client
    /// trading an assertion must authenticate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

impl TrustedIssuer {
    /// The algorithms accepted from this issuer.
    pub fn accepted_algorithms(&self) -> Vec<Algorithm> {
        if self.algorithms.is_empty() {
            Algorithm::ALL
                .into_iter()
                .filter(|a| !a.is_hmac())
                .collect()
        } else {
            self.algorithms.clone()
        }
    }
}

impl JwtBearerConfig {
    /// The configured issuer whose identifier is `iss`.
    pub fn issuer(&self, iss: &str) -> Option<&TrustedIssuer> {
        self.issuers.iter().find(|i| i.issuer == iss)
    }

    fn validate(&self) -> Result<(), String> {
        let mut seen = BTreeSet::new();
        for (n, i) in self.issuers.iter().enumerate() {
            let at = format!("jwt_bearer.issuers[{n}]");
            if i.issuer.trim().is_empty() || i.issuer.chars().any(char::is_control) {
                return Err(format!(
                    "{at}.issuer must be the assertions' iss: not blank, no control characters"
                ));
            }
            if !seen.insert(i.issuer.as_str()) {
                return Err(format!(
                    "{at}: issuer {:?} is listed twice; list each issuer once",
                    i.issuer
                ));
            }
            match (&i.jwks_uri, &i.jwks_file) {
                (Some(uri), None) => {
                    crate::oauth::remote_jwks::check_uri(uri).map_err(|e| format!("{at}.{e}"))?;
                }
                (None, Some(file)) => {
                    let keys = read_jwks_file(file).map_err(|e| format!("{at}.jwks_file: {e}"))?;
                    if keys.is_empty() {
                        return Err(format!(
                            "{at}.jwks_file {} holds no usable public signing key (RSA, EC P-256/P-384 or Ed25519)",
                            file.display()
                        ));
                    }
                }
                _ => {
                    return Err(format!(
                        "{at} needs exactly one of jwks_uri and jwks_file, to say where the issuer's public keys are"
                    ));
                }
            }
            if let Some(hmac) = i.algorithms.iter().find(|a| a.is_hmac()) {
                return Err(format!(
                    "{at}.algorithms may not hold {hmac}: an HMAC needs a secret shared with the issuer; list asymmetric algorithms (RS256, PS256, ES256, EdDSA, …)"
                ));
            }
            if i.audience.iter().any(|a| a.trim().is_empty()) {
                return Err(format!("{at}.audience may not hold an empty value"));
            }
            if i.client_id
                .as_deref()
                .is_some_and(|c| c.trim().is_empty() || c.chars().any(char::is_control))
            {
                return Err(format!(
                    "{at}.client_id must name a registered client: not blank, no control characters"
                ));
            }
            if i.subject_prefix.as_deref().is_some_and(str::is_empty) {
                return Err(format!(
                    "{at}.subject_prefix may not be empty; leave it out to accept any subject"
                ));
            }
        }
        Ok(())
    }
}

/// The public signing keys of the JWK Set in `file`; keys that are not (an `oct` secret, another
/// use, an unsupported curve) are left out. The error says what is wrong with the file.
pub fn read_jwks_file(file: &Path) -> Result<Vec<tessera_jose::VerifyingKey>, String> {
    let bytes = std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    parse_jwks(&bytes).map_err(|e| format!("{} {e}", file.display()))
}

/// The public signing keys of a JWK Set document; keys of another kind (another use, an
/// unsupported curve) are left out. A private or symmetric key is an error: a trust file holds
/// only what may be published.
pub fn parse_jwks(bytes: &[u8]) -> Result<Vec<tessera_jose::VerifyingKey>, String> {
    let set: tessera_jose::JwkSet =
        serde_json::from_slice(bytes).map_err(|e| format!("is not a JWK Set: {e}"))?;
    if set.keys.iter().any(tessera_jose::Jwk::is_private) {
        return Err(
            "holds a private or symmetric key: keep only the issuer's public keys in it".into(),
        );
    }
    Ok(set
        .keys
        .iter()
        .filter_map(|k| tessera_jose::VerifyingKey::from_jwk(k).ok())
        .collect())
}

/// `[rate_limit]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Failed authentications allowed per (client id, source address) per minute (burst and
    /// refill). Default 10. Only the failing source is held back: a client is never refused to
    /// an address that has not been failing.
    pub failed_auth_per_client_and_address_per_minute: u32,
    /// Failed authentications allowed per source address per minute, whatever the client id
    /// (IPv6 per /64). Default 30.
    pub failed_auth_per_address_per_minute: u32,
    /// Failed authentications per client id per minute from all addresses together, past which
    /// an address failing on that client is blocked for a minute at its first failure. It never
    /// refuses an address that is not failing. Default 100; 0 turns it off.
    pub failed_auth_per_client_ceiling_per_minute: u32,
    /// `failed_auth_per_client_per_minute`, the former name of
    /// `failed_auth_per_client_and_address_per_minute`: still read, and when given it sets that.
    #[serde(
        default,
        rename = "failed_auth_per_client_per_minute",
        skip_serializing
    )]
    former_per_client: Option<u32>,
}

impl RateLimitConfig {
    /// Moves a value given under a former name to the setting's name.
    fn apply_former_names(&mut self) {
        if let Some(n) = self.former_per_client.take() {
            self.failed_auth_per_client_and_address_per_minute = n;
        }
    }
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            failed_auth_per_client_and_address_per_minute: 10,
            failed_auth_per_address_per_minute: 30,
            failed_auth_per_client_ceiling_per_minute: 100,
            former_per_client: None,
        }
    }
}

/// `[http]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// Largest request body accepted, in bytes. Default 65536.
    pub max_body_bytes: usize,
    /// Seconds a request may take before 503. Default 30.
    #[serde(deserialize_with = "tessera_proto::duration::secs::deserialize")]
    pub request_timeout_secs: u64,
    /// Seconds in-flight requests get to finish after SIGTERM/SIGINT. Default 30.
    #[serde(deserialize_with = "tessera_proto::duration::secs::deserialize")]
    pub shutdown_grace_secs: u64,
    /// Trust `X-Forwarded-For` for the client address (only behind a proxy you run). Default false.
    pub trust_forwarded_for: bool,
    /// Accepted (`per_core` or `shared`) so that existing files still load; no effect (see
    /// [`Threading`]).
    pub threading: Threading,
    /// Seconds a new connection has to start its first request (its TLS handshake and the
    /// HTTP/2 preface included), and an HTTP/1.1 request head to arrive after the connection
    /// opened or answered its previous request; the connection is closed then. Default 10.
    #[serde(deserialize_with = "tessera_proto::duration::secs::deserialize")]
    pub header_read_timeout_secs: u64,
    /// Seconds an HTTP/2 connection stays open with no request in flight before it is asked to
    /// close (`GOAWAY`). Default 60.
    #[serde(deserialize_with = "tessera_proto::duration::secs::deserialize")]
    pub idle_timeout_secs: u64,
    /// Seconds between the pings that check an HTTP/2 client is still there (one unanswered for
    /// 20 s closes the connection); 0 sends none. Default 30.
    #[serde(deserialize_with = "tessera_proto::duration::secs::deserialize")]
    pub http2_keep_alive_interval_secs: u64,
    /// Largest request head (request line and headers; HTTP/2 header list) in bytes; a bigger
    /// one gets 431 and its connection is closed. Default 32768.
    pub max_header_bytes: usize,
    /// Connections served at once; more are closed as soon as accepted. Default 4096.
    pub max_connections: usize,
    /// Other addresses of the OAuth endpoints (`"/auth/token" = "token"`), beside those of the
    /// compatibility profiles. Default none.
    pub path_aliases: crate::compat::PathAliases,
}

impl HttpConfig {
    /// The limits the listener serves connections under, counting them in `metrics`.
    pub fn serving(&self, metrics: tessera_serve::ConnectionMetrics) -> tessera_serve::Settings {
        tessera_serve::Settings {
            header_read_timeout: Duration::from_secs(self.header_read_timeout_secs),
            idle_timeout: Duration::from_secs(self.idle_timeout_secs),
            http2_keep_alive_interval: (self.http2_keep_alive_interval_secs > 0)
                .then(|| Duration::from_secs(self.http2_keep_alive_interval_secs)),
            max_header_bytes: self.max_header_bytes,
            max_connections: self.max_connections,
            metrics,
        }
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 64 * 1024,
            request_timeout_secs: 30,
            shutdown_grace_secs: 30,
            trust_forwarded_for: false,
            threading: Threading::PerCore,
            header_read_timeout_secs: 10,
            idle_timeout_secs: 60,
            http2_keep_alive_interval_secs: 30,
            max_header_bytes: 32 * 1024,
            max_connections: 4096,
            path_aliases: crate::compat::PathAliases::default(),
        }
    }
}

/// Log line format.
pub use tessera_log::Format as LogFormat;

/// `[log]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// `text` or `json`.
    pub format: LogFormat,
    /// A `tracing` filter such as `info` or `tessera_server=debug`. `RUST_LOG` wins when set.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Text,
            level: "info".into(),
        }
    }
}

/// `[admin]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdminConfig {
    /// Client id of the bootstrap admin client. Default `tessera-admin`.
    pub bootstrap_client_id: String,
    /// Where the bootstrap credential is written. Default `admin-credentials.json` in `data_dir`.
    pub credentials_file: Option<PathBuf>,
}

impl Default for AdminConfig {
    fn default() -> Self {
        Self {
            bootstrap_client_id: "tessera-admin".into(),
            credentials_file: None,
        }
    }
}

/// Why settings could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A value is malformed or of the wrong type; figment says where it came from. Not a
    /// `source`: the message already holds figment's text, and error reports that print the chain
    /// would say it twice.
    #[error("invalid configuration: {0}")]
    Invalid(Box<figment::Error>),
    /// A value is well-formed but not acceptable.
    #[error("invalid configuration: {0}")]
    Rejected(String),
}

/// One value given outside the file (a `TESSERA_…` variable, a command-line flag) as a figment
/// provider named after where it came from, so an error about it names the variable or the flag
/// rather than a place in this file.
struct Given {
    source: String,
    value: Serialized<String>,
}

impl figment::Provider for Given {
    fn metadata(&self) -> figment::Metadata {
        figment::Metadata::named(self.source.clone())
    }

    fn data(
        &self,
    ) -> Result<figment::value::Map<figment::Profile, figment::value::Dict>, figment::Error> {
        self.value.data()
    }
}

/// A setting given as a command-line flag (`tessera serve --listen 0.0.0.0:8443`): it wins over
/// the file and the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    /// The flag, as errors name it: `--listen`.
    pub flag: &'static str,
    /// The setting's dotted path: `listen`, `tls.certificate_file`.
    pub setting: &'static str,
    /// The value as typed.
    pub value: String,
}

impl From<Box<figment::Error>> for ConfigError {
    fn from(e: Box<figment::Error>) -> Self {
        Self::Invalid(e)
    }
}

impl Config {
    /// Loads defaults, then `file` (when given), then `TESSERA_…` variables from the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load_from(file, std::env::vars())
    }

    /// As [`Config::load`], then `flags` over all of it.
    pub fn load_with_flags(file: Option<&Path>, flags: &[Flag]) -> Result<Self, ConfigError> {
        Self::load_layers(file, std::env::vars(), flags)
    }

    /// As [`Config::load`], with the environment given (for tests).
    pub fn load_from(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        Self::load_layers(file, env, &[])
    }

    /// Defaults, then `file`, then the `TESSERA_…` variables of `env`, then `flags`.
    fn load_layers(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
        flags: &[Flag],
    ) -> Result<Self, ConfigError> {
        let known = known_paths();
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(f) = file {
            if !f.exists() {
                return Err(ConfigError::Rejected(format!(
                    "configuration file {} does not exist",
                    f.display()
                )));
            }
            fig = fig.merge(Toml::file_exact(f));
        }
        let vars: Vec<(String, String, String)> = env
            .into_iter()
            .filter_map(|(k, v)| {
                let rest = k.strip_prefix("TESSERA_")?;
                let path = env_key_to_path(&rest.to_ascii_lowercase(), &known)?;
                Some((k, path, v))
            })
            .collect();
        for (name, path, value) in vars {
            fig = fig.merge(Given {
                source: format!("environment variable {name}"),
                value: Serialized::global(&path, value),
            });
        }
        for f in flags {
            fig = fig.merge(Given {
                source: format!("command-line flag {}", f.flag),
                value: Serialized::global(f.setting, f.value.clone()),
            });
        }
        // Environment values are strings; lossy extraction reads one as a number or a boolean
        // only where the setting is one, so `TESSERA_DATA_DIR=2024` stays a path.
        let mut config: Config = fig.extract_lossy().map_err(Box::new)?;
        config.rate_limit.apply_former_names();
        config.users.apply_former_names();
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if let Some(iss) = &self.issuer {
            let ok = (iss.starts_with("https://") || iss.starts_with("http://"))
                && !iss.contains('?')
                && !iss.contains('#');
            if !ok {
                return Err(ConfigError::Rejected(format!(
                    "issuer {iss:?} must be an http(s) URL with no query or fragment (RFC 8414 §2)"
                )));
            }
        }
        if self.tokens.default_lifetime_secs == 0
            || self.tokens.default_lifetime_secs > self.tokens.max_lifetime_secs
        {
            return Err(ConfigError::Rejected(
                "tokens.default_lifetime_secs must be between 1 and tokens.max_lifetime_secs"
                    .into(),
            ));
        }
        if self.tokens.max_jwt_bytes < 1024 {
            return Err(ConfigError::Rejected(format!(
                "tokens.max_jwt_bytes ({}) must be at least 1024: ordinary tokens are larger",
                self.tokens.max_jwt_bytes
            )));
        }
        if !matches!(
            self.tokens.signing_alg,
            Algorithm::ES256 | Algorithm::RS256 | Algorithm::EdDSA
        ) {
            return Err(ConfigError::Rejected(
                "tokens.signing_alg must be ES256, RS256 or EdDSA".into(),
            ));
        }
        if self.keys.publish_ahead_secs < self.keys.jwks_max_age_secs {
            return Err(ConfigError::Rejected(format!(
                "keys.publish_ahead_secs ({}) must be at least keys.jwks_max_age_secs ({}): a new \
                 key must be published for one JWKS cache lifetime before it signs, or verifiers \
                 holding a cached JWKS refuse its tokens",
                self.keys.publish_ahead_secs, self.keys.jwks_max_age_secs
            )));
        }
        if self.http.header_read_timeout_secs == 0
            || self.http.idle_timeout_secs == 0
            || self.http.max_connections == 0
            || self.http.max_header_bytes < 1024
        {
            return Err(ConfigError::Rejected(
                "http.header_read_timeout_secs, http.idle_timeout_secs and http.max_connections \
                 must be at least 1, http.max_header_bytes at least 1024"
                    .into(),
            ));
        }
        crate::people_config::validate(
            &self.pages,
            &self.sessions,
            &self.authorize,
            &self.refresh_tokens,
            &self.device,
        )
        .map_err(ConfigError::Rejected)?;
        self.jwt_bearer.validate().map_err(ConfigError::Rejected)?;
        self.tls.validate().map_err(ConfigError::Rejected)?;
        crate::compat::aliases::resolve(&self.compat.profiles, &self.http.path_aliases)
            .map_err(ConfigError::Rejected)?;
        self.console.validate().map_err(ConfigError::Rejected)?;
        Ok(())
    }

    /// The issuer identifier, without a trailing slash.
    pub fn issuer(&self) -> String {
        match &self.issuer {
            Some(i) => i.trim_end_matches('/').to_owned(),
            None => format!("{}://{}", self.scheme(), self.listen),
        }
    }

    /// `https` when the server serves TLS itself (`[tls]`), else `http`.
    pub fn scheme(&self) -> &'static str {
        if self.tls.enabled() { "https" } else { "http" }
    }

    /// The database URL.
    pub fn database_url(&self) -> String {
        match &self.database.url {
            Some(u) => u.expose_secret().to_owned(),
            None => format!("sqlite://{}", self.data_dir.join("tessera.db").display()),
        }
    }

    /// The bootstrap credential file.
    pub fn credentials_file(&self) -> PathBuf {
        self.admin
            .credentials_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("admin-credentials.json"))
    }

    /// The master key file.
    pub fn master_key_file(&self) -> PathBuf {
        self.secrets
            .master_key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("master.key"))
    }
}

/// Every dotted path a setting can have, read off the defaults.
/// Writes a secret setting as absent: settings are written out only to list their names and
/// defaults, never a secret.
fn never_written<S: serde::Serializer>(_: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_none()
}

/// Former names of renamed settings, still read (see `apply_former_names`): listed so that
/// `TESSERA_…` variables spelled the old way keep working too.
const FORMER_NAMES: [&str; 2] = [
    "rate_limit.failed_auth_per_client_per_minute",
    "users.failed_logins_per_user_per_minute",
];

fn known_paths() -> BTreeSet<String> {
    fn walk(prefix: &str, v: &serde_json::Value, out: &mut BTreeSet<String>) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    let p = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    // An empty table (such as `http.path_aliases`) is a setting of its own.
                    if v.as_object().is_some_and(|m| !m.is_empty()) {
                        walk(&p, v, out);
                    } else {
                        out.insert(p);
                    }
                }
            }
            _ => {
                out.insert(prefix.to_owned());
            }
        }
    }
    let mut out = BTreeSet::new();
    if let Ok(v) = serde_json::to_value(Config::default()) {
        walk("", &v, &mut out);
    }
    out.extend(FORMER_NAMES.iter().map(|n| (*n).to_owned()));
    out
}

/// Maps `database_url` to `database.url` when that is a setting; unknown names map to nothing, so
/// that variables meant for the CLI (`TESSERA_URL`, …) are left alone.
fn env_key_to_path(key: &str, known: &BTreeSet<String>) -> Option<String> {
    if known.contains(key) {
        return Some(key.to_owned());
    }
    for (i, _) in key.match_indices('_') {
        let candidate = format!("{}.{}", &key[..i], &key[i + 1..]);
        if known.contains(&candidate) {
            return Some(candidate);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn defaults() {
        let c = Config::load_from(None, env(&[])).unwrap_or_default();
        assert_eq!(c.issuer(), "http://127.0.0.1:8080");
        assert_eq!(c.tokens.default_lifetime_secs, 600);
        assert!(c.database_url().starts_with("sqlite://"));
    }

    #[test]
    fn environment_overrides_file() {
        let dir = tempfile::tempdir().unwrap_or_else(|_| std::process::abort());
        let file = dir.path().join("t.toml");
        let _ = std::fs::write(
            &file,
            "issuer = \"https://file.example\"\n[tokens]\ndefault_lifetime_secs = 120\n",
        );
        let c = Config::load_from(
            Some(&file),
            env(&[
                ("TESSERA_TOKENS_DEFAULT_LIFETIME_SECS", "300"),
                ("TESSERA_DATABASE_URL", "postgres://x/y"),
                ("TESSERA_URL", "http://ignored-cli-variable"),
                ("TESSERA_DATA_DIR", "/tmp/x"),
            ]),
        )
        .unwrap_or_default();
        assert_eq!(c.issuer(), "https://file.example");
        assert_eq!(c.tokens.default_lifetime_secs, 300);
        assert_eq!(c.database_url(), "postgres://x/y");
        assert_eq!(c.data_dir, PathBuf::from("/tmp/x"));
    }

    #[test]
    fn former_names_of_the_failure_limits_still_load() {
        let dir = tempfile::tempdir().unwrap_or_else(|_| std::process::abort());
        let file = dir.path().join("t.toml");
        let _ = std::fs::write(
            &file,
            "[rate_limit]\nfailed_auth_per_client_per_minute = 7\n",
        );
        let c = Config::load_from(
            Some(&file),
            env(&[("TESSERA_USERS_FAILED_LOGINS_PER_USER_PER_MINUTE", "3")]),
        );
        assert!(c.is_ok(), "{:?}", c.as_ref().err().map(ToString::to_string));
        let c = c.unwrap_or_default();
        assert_eq!(
            c.rate_limit.failed_auth_per_client_and_address_per_minute,
            7
        );
        assert_eq!(c.users.failed_logins_per_user_and_address_per_minute, 3);
        let c = Config::load_from(
            None,
            env(&[(
                "TESSERA_RATE_LIMIT_FAILED_AUTH_PER_CLIENT_AND_ADDRESS_PER_MINUTE",
                "4",
            )]),
        );
        assert!(c.is_ok(), "{:?}", c.as_ref().err().map(ToString::to_string));
        let c = c.unwrap_or_default();
        assert_eq!(
            c.rate_limit.failed_auth_per_client_and_address_per_minute,
            4
        );
        assert_eq!(c.rate_limit.failed_auth_per_address_per_minute, 30);
        assert_eq!(c.users.failed_logins_per_user_and_address_per_minute, 5);
    }

    #[test]
    fn digit_only_values_of_string_settings_stay_strings() {
        let c = Config::load_from(
            None,
            env(&[
                ("TESSERA_ADMIN_BOOTSTRAP_CLIENT_ID", "1234"),
                ("TESSERA_DATA_DIR", "2024"),
                ("TESSERA_TOKENS_DEFAULT_LIFETIME_SECS", "300"),
                ("TESSERA_KEYS_PUBLISH_AHEAD_SECS", "900"),
                ("TESSERA_LOG_FORMAT", "json"),
            ]),
        );
        assert!(c.is_ok(), "digit-only strings must load: {:?}", c.err());
        let c = c.unwrap_or_default();
        assert_eq!(c.admin.bootstrap_client_id, "1234");
        assert_eq!(c.data_dir, PathBuf::from("2024"));
        // Numeric settings still read numbers.
        assert_eq!(c.tokens.default_lifetime_secs, 300);
        assert_eq!(c.keys.publish_ahead_secs, 900);
        // And boolean settings booleans.
        let c = Config::load_from(None, env(&[("TESSERA_HTTP_TRUST_FORWARDED_FOR", "true")]));
        assert!(c.is_ok_and(|c| c.http.trust_forwarded_for));
        // The threading setting (no effect) still loads by name; per core unless set, and
        // nothing else accepted.
        assert_eq!(Config::default().http.threading, Threading::PerCore);
        let c = Config::load_from(None, env(&[("TESSERA_HTTP_THREADING", "shared")]));
        assert!(c.is_ok_and(|c| c.http.threading == Threading::Shared));
        assert!(Config::load_from(None, env(&[("TESSERA_HTTP_THREADING", "many")])).is_err());
        // A number setting given something else is still refused.
        assert!(
            Config::load_from(
                None,
                env(&[("TESSERA_TOKENS_DEFAULT_LIFETIME_SECS", "ten")])
            )
            .is_err()
        );
    }

    #[test]
    fn durations_are_seconds_or_the_duration_grammar() {
        let dir = tempfile::tempdir().unwrap_or_else(|_| std::process::abort());
        let file = dir.path().join("t.toml");
        let _ = std::fs::write(
            &file,
            "[tokens]\ndefault_lifetime_secs = \"5m\"\nmax_lifetime_secs = \"1h 30m\"\n\
             [keys]\nrotation_period_secs = \"30days\"\n[http]\nrequest_timeout_secs = 45\n\
             [sessions]\nlifetime_secs = \"8h\"\n",
        );
        let c = Config::load_from(
            Some(&file),
            env(&[("TESSERA_REFRESH_TOKENS_IDLE_LIFETIME_SECS", "7d")]),
        );
        assert!(c.is_ok(), "{:?}", c.err());
        let c = c.unwrap_or_default();
        assert_eq!(c.tokens.default_lifetime_secs, 300);
        assert_eq!(c.tokens.max_lifetime_secs, 5400);
        assert_eq!(c.keys.rotation_period_secs, 30 * 86_400);
        assert_eq!(c.http.request_timeout_secs, 45);
        assert_eq!(c.sessions.lifetime_secs, 8 * 3600);
        assert_eq!(c.refresh_tokens.idle_lifetime_secs, 7 * 86_400);
        // A bad one is refused with the setting's name and the grammar.
        let _ = std::fs::write(&file, "[database]\ntimeout_secs = \"5x\"\n");
        let e = Config::load_from(Some(&file), env(&[]))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.contains("timeout_secs")
                && e.contains("\"5x\" is not a duration")
                && e.contains("90s"),
            "{e}"
        );
        let e = Config::load_from(None, env(&[("TESSERA_DEVICE_INTERVAL_SECS", "1500ms")]))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.contains("TESSERA_DEVICE_INTERVAL_SECS") && e.contains("whole number of seconds"),
            "{e}"
        );
    }

    #[test]
    fn keys_must_be_published_for_a_jwks_cache_lifetime_before_they_sign() {
        let refused = Config::load_from(
            None,
            env(&[
                ("TESSERA_KEYS_PUBLISH_AHEAD_SECS", "60"),
                ("TESSERA_KEYS_JWKS_MAX_AGE_SECS", "300"),
            ]),
        );
        let e = refused.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            e.contains("keys.publish_ahead_secs") && e.contains("keys.jwks_max_age_secs"),
            "{e}"
        );
        // Equal is enough, and so is the default.
        assert!(
            Config::load_from(
                None,
                env(&[
                    ("TESSERA_KEYS_PUBLISH_AHEAD_SECS", "300"),
                    ("TESSERA_KEYS_JWKS_MAX_AGE_SECS", "300"),
                ]),
            )
            .is_ok()
        );
        assert!(Config::load_from(None, env(&[])).is_ok());
        let dir = tempfile::tempdir().unwrap_or_else(|_| std::process::abort());
        let file = dir.path().join("t.toml");
        let _ = std::fs::write(&file, "[keys]\njwks_max_age_secs = 3600\n");
        assert!(Config::load_from(Some(&file), env(&[])).is_err());
    }

    #[test]
    fn bad_values_are_refused() {
        assert!(Config::load_from(None, env(&[("TESSERA_ISSUER", "ftp://x")])).is_err());
        let refused = Config::load_from(None, env(&[("TESSERA_LISTEN", "nonsense")]));
        // The message names the variable, once, and nothing prints it again as a cause.
        let text = refused
            .as_ref()
            .err()
            .map(ToString::to_string)
            .unwrap_or_default();
        assert!(
            text.contains("environment variable TESSERA_LISTEN"),
            "{text}"
        );
        assert_eq!(text.matches("invalid socket address").count(), 1, "{text}");
        assert!(
            refused
                .as_ref()
                .err()
                .and_then(std::error::Error::source)
                .is_none()
        );
        let dir = tempfile::tempdir().unwrap_or_else(|_| std::process::abort());
        let file = dir.path().join("t.toml");
        let _ = std::fs::write(&file, "[tokens]\nno_such_setting = 1\n");
        assert!(Config::load_from(Some(&file), env(&[])).is_err());
    }

    #[test]
    fn jwt_bearer_issuers_load_and_bad_ones_are_refused() {
        let dir = tempfile::tempdir().unwrap_or_else(|_| std::process::abort());
        let key = tessera_jose::SigningKey::generate(Algorithm::ES256)
            .unwrap_or_else(|_| std::process::abort());
        let public = serde_json::json!({ "keys": [key.public_jwk()] }).to_string();
        let jwks = dir.path().join("idp.json");
        let _ = std::fs::write(&jwks, &public);
        let with = |body: &str| {
            let file = dir.path().join("t.toml");
            let _ = std::fs::write(&file, body);
            Config::load_from(Some(&file), env(&[])).map_err(|e| e.to_string())
        };
        let jwks_path = jwks.display().to_string().replace('\\', "/");
        let good = with(&format!(
            "[[jwt_bearer.issuers]]\nissuer = \"https://idp.example\"\njwks_file = \"{jwks_path}\"\n\
             algorithms = [\"ES256\", \"RS256\"]\naudience = [\"https://auth.example\"]\n\
             subject_prefix = \"idp:\"\n\n\
             [[jwt_bearer.issuers]]\nissuer = \"https://other.example\"\njwks_uri = \"https://other.example/jwks\"\n"
        ));
        assert!(good.is_ok(), "{good:?}");
        let good = good.unwrap_or_default();
        assert_eq!(good.jwt_bearer.issuers.len(), 2);
        let first = good.jwt_bearer.issuer("https://idp.example");
        assert_eq!(
            first.map(TrustedIssuer::accepted_algorithms),
            Some(vec![Algorithm::ES256, Algorithm::RS256])
        );
        // Without a list, every asymmetric algorithm and no HMAC one.
        let all = good
            .jwt_bearer
            .issuer("https://other.example")
            .map(TrustedIssuer::accepted_algorithms)
            .unwrap_or_default();
        assert!(all.contains(&Algorithm::EdDSA) && !all.iter().any(|a| a.is_hmac()));
        assert!(Config::load_from(None, env(&[])).is_ok_and(|c| c.jwt_bearer.issuers.is_empty()));

        let uri = "jwks_uri = \"https://idp.example/jwks\"";
        let refused = [
            (
                "issuer = \"https://idp.example\"".to_owned(),
                "exactly one of jwks_uri and jwks_file",
            ),
            (
                format!("issuer = \"https://idp.example\"\n{uri}\njwks_file = \"{jwks_path}\""),
                "exactly one of jwks_uri and jwks_file",
            ),
            (format!("issuer = \" \"\n{uri}"), "issuer must be"),
            (
                format!("issuer = \"https://idp.example\"\n{uri}\nalgorithms = [\"HS256\"]"),
                "may not hold HS256",
            ),
            (
                format!("issuer = \"https://idp.example\"\n{uri}\nalgorithms = [\"none\"]"),
                "none",
            ),
            (
                "issuer = \"https://idp.example\"\njwks_uri = \"http://idp.example/jwks\""
                    .to_owned(),
                "must use https",
            ),
            (
                "issuer = \"https://idp.example\"\njwks_file = \"/no/such/file.json\"".to_owned(),
                "cannot read",
            ),
            (
                format!("issuer = \"https://idp.example\"\n{uri}\nsubject_prefix = \"\""),
                "subject_prefix",
            ),
            (
                format!("issuer = \"https://idp.example\"\n{uri}\naudience = [\"\"]"),
                "audience",
            ),
            (
                format!("issuer = \"https://idp.example\"\n{uri}\nclient_id = \" \""),
                "client_id must name a registered client",
            ),
            (
                format!("issuer = \"https://idp.example\"\n{uri}\nmagic = 1"),
                "magic",
            ),
        ];
        for (entry, needle) in refused {
            let e = with(&format!("[[jwt_bearer.issuers]]\n{entry}\n"))
                .err()
                .unwrap_or_default();
            assert!(e.contains(needle), "{entry}: {e}");
        }
        // Listed twice.
        let e = with(&format!(
            "[[jwt_bearer.issuers]]\nissuer = \"a\"\n{uri}\n[[jwt_bearer.issuers]]\nissuer = \"a\"\n{uri}\n"
        ))
        .err()
        .unwrap_or_default();
        assert!(e.contains("twice"), "{e}");
        // A trust file holding a private key is refused, and so is one with no usable key.
        let private = dir.path().join("private.json");
        let _ = std::fs::write(
            &private,
            serde_json::json!({ "keys": [{"kty": "oct", "k": "c2VjcmV0"}] }).to_string(),
        );
        let empty = dir.path().join("empty.json");
        let _ = std::fs::write(&empty, "{\"keys\": []}");
        for (file, needle) in [(&private, "private or symmetric"), (&empty, "no usable")] {
            let e = with(&format!(
                "[[jwt_bearer.issuers]]\nissuer = \"a\"\njwks_file = \"{}\"\n",
                file.display()
            ))
            .err()
            .unwrap_or_default();
            assert!(e.contains(needle), "{e}");
        }
    }

    #[test]
    fn flags_win_over_the_environment_and_the_file_and_errors_name_them() {
        let dir = tempfile::tempdir().unwrap_or_else(|_| std::process::abort());
        let file = dir.path().join("t.toml");
        let _ = std::fs::write(
            &file,
            "listen = \"127.0.0.1:1000\"\nissuer = \"https://file.example\"\ndata_dir = \"/file\"\n",
        );
        let flag = |flag, setting, value: &str| Flag {
            flag,
            setting,
            value: value.to_owned(),
        };
        let c = Config::load_layers(
            Some(&file),
            env(&[
                ("TESSERA_LISTEN", "127.0.0.1:2000"),
                ("TESSERA_DATA_DIR", "/env"),
            ]),
            &[
                flag("--listen", "listen", "0.0.0.0:3000"),
                flag("--issuer", "issuer", "https://flag.example"),
                flag("--tls-cert", "tls.certificate_file", "/c.pem"),
                flag("--tls-key", "tls.private_key_file", "/k.pem"),
            ],
        );
        assert!(c.is_ok(), "{:?}", c.err());
        let c = c.unwrap_or_default();
        assert_eq!(c.listen, SocketAddr::from(([0, 0, 0, 0], 3000)));
        assert_eq!(c.issuer(), "https://flag.example");
        // Not given as a flag: the environment's.
        assert_eq!(c.data_dir, PathBuf::from("/env"));
        assert_eq!(c.tls.certificate_file, Some(PathBuf::from("/c.pem")));
        assert_eq!(c.scheme(), "https");
        let e = Config::load_layers(None, env(&[]), &[flag("--listen", "listen", "nonsense")])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("command-line flag --listen"), "{e}");
        let e = Config::load_layers(None, env(&[]), &[flag("--issuer", "issuer", "ftp://x")])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("ftp://x"), "{e}");
    }

    #[test]
    fn tls_needs_both_files_and_makes_the_default_issuer_https() {
        let e = Config::load_from(None, env(&[("TESSERA_TLS_CERTIFICATE_FILE", "/c.pem")]))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.contains("tls.private_key_file") && e.contains("--tls-key"),
            "{e}"
        );
        let e = Config::load_from(None, env(&[("TESSERA_TLS_PRIVATE_KEY_FILE", "/k.pem")]))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("tls.certificate_file"), "{e}");
        let c = Config::load_from(
            None,
            env(&[
                ("TESSERA_TLS_CERTIFICATE_FILE", "/c.pem"),
                ("TESSERA_TLS_PRIVATE_KEY_FILE", "/k.pem"),
            ]),
        )
        .unwrap_or_default();
        assert_eq!(c.issuer(), "https://127.0.0.1:8080");
        assert_eq!(Config::default().issuer(), "http://127.0.0.1:8080");
    }
}
