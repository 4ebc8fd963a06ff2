//! Inbound protection of a route with `tessera-guard`: the request must carry a bearer token from
//! the route's issuer, for one of its audiences, granting its scopes; refusals are the guard's
//! RFC 6750 §3 answers (401 with a `Bearer` challenge, 400 `invalid_request`, 403
//! `insufficient_scope`, 503 when keys cannot be had).
//!
//! Routes whose guard settings differ only by scopes share one [`Guard`] (keys, discovery and the
//! verified-token cache), and a reload that keeps the settings keeps the guard.

use crate::body::{Inbound, ProxyBody, ReplayError};
use crate::config::GuardSettings;
use axum::response::IntoResponse as _;
use bytes::Bytes;
use http::Response;
use secrecy::ExposeSecret;
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use tessera_guard::{
    Guard, GuardConfig, IntrospectionConfig, Rejection, RejectionKind, RequestError, ScopeSet,
    TypPolicy,
};

/// Guards by their settings (scopes aside), to share and keep them.
pub(crate) type GuardPool = HashMap<String, Guard>;

/// One route's inbound check.
#[derive(Debug, Clone)]
pub(crate) struct InboundGuard {
    guard: Guard,
    required: ScopeSet,
}

impl InboundGuard {
    /// Builds the check of `route`, reusing a guard of `previous` (or of `pool`, filled as it
    /// goes) with the same settings.
    pub(crate) fn build(
        route: &str,
        settings: &GuardSettings,
        allow_inline: bool,
        previous: &GuardPool,
        pool: &mut GuardPool,
    ) -> Result<Self, String> {
        let (config, key) = guard_config(settings, allow_inline)
            .map_err(|e| format!("route {route}: guard: {e}"))?;
        let guard = match pool.get(&key).or_else(|| previous.get(&key)) {
            Some(g) => g.clone(),
            None => Guard::start(config).map_err(|e| format!("route {route}: guard: {e}"))?,
        };
        pool.insert(key, guard.clone());
        Ok(Self {
            guard,
            required: ScopeSet::from_names(settings.scopes.split_scopes()),
        })
    }

    /// Lets the request through, or answers it as RFC 6750 §3 says.
    ///
    /// A form body (RFC 6750 §2.2) that the gateway can keep in memory (its `Content-Length` is at
    /// most `limit`) is read here, once, so that an `access_token` field in it is refused like a
    /// token in the query; `body` then holds it, for the upstream and for replays. Other bodies,
    /// and forms of unknown or greater length, are left to stream unread.
    pub(crate) async fn check(
        &self,
        parts: &http::request::Parts,
        body: &mut Inbound,
        limit: usize,
    ) -> Result<(), Box<(Rejection, Response<ProxyBody>)>> {
        if self.guard.reads_body(&parts.headers) {
            let taken = std::mem::replace(body, Inbound::Replayable(Bytes::new()));
            *body = match taken {
                Inbound::Streamed(s) => match Inbound::read(s, true, limit).await {
                    Ok(read) => read,
                    Err(e) => {
                        tracing::debug!(error = %e, "the form body could not be read for the guard");
                        let kind = RejectionKind::InvalidRequest(RequestError::UnreadableBody);
                        let realm: Arc<str> = Arc::from(self.guard.realm());
                        return Err(refusal(Rejection::new(kind, realm)).await);
                    }
                },
                held => held,
            };
        }
        let held = match &*body {
            Inbound::Replayable(b) => Some(&b[..]),
            Inbound::Streamed(_) => None,
        };
        match self
            .guard
            .authorize_with_body(parts, &self.required, held)
            .await
        {
            Ok(_) => Ok(()),
            Err(rejection) => Err(refusal(rejection).await),
        }
    }
}

/// The guard's answer, with its body in memory.
async fn refusal(rejection: Rejection) -> Box<(Rejection, Response<ProxyBody>)> {
    let (head, body) = rejection.clone().into_response().into_parts();
    // The guard's answer is a small JSON document held in memory.
    let bytes = axum::body::to_bytes(body, 64 * 1024)
        .await
        .unwrap_or_default();
    Box::new((
        rejection,
        Response::from_parts(head, ProxyBody::full(bytes)),
    ))
}

/// The request body to forward once the guard is done: as the guard left it when it read it,
/// otherwise kept or streamed as [`Inbound::read`] decides.
pub(crate) async fn read_rest(
    body: Inbound,
    wanted: bool,
    limit: usize,
) -> Result<Inbound, ReplayError> {
    match body {
        Inbound::Streamed(s) => Inbound::read(s, wanted, limit).await,
        held => Ok(held),
    }
}

/// The guard's configuration and the key under which guards are shared: the settings without
/// scopes, and a fingerprint of the introspection secret (so a changed secret file makes a new
/// guard).
fn guard_config(s: &GuardSettings, allow_inline: bool) -> Result<(GuardConfig, String), String> {
    let mut c = GuardConfig::new(s.issuer.clone());
    for a in s.audiences.to_vec() {
        c = c.audience(a);
    }
    if let Some(u) = &s.jwks_uri {
        c = c.jwks_uri(u.clone());
    }
    if let Some(l) = s.leeway {
        c = c.leeway(l);
    }
    if let Some(r) = &s.realm {
        c = c.realm(r.clone());
    }
    if s.accept_untyped_jwt {
        c = c.typ(TypPolicy::AccessTokenOrJwt);
    }
    c = c.allow_insecure_http(s.allow_insecure_http);
    if let Some(n) = s.max_token_bytes {
        c = c.max_token_len(n);
    }
    let mut fingerprint = DefaultHasher::new();
    if let Some(i) = &s.introspection {
        let secret = i
            .client_secret
            .resolve("guard.introspection.client_secret", allow_inline)
            .map_err(|e| e.to_string())?;
        secret.expose_secret().hash(&mut fingerprint);
        let mut ic = IntrospectionConfig::new(i.client_id.clone(), secret.expose_secret());
        if let Some(e) = &i.endpoint {
            ic = ic.endpoint(e.clone());
        }
        if let Some(m) = i.max_cache {
            ic = ic.max_cache(m);
        }
        c = c.introspection(ic);
    }
    let mut shared = s.clone();
    shared.scopes = Default::default();
    let key = format!(
        "{}#{:x}",
        serde_json::to_string(&shared).map_err(|e| e.to_string())?,
        fingerprint.finish()
    );
    Ok((c, key))
}
