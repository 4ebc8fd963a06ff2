//! Token introspection (RFC 7662) for access tokens that are not a JWS: the guard authenticates
//! with its own client credentials (`client_secret_basic`, RFC 6749 §2.3.1), sends the token with
//! `token_type_hint=access_token` (§2.1), and judges the answer (§2.2) as it would judge JWT claims.
//!
//! A failing endpoint (transport error, non-200, bad JSON) is an [`UnavailableError`], answered 503:
//! it says nothing about the token, and a 401 would send the client to get a new token that the
//! guard could not check either, while piling load on the server that is already failing.

use crate::config::IntrospectionConfig;
use crate::discovery::Discovery;
use crate::error::{TokenError, UnavailableError};
use crate::fetch;
use crate::token::{TokenSource, VerifiedToken};
use crate::verify::check_times;
use http::HeaderValue;
use secrecy::ExposeSecret;
use serde_json::Value;
use std::sync::Arc;
use tessera_proto::introspection::IntrospectionResponse;

const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// Where the introspection endpoint is.
pub(crate) enum Endpoint {
    /// Configured.
    Fixed(String),
    /// The metadata's `introspection_endpoint`.
    Discovered(Arc<Discovery>),
}

/// What an introspection answer means for the guard.
pub(crate) enum Verdict {
    /// Active and acceptable, reusable until the given Unix time.
    Active(VerifiedToken, i64),
    /// Refused, reusable until the given Unix time.
    Refused(TokenError, i64),
}

/// Calls the introspection endpoint.
pub(crate) struct Introspector {
    cfg: IntrospectionConfig,
    endpoint: Endpoint,
    http: reqwest::Client,
    authorization: HeaderValue,
    permits: tokio::sync::Semaphore,
}

impl Introspector {
    pub(crate) fn new(cfg: IntrospectionConfig, endpoint: Endpoint, http: reqwest::Client) -> Self {
        let basic = tessera_proto::basic::encode(&cfg.client_id, cfg.client_secret.expose_secret());
        let mut authorization =
            HeaderValue::from_str(&basic).unwrap_or_else(|_| HeaderValue::from_static(""));
        authorization.set_sensitive(true);
        let permits = tokio::sync::Semaphore::new(cfg.max_concurrency);
        Self {
            cfg,
            endpoint,
            http,
            authorization,
            permits,
        }
    }

    /// Asks the server about `token` (RFC 7662 §2.1).
    pub(crate) async fn introspect(
        &self,
        token: &str,
    ) -> Result<IntrospectionResponse, UnavailableError> {
        let url = match &self.endpoint {
            Endpoint::Fixed(u) => u.clone(),
            Endpoint::Discovered(d) => d
                .metadata()
                .await?
                .introspection_endpoint
                .clone()
                .ok_or_else(|| {
                    UnavailableError::Discovery("the metadata has no introspection_endpoint".into())
                })?,
        };
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| UnavailableError::Introspection("shutting down".into()))?;
        metrics::counter!("tessera_guard_introspections_total").increment(1);
        let req = self
            .http
            .post(url)
            .header(http::header::AUTHORIZATION, self.authorization.clone())
            .header(http::header::ACCEPT, "application/json")
            .form(&[("token", token), ("token_type_hint", "access_token")]);
        let fetched = fetch::send(req, "the introspection endpoint", MAX_ANSWER_BYTES)
            .await
            .map_err(|e| UnavailableError::Introspection(e.to_string()))?;
        serde_json::from_slice(&fetched.body).map_err(|e| {
            UnavailableError::Introspection(format!("the answer is not RFC 7662 JSON: {e}"))
        })
    }

    /// Judges an answer at `now`: `active`, `token_type`, `iss`, `aud` and times, and how long the
    /// verdict may be reused (an active one: until `exp` but at most `max_cache`; a refusal:
    /// `inactive_cache`).
    pub(crate) fn judge(
        &self,
        answer: IntrospectionResponse,
        issuer: &str,
        audiences: &[String],
        leeway: i64,
        now: i64,
    ) -> Verdict {
        let refuse_until = now.saturating_add(secs(self.cfg.inactive_cache));
        match self.accept(answer, issuer, audiences, leeway, now) {
            Ok(t) => {
                let mut until = now.saturating_add(secs(self.cfg.max_cache));
                if let Some(exp) = t.expires_at_unix() {
                    until = until.min(exp);
                }
                Verdict::Active(t, until)
            }
            Err(e) => Verdict::Refused(e, refuse_until),
        }
    }

    fn accept(
        &self,
        answer: IntrospectionResponse,
        issuer: &str,
        audiences: &[String],
        leeway: i64,
        now: i64,
    ) -> Result<VerifiedToken, TokenError> {
        if !answer.active {
            return Err(TokenError::Inactive);
        }
        if answer
            .token_type
            .as_deref()
            .is_some_and(|t| !t.eq_ignore_ascii_case("bearer"))
        {
            return Err(TokenError::TokenType);
        }
        if answer.iss.as_deref().is_some_and(|i| i != issuer) {
            return Err(TokenError::Issuer);
        }
        let claims = match serde_json::to_value(answer) {
            Ok(Value::Object(m)) => m,
            _ => return Err(TokenError::Malformed("introspection answer")),
        };
        let t = VerifiedToken::from_claims(claims, TokenSource::Introspection)?;
        let aud_ok = t
            .audience()
            .iter()
            .any(|a| audiences.iter().any(|ok| ok == a));
        if !aud_ok && (!t.audience().is_empty() || self.cfg.require_audience) {
            return Err(TokenError::Audience);
        }
        check_times(&t, now, leeway, false)?;
        Ok(t)
    }
}

fn secs(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}
