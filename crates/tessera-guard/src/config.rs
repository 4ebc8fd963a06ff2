//! How a guard is set up: whose tokens it trusts (RFC 8414 / OpenID Connect Discovery issuer or a
//! JWKS URL), for which audiences (RFC 9068 §4), with which algorithms, leeway and `typ`, and how
//! opaque tokens are introspected (RFC 7662).

use crate::clock::Clock;
use crate::error::ConfigError;
use secrecy::SecretString;
use std::fmt;
use std::time::Duration;
use tessera_jose::{Algorithm, JwkSet};
use tessera_proto::jwt::ACCESS_TOKEN_TYP;

/// The asymmetric algorithms accepted by default (RFC 7518 §3.1, RFC 8037 §3.1). HMAC is never
/// accepted: a guard holds only public keys, and `none` is not an [`Algorithm`] at all.
pub const DEFAULT_ALGORITHMS: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// The default clock leeway for `exp`, `nbf` and `iat` (RFC 7519 §4.1.4: "some small leeway").
///
/// 30 seconds: servers on NTP are within a second of each other, so this covers badly kept clocks
/// (VMs resumed from suspend) while keeping the extra life of an expired token short.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);

/// The longest token looked at unless [`GuardConfig::max_token_len`] says otherwise: 16 KiB, the
/// default of Tessera's `tokens.max_jwt_bytes` too.
pub const DEFAULT_MAX_TOKEN_LEN: usize = 16 * 1024;

/// The smallest [`GuardConfig::max_token_len`] accepted: below it, ordinary signed tokens would
/// be refused.
pub const MIN_MAX_TOKEN_LEN: usize = 1024;

/// Where the guard finds the keys that sign access tokens.
#[derive(Clone)]
pub enum KeySource {
    /// Fetch the issuer's metadata (OpenID Connect Discovery §4, then RFC 8414 §3) and use its
    /// `jwks_uri` (and `introspection_endpoint` when introspection is on).
    Discovery,
    /// Fetch this JWKS URL (RFC 7517 §5) directly.
    JwksUri(String),
    /// Use these keys and never fetch any (pinned keys, benchmarks, air-gapped deployments).
    Static(JwkSet),
}

impl fmt::Debug for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Discovery => f.write_str("Discovery"),
            Self::JwksUri(u) => f.debug_tuple("JwksUri").field(u).finish(),
            Self::Static(set) => f.debug_tuple("Static").field(&set.keys.len()).finish(),
        }
    }
}

/// Which JWS `typ` header values (RFC 7515 §4.1.9) an access token may carry.
///
/// Values compare case-insensitively and with or without the `application/` prefix, as
/// RFC 7515 §4.1.9 says media types do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypPolicy {
    /// Only `at+jwt` (RFC 9068 §2.1, §4): the default, and what Tessera and `oidc-provider` send.
    AccessToken,
    /// `at+jwt`, `JWT`, or no `typ` at all: for servers that predate RFC 9068. This accepts other
    /// JWTs (such as ID tokens) signed by the same keys if their `aud` matches, so prefer
    /// [`TypPolicy::AccessToken`] where the server allows it.
    AccessTokenOrJwt,
    /// Exactly these values, and a missing `typ` only when `allow_absent` is true.
    OneOf {
        /// Accepted values (without `application/`).
        values: Vec<String>,
        /// Whether a token without `typ` is accepted.
        allow_absent: bool,
    },
}

impl TypPolicy {
    /// Whether a header `typ` is accepted.
    pub fn accepts(&self, typ: Option<&str>) -> bool {
        let Some(typ) = typ else {
            return match self {
                Self::AccessToken => false,
                Self::AccessTokenOrJwt => true,
                Self::OneOf { allow_absent, .. } => *allow_absent,
            };
        };
        let bare = strip_application(typ);
        match self {
            Self::AccessToken => bare.eq_ignore_ascii_case(ACCESS_TOKEN_TYP),
            Self::AccessTokenOrJwt => {
                bare.eq_ignore_ascii_case(ACCESS_TOKEN_TYP) || bare.eq_ignore_ascii_case("JWT")
            }
            Self::OneOf { values, .. } => values
                .iter()
                .any(|v| strip_application(v).eq_ignore_ascii_case(bare)),
        }
    }
}

fn strip_application(typ: &str) -> &str {
    match typ.get(..12) {
        Some(p) if p.eq_ignore_ascii_case("application/") => &typ[12..],
        _ => typ,
    }
}

/// Token introspection (RFC 7662) for tokens that are not a JWS, with the guard's own client
/// credentials sent as `client_secret_basic` (RFC 6749 §2.3.1).
#[derive(Debug, Clone)]
pub struct IntrospectionConfig {
    pub(crate) client_id: String,
    /// The guard's client secret (RFC 6749 §2.3.1): `Debug` never shows it.
    pub(crate) client_secret: SecretString,
    pub(crate) endpoint: Option<String>,
    pub(crate) max_cache: Duration,
    pub(crate) inactive_cache: Duration,
    pub(crate) max_concurrency: usize,
    pub(crate) require_audience: bool,
}

impl IntrospectionConfig {
    /// Introspection with these credentials at the endpoint named by discovery.
    ///
    /// Defaults: an active answer is cached until the token's `exp` but at most 30 s (so a revoked
    /// token is refused within 30 s); an inactive answer 5 s; at most 32 introspection calls at once;
    /// an `aud` in the answer must name an accepted audience, a missing one is accepted.
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: SecretString::from(client_secret.into()),
            endpoint: None,
            max_cache: Duration::from_secs(30),
            inactive_cache: Duration::from_secs(5),
            max_concurrency: 32,
            require_audience: false,
        }
    }

    /// The introspection endpoint, instead of discovery's `introspection_endpoint`.
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = Some(url.into());
        self
    }

    /// The longest an active answer is reused (it is never reused past the token's `exp`).
    pub fn max_cache(mut self, d: Duration) -> Self {
        self.max_cache = d;
        self
    }

    /// How long an inactive answer is reused (0 disables it).
    pub fn inactive_cache(mut self, d: Duration) -> Self {
        self.inactive_cache = d;
        self
    }

    /// How many introspection calls may be in flight at once; more wait their turn.
    pub fn max_concurrency(mut self, n: usize) -> Self {
        self.max_concurrency = n;
        self
    }

    /// Refuse active answers that carry no `aud` (RFC 7662 §2.2 makes `aud` optional).
    pub fn require_audience(mut self, yes: bool) -> Self {
        self.require_audience = yes;
        self
    }
}

/// How the JWKS is kept fresh (RFC 7517 §5 sets; refresh rules are the guard's own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JwksPolicy {
    /// At most one refetch for an unknown `kid` per this interval (concurrent misses share one
    /// fetch). Default 10 s.
    pub refetch_cooldown: Duration,
    /// The shortest periodic refresh, whatever `Cache-Control: max-age` says. Default 60 s.
    pub min_refresh: Duration,
    /// The longest periodic refresh, whatever `Cache-Control: max-age` says. Default 1 h.
    pub max_refresh: Duration,
    /// The periodic refresh when the response has no `max-age`. Default 5 min.
    pub default_refresh: Duration,
}

impl Default for JwksPolicy {
    fn default() -> Self {
        Self {
            refetch_cooldown: Duration::from_secs(10),
            min_refresh: Duration::from_secs(60),
            max_refresh: Duration::from_secs(3600),
            default_refresh: Duration::from_secs(300),
        }
    }
}

/// Everything a [`Guard`](crate::Guard) needs. Build it with [`GuardConfig::new`] and the
/// chained setters; [`Guard::start`](crate::Guard::start) checks it.
#[derive(Debug, Clone)]
pub struct GuardConfig {
    pub(crate) issuer: String,
    pub(crate) keys: KeySource,
    pub(crate) audiences: Vec<String>,
    pub(crate) algorithms: Vec<Algorithm>,
    pub(crate) leeway: Duration,
    pub(crate) typ: TypPolicy,
    pub(crate) realm: Option<String>,
    pub(crate) jwks: JwksPolicy,
    pub(crate) introspection: Option<IntrospectionConfig>,
    pub(crate) cache_capacity: usize,
    pub(crate) http_timeout: Duration,
    pub(crate) allow_insecure_http: bool,
    pub(crate) clock: Clock,
    pub(crate) check_query: bool,
    pub(crate) check_form_body: bool,
    pub(crate) max_form_body: usize,
    pub(crate) max_token_len: usize,
}

impl GuardConfig {
    /// A guard for tokens of `issuer` (compared exactly with `iss`, RFC 9068 §4), with keys found
    /// by discovery. Add at least one audience with [`GuardConfig::audience`].
    pub fn new(issuer: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            keys: KeySource::Discovery,
            audiences: Vec::new(),
            algorithms: DEFAULT_ALGORITHMS.to_vec(),
            leeway: DEFAULT_LEEWAY,
            typ: TypPolicy::AccessToken,
            realm: None,
            jwks: JwksPolicy::default(),
            introspection: None,
            cache_capacity: 10_000,
            http_timeout: Duration::from_secs(5),
            allow_insecure_http: false,
            clock: Clock::System,
            check_query: true,
            check_form_body: true,
            max_form_body: 64 * 1024,
            max_token_len: DEFAULT_MAX_TOKEN_LEN,
        }
    }

    /// Fetches keys from this JWKS URL instead of discovering it. The issuer is still checked.
    pub fn jwks_uri(mut self, url: impl Into<String>) -> Self {
        self.keys = KeySource::JwksUri(url.into());
        self
    }

    /// Uses these keys and never fetches any.
    pub fn static_jwks(mut self, set: JwkSet) -> Self {
        self.keys = KeySource::Static(set);
        self
    }

    /// Adds an accepted audience: a token must name at least one in `aud` (RFC 9068 §4, RFC 8707).
    pub fn audience(mut self, aud: impl Into<String>) -> Self {
        self.audiences.push(aud.into());
        self
    }

    /// Replaces the algorithm allow-list (RFC 8725 §3.1). HMAC algorithms are refused by
    /// [`Guard::start`](crate::Guard::start).
    pub fn algorithms(mut self, algs: &[Algorithm]) -> Self {
        self.algorithms = algs.to_vec();
        self
    }

    /// The clock leeway for `exp`, `nbf` and `iat` (default [`DEFAULT_LEEWAY`], at most 5 min).
    pub fn leeway(mut self, d: Duration) -> Self {
        self.leeway = d;
        self
    }

    /// Which `typ` values are accepted (default [`TypPolicy::AccessToken`]).
    pub fn typ(mut self, policy: TypPolicy) -> Self {
        self.typ = policy;
        self
    }

    /// The `realm` of the `WWW-Authenticate` challenge (RFC 6750 §3); default the first audience.
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.realm = Some(realm.into());
        self
    }

    /// How the JWKS is refetched and refreshed.
    pub fn jwks_policy(mut self, policy: JwksPolicy) -> Self {
        self.jwks = policy;
        self
    }

    /// Verifies tokens that are not a JWS by introspection (RFC 7662).
    pub fn introspection(mut self, cfg: IntrospectionConfig) -> Self {
        self.introspection = Some(cfg);
        self
    }

    /// How many verified tokens are remembered (default 10 000; 0 turns the cache off).
    pub fn cache_capacity(mut self, n: usize) -> Self {
        self.cache_capacity = n;
        self
    }

    /// The timeout of each discovery, JWKS and introspection call (default 5 s).
    pub fn http_timeout(mut self, d: Duration) -> Self {
        self.http_timeout = d;
        self
    }

    /// Allows `http://` URLs to hosts other than loopback (never do this in production:
    /// RFC 8414 §2 wants `https`). Loopback `http` is always allowed, for tests.
    pub fn allow_insecure_http(mut self, yes: bool) -> Self {
        self.allow_insecure_http = yes;
        self
    }

    /// The clock for token times (default [`Clock::System`]).
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Whether the layer refuses an `access_token` query parameter (RFC 6750 §2.3, which RFC 9700
    /// §2.4.1 forbids): default on. Turn off only for routes that take such a parameter as data.
    pub fn check_query(mut self, yes: bool) -> Self {
        self.check_query = yes;
        self
    }

    /// Whether the layer reads `application/x-www-form-urlencoded` bodies (RFC 6750 §2.2) to
    /// refuse an `access_token` field: default on. Bodies with a `Content-Length` of at most
    /// 64 KiB, or with none (chunked, HTTP/2), are read and handed on whole; one without a length
    /// that runs past 64 KiB is refused `invalid_request` (RFC 6750 §3.1 has no other code for
    /// it); one announced longer than 64 KiB is handed on unread.
    pub fn check_form_body(mut self, yes: bool) -> Self {
        self.check_form_body = yes;
        self
    }

    /// The longest token looked at, in bytes (default [`DEFAULT_MAX_TOKEN_LEN`], at least
    /// [`MIN_MAX_TOKEN_LEN`]); longer ones are refused unread. Raise it together with the
    /// issuer's limit (Tessera: `tokens.max_jwt_bytes`) for clients with many scopes or claims.
    pub fn max_token_len(mut self, n: usize) -> Self {
        self.max_token_len = n;
        self
    }

    /// Checks the configuration (the rules are in [`ConfigError`]).
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if self.issuer.is_empty() {
            return Err(ConfigError::EmptyIssuer);
        }
        self.check_url("issuer", &self.issuer)?;
        if let KeySource::JwksUri(u) = &self.keys {
            self.check_url("jwks_uri", u)?;
        }
        if let Some(i) = &self.introspection {
            if let Some(e) = &i.endpoint {
                self.check_url("introspection endpoint", e)?;
            }
            if i.client_id.is_empty() {
                return Err(ConfigError::EmptyClientId);
            }
            if i.max_concurrency == 0 {
                return Err(ConfigError::Invalid(
                    "introspection max_concurrency must be at least 1".into(),
                ));
            }
        }
        if self.audiences.is_empty() || self.audiences.iter().any(String::is_empty) {
            return Err(ConfigError::NoAudience);
        }
        if self.algorithms.is_empty() {
            return Err(ConfigError::NoAlgorithm);
        }
        if let Some(a) = self.algorithms.iter().find(|a| a.is_hmac()) {
            return Err(ConfigError::HmacAlgorithm(a.as_str()));
        }
        if self.max_token_len < MIN_MAX_TOKEN_LEN {
            return Err(ConfigError::Invalid(format!(
                "max_token_len {} is below {MIN_MAX_TOKEN_LEN} bytes: ordinary tokens would be refused",
                self.max_token_len
            )));
        }
        if self.leeway > Duration::from_secs(300) {
            return Err(ConfigError::Invalid(
                "leeway above 5 minutes keeps expired tokens alive too long".into(),
            ));
        }
        let p = &self.jwks;
        if p.min_refresh.is_zero() || p.min_refresh > p.max_refresh {
            return Err(ConfigError::Invalid(
                "JWKS refresh bounds need 0 < min_refresh <= max_refresh".into(),
            ));
        }
        Ok(())
    }

    fn check_url(&self, what: &'static str, url: &str) -> Result<(), ConfigError> {
        let parsed = reqwest::Url::parse(url).map_err(|e| ConfigError::BadUrl {
            what,
            reason: e.to_string(),
        })?;
        match parsed.scheme() {
            "https" => Ok(()),
            "http" if self.allow_insecure_http || is_loopback(&parsed) => Ok(()),
            "http" => Err(ConfigError::InsecureUrl(what)),
            other => Err(ConfigError::BadUrl {
                what,
                reason: format!("scheme {other:?} is not http(s)"),
            }),
        }
    }
}

fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn typ_policies() {
        let at = TypPolicy::AccessToken;
        assert!(at.accepts(Some("at+jwt")));
        assert!(at.accepts(Some("application/AT+JWT")));
        assert!(!at.accepts(Some("JWT")));
        assert!(!at.accepts(None));
        let lax = TypPolicy::AccessTokenOrJwt;
        assert!(lax.accepts(Some("jwt")));
        assert!(lax.accepts(None));
        assert!(!lax.accepts(Some("secevent+jwt")));
        let one = TypPolicy::OneOf {
            values: vec!["application/custom+jwt".into()],
            allow_absent: false,
        };
        assert!(one.accepts(Some("custom+jwt")));
        assert!(!one.accepts(None));
        assert!(!one.accepts(Some("application/")));
    }

    #[test]
    fn validation() {
        let ok = GuardConfig::new("https://as.example").audience("api");
        assert!(ok.validate().is_ok());
        assert_eq!(
            GuardConfig::new("https://as.example").validate(),
            Err(ConfigError::NoAudience)
        );
        assert_eq!(
            ok.clone().algorithms(&[Algorithm::HS256]).validate(),
            Err(ConfigError::HmacAlgorithm("HS256"))
        );
        assert_eq!(
            GuardConfig::new("http://as.example")
                .audience("a")
                .validate(),
            Err(ConfigError::InsecureUrl("issuer"))
        );
        assert!(
            GuardConfig::new("http://127.0.0.1:9")
                .audience("a")
                .validate()
                .is_ok()
        );
        assert!(
            GuardConfig::new("http://[::1]:9")
                .audience("a")
                .validate()
                .is_ok()
        );
        assert!(
            GuardConfig::new("http://as.example")
                .audience("a")
                .allow_insecure_http(true)
                .validate()
                .is_ok()
        );
        assert!(ok.clone().max_token_len(64 * 1024).validate().is_ok());
        assert!(matches!(
            ok.clone().max_token_len(100).validate(),
            Err(ConfigError::Invalid(m)) if m.contains("max_token_len")
        ));
    }
}
