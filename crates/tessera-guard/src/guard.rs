//! The guard: verifies bearer access tokens for one issuer and set of audiences, and makes the
//! layers that protect routes (RFC 6750, RFC 9068, RFC 7662).

use crate::bearer;
use crate::cache::{Cached, TokenCache, TokenHash};
use crate::challenge::{Rejection, RejectionKind};
use crate::clock::Clock;
use crate::config::{GuardConfig, KeySource};
use crate::discovery::Discovery;
use crate::error::{ConfigError, StartError, TokenError, UnavailableError, VerifyError};
use crate::fetch;
use crate::introspection::{Endpoint, Introspector, Verdict};
use crate::jwks::{JwksCache, Source};
use crate::layer::GuardLayer;
use crate::token::VerifiedToken;
use crate::verify::JwtPolicy;
use std::sync::Arc;
use std::time::Duration;
use tessera_jose::UnverifiedJws;
use tessera_proto::ScopeSet;

struct Inner {
    policy: JwtPolicy,
    keys: Arc<JwksCache>,
    introspector: Option<Introspector>,
    cache: Arc<TokenCache>,
    clock: Clock,
    realm: Arc<str>,
    max_token_len: usize,
    check_query: bool,
    check_form_body: bool,
    max_form_body: usize,
    refresh_task: parking_lot::Mutex<Option<tokio::task::AbortHandle>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(task) = self.refresh_task.get_mut().take() {
            task.abort();
        }
    }
}

/// Verifies bearer access tokens: JWTs (RFC 9068) against the issuer's JWKS, anything else by
/// introspection (RFC 7662) when configured. Cheap to clone; clones share keys and caches.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use axum::{Router, routing::get};
/// use tessera_guard::{Guard, GuardConfig, VerifiedToken};
///
/// let guard = Guard::connect(
///     GuardConfig::new("https://auth.example.com").audience("https://api.example.com"),
/// )
/// .await?;
/// let app: Router = Router::new()
///     .route("/invoices", get(|t: VerifiedToken| async move { format!("hello {:?}", t.client_id()) }))
///     .route_layer(guard.require(&["core.accounting.read"]));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Guard {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard")
            .field("issuer", &self.inner.policy.issuer)
            .field("audiences", &self.inner.policy.audiences)
            .finish_non_exhaustive()
    }
}

impl Guard {
    /// Checks `config` and starts the guard without waiting for the network: discovery and the
    /// JWKS are fetched in the background and on first need, and requests answer 503 until keys
    /// are known. Must run inside a Tokio runtime (the periodic JWKS refresh is a task).
    pub fn start(config: GuardConfig) -> Result<Self, ConfigError> {
        let guard = Self::build(config)?;
        guard.spawn_refresh(Duration::ZERO)?;
        Ok(guard)
    }

    /// Checks `config`, fetches discovery and the JWKS now, and fails if either fails (use it to
    /// find a wrong issuer or URL at start-up), then keeps the keys fresh in the background.
    pub async fn connect(config: GuardConfig) -> Result<Self, StartError> {
        let guard = Self::build(config)?;
        let next = if guard.inner.keys.is_remote() {
            guard.inner.keys.refresh().await?
        } else {
            Duration::ZERO
        };
        guard.spawn_refresh(next)?;
        Ok(guard)
    }

    fn build(config: GuardConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        let http = fetch::client(config.http_timeout)
            .map_err(|e| ConfigError::HttpClient(e.to_string()))?;
        let cache = Arc::new(TokenCache::new(config.cache_capacity));
        let discovery = Arc::new(Discovery::new(
            config.issuer.clone(),
            http.clone(),
            config.jwks.refetch_cooldown,
        ));
        let (source, initial) = match &config.keys {
            KeySource::Discovery => (Source::Discovery(Arc::clone(&discovery)), None),
            KeySource::JwksUri(u) => (Source::Uri(u.clone()), None),
            KeySource::Static(set) => (Source::Static, Some(set)),
        };
        let keys = Arc::new(JwksCache::new(
            source,
            initial,
            http.clone(),
            config.jwks,
            Arc::clone(&cache),
        ));
        let introspector = config.introspection.clone().map(|cfg| {
            let endpoint = match &cfg.endpoint {
                Some(u) => Endpoint::Fixed(u.clone()),
                None => Endpoint::Discovered(Arc::clone(&discovery)),
            };
            Introspector::new(cfg, endpoint, http.clone())
        });
        let realm: Arc<str> = match &config.realm {
            Some(r) => Arc::from(r.as_str()),
            None => Arc::from(
                config
                    .audiences
                    .first()
                    .map(String::as_str)
                    .unwrap_or("api"),
            ),
        };
        let leeway = i64::try_from(config.leeway.as_secs()).unwrap_or(0);
        Ok(Self {
            inner: Arc::new(Inner {
                policy: JwtPolicy {
                    issuer: config.issuer,
                    audiences: config.audiences,
                    algorithms: config.algorithms,
                    leeway,
                    typ: config.typ,
                },
                keys,
                introspector,
                cache,
                clock: config.clock,
                realm,
                max_token_len: config.max_token_len,
                check_query: config.check_query,
                check_form_body: config.check_form_body,
                max_form_body: config.max_form_body,
                refresh_task: parking_lot::Mutex::new(None),
            }),
        })
    }

    fn spawn_refresh(&self, first: Duration) -> Result<(), ConfigError> {
        if !self.inner.keys.is_remote() {
            return Ok(());
        }
        let handle = tokio::runtime::Handle::try_current().map_err(|_| ConfigError::NoRuntime)?;
        let task = self.inner.keys.spawn_refresh(first, &handle);
        *self.inner.refresh_task.lock() = Some(task);
        Ok(())
    }

    /// Verifies one access token (the value after `Bearer `).
    ///
    /// A token seen before within its lifetime is answered from the cache (keyed by its SHA-256).
    /// Otherwise a JWS is checked per RFC 9068 §4 and anything else introspected (RFC 7662).
    pub async fn verify(&self, token: &str) -> Result<VerifiedToken, VerifyError> {
        let inner = &*self.inner;
        if token.len() > inner.max_token_len {
            return Err(TokenError::TooLong.into());
        }
        let now = inner.clock.now();
        let key = TokenHash::of(token);
        if let Some(hit) = inner.cache.get(&key, now) {
            return match hit {
                Cached::Active(t) => Ok(t),
                Cached::Refused(e) => Err(e.into()),
            };
        }
        match UnverifiedJws::parse(token) {
            Ok(jws) => {
                let pre = inner.policy.precheck(jws, now)?;
                let keys = inner.keys.keys_for(pre.kid(), pre.alg()).await?;
                let t = pre.verify_with(&keys)?;
                if let Some(exp) = t.expires_at_unix() {
                    inner.cache.insert(key, Cached::Active(t.clone()), exp, now);
                }
                Ok(t)
            }
            Err(_) => match &inner.introspector {
                Some(i) => {
                    let answer = i.introspect(token).await?;
                    let now = inner.clock.now();
                    let p = &inner.policy;
                    match i.judge(answer, &p.issuer, &p.audiences, p.leeway, now) {
                        Verdict::Active(t, until) => {
                            inner
                                .cache
                                .insert(key, Cached::Active(t.clone()), until, now);
                            Ok(t)
                        }
                        Verdict::Refused(e, until) => {
                            inner
                                .cache
                                .insert(key, Cached::Refused(e.clone()), until, now);
                            Err(e.into())
                        }
                    }
                }
                None if token.split('.').count() == 3 => {
                    Err(TokenError::Malformed("not a valid JWS").into())
                }
                None => Err(TokenError::NotJwt.into()),
            },
        }
    }

    /// Finds the bearer token in the request head (RFC 6750 §2.1; a second one in the query is
    /// refused, §2), verifies it and checks that it grants every scope of `required`. The form
    /// body is not looked at: the [`GuardLayer`] does that, and callers that hold the body use
    /// [`Guard::authorize_with_body`].
    pub async fn authorize(
        &self,
        parts: &http::request::Parts,
        required: &ScopeSet,
    ) -> Result<VerifiedToken, Rejection> {
        self.authorize_with_body(parts, required, None).await
    }

    /// Whether the guard looks at the body of a request with these headers: a form body
    /// (`Content-Type: application/x-www-form-urlencoded`, RFC 6750 §2.2) may carry a token, unless
    /// [`GuardConfig::check_form_body`](crate::GuardConfig::check_form_body) is off. A caller that
    /// buffers such a body hands it to [`Guard::authorize_with_body`].
    pub fn reads_body(&self, headers: &http::HeaderMap) -> bool {
        self.inner.check_form_body && bearer::is_form(headers)
    }

    /// [`Guard::authorize`] for a caller that holds the request body: `body` is the whole body, or
    /// `None` when it was not read (a stream passed on as it comes). A form body (RFC 6750 §2.2)
    /// with an `access_token` field is refused `invalid_request`, as the [`GuardLayer`] refuses
    /// it: beside a header token it is a token sent twice (§2: one method only), alone a token
    /// where this guard does not take one. Other bodies, and all bodies when
    /// [`GuardConfig::check_form_body`](crate::GuardConfig::check_form_body) is off, are not
    /// looked at.
    pub async fn authorize_with_body(
        &self,
        parts: &http::request::Parts,
        required: &ScopeSet,
        body: Option<&[u8]>,
    ) -> Result<VerifiedToken, Rejection> {
        let in_query = self.inner.check_query && bearer::query_has_token(&parts.uri);
        let in_body = self.reads_body(&parts.headers) && body.is_some_and(bearer::form_has_token);
        self.decide(parts, required, in_query, in_body).await
    }

    /// Takes the header token, refuses a token found elsewhere too (or only elsewhere), then
    /// verifies it and checks the scopes.
    pub(crate) async fn decide(
        &self,
        parts: &http::request::Parts,
        required: &ScopeSet,
        in_query: bool,
        in_body: bool,
    ) -> Result<VerifiedToken, Rejection> {
        use crate::error::RequestError as R;
        let reject = |kind| Rejection::new(kind, Arc::clone(&self.inner.realm));
        let header = bearer::from_headers(&parts.headers)
            .map_err(|e| reject(RejectionKind::InvalidRequest(e)))?;
        let token = match (header, in_query, in_body) {
            (Some(_), true, _) | (Some(_), _, true) => {
                return Err(reject(RejectionKind::InvalidRequest(R::TokenSentTwice)));
            }
            (None, true, _) => return Err(reject(RejectionKind::InvalidRequest(R::TokenInQuery))),
            (None, _, true) => return Err(reject(RejectionKind::InvalidRequest(R::TokenInBody))),
            (None, false, false) => return Err(reject(RejectionKind::MissingToken)),
            (Some(t), false, false) => t,
        };
        let verified = self.verify(token).await.map_err(|e| {
            reject(match e {
                VerifyError::Invalid(e) => RejectionKind::InvalidToken(e),
                VerifyError::Unavailable(e) => RejectionKind::Unavailable(e),
            })
        })?;
        if !required.is_subset(verified.scopes()) {
            return Err(reject(RejectionKind::InsufficientScope(required.clone())));
        }
        Ok(verified)
    }

    /// A layer that lets requests through only with a valid token (any scopes).
    pub fn layer(&self) -> GuardLayer {
        GuardLayer::new(self.clone(), ScopeSet::new())
    }

    /// A layer that lets requests through only with a valid token granting every one of
    /// `scopes` (RFC 6750 §3.1 `insufficient_scope` otherwise).
    pub fn require(&self, scopes: &[&str]) -> GuardLayer {
        GuardLayer::new(self.clone(), ScopeSet::from_names(scopes.iter().copied()))
    }

    /// The `realm` of the challenges (RFC 6750 §3).
    pub fn realm(&self) -> &str {
        &self.inner.realm
    }

    /// The issuer tokens must come from (`iss`, RFC 9068 §4).
    pub fn issuer(&self) -> &str {
        &self.inner.policy.issuer
    }

    /// Fetches the JWKS (RFC 7517 §5) now; it is also fetched periodically and on unknown `kid`s.
    pub async fn refresh_keys(&self) -> Result<(), UnavailableError> {
        self.inner.keys.refresh().await.map(|_| ())
    }

    /// How many verification results are cached, keyed by SHA-256 of the token (expired ones
    /// included until evicted).
    pub fn cached_tokens(&self) -> usize {
        self.inner.cache.len()
    }

    pub(crate) fn check_query(&self) -> bool {
        self.inner.check_query
    }

    pub(crate) fn form_body_limit(&self) -> Option<usize> {
        self.inner
            .check_form_body
            .then_some(self.inner.max_form_body)
    }

    pub(crate) fn realm_arc(&self) -> Arc<str> {
        Arc::clone(&self.inner.realm)
    }
}
