//! The JWT bearer authorization grant (RFC 7523 §2.1): an authenticated client trades a signed
//! assertion about a subject for an access token for that subject.
//!
//! Who may sign: an issuer listed under `[[jwt_bearer.issuers]]`, with its keys from a `jwks_uri`
//! or a `jwks_file`; or the client itself (`iss` = its client id), with a key of its registered
//! `jwks` or `jwks_uri`, as Google service accounts do. A configured issuer wins when its
//! identifier equals the client id. HMAC-signed assertions are never accepted: the secret would be
//! shared with the party trading the assertion.
//!
//! Who may trade: a client that authenticates; or, when the configured issuer's entry names the
//! client it acts as (`client_id`), anyone holding the issuer's assertion, without client
//! authentication (RFC 7523 §3.1 makes it optional): the token is then that client's
//! ([`issuer_bound_client`]).
//!
//! Every refusal of the assertion is `invalid_grant` (RFC 7523 §3.1) with a sentence saying what is
//! wrong; none quotes the assertion. The client proved who it is before any of this runs, so it
//! may learn why its assertion was refused.

use super::common::{access_token_only, choose_audiences, choose_scopes};
use crate::config::{TrustedIssuer, parse_jwks};
use crate::issue::Grant;
use crate::oauth::assertion::{
    self, AssertionError, ClaimRules, check_shared_claims, keys_for_kid, signed_by_any,
};
use crate::oauth::client_auth::{self, Presented};
use crate::oauth::error::OAuthError;
use crate::registry::ClientEntry;
use crate::state::AppState;
use axum::http::HeaderMap;
use serde_json::{Map, Value};
use std::sync::Arc;
use tessera_jose::{UnverifiedJws, VerifyingKey};
use tessera_proto::scope::OPENID_SCOPES;
use tessera_proto::{FormParams, ScopeSet, TokenResponse};

/// The longest `sub` accepted, in characters: it becomes the token's `sub`.
pub const MAX_SUBJECT_CHARS: usize = 255;

/// Where the keys that may have signed an assertion come from.
enum Trust<'a> {
    /// A `[[jwt_bearer.issuers]]` entry.
    Configured(&'a TrustedIssuer),
    /// The authenticated client, signing for itself.
    SelfIssued,
}

impl Trust<'_> {
    fn label(&self) -> &'static str {
        match self {
            Self::Configured(_) => "configured issuer",
            Self::SelfIssued => "self-issued",
        }
    }
}

/// How the client of a jwt-bearer request was established.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trader {
    /// The client authenticated.
    Authenticated,
    /// No client authentication: the assertion's issuer is configured to act as the client.
    IssuerBound,
}

/// The client a jwt-bearer request without client authentication acts as (RFC 7523 §3.1): the
/// `client_id` of the configured issuer named by the assertion's (not yet verified) `iss`.
/// `None` when the request authenticates a client, carries no assertion, or its issuer names no
/// client: the request then needs client authentication, as any other. The assertion itself is
/// verified by [`handle`], against that issuer's keys.
pub fn issuer_bound_client(
    state: &AppState,
    headers: &HeaderMap,
    form: &FormParams,
) -> Result<Option<Arc<ClientEntry>>, OAuthError> {
    let named = match client_auth::extract(headers, form)? {
        None => None,
        Some(Presented::Public { id }) => Some(id),
        Some(_) => return Ok(None),
    };
    let Some(jwt) = form.get("assertion")? else {
        return Ok(None);
    };
    let iss = UnverifiedJws::parse(jwt)
        .ok()
        .and_then(|jws| jws.claims::<Map<String, Value>>().ok())
        .and_then(|c| c.get("iss").and_then(Value::as_str).map(str::to_owned));
    let Some(issuer) = iss.and_then(|iss| state.config.jwt_bearer.issuer(&iss)) else {
        return Ok(None);
    };
    let Some(bound) = issuer.client_id.as_deref() else {
        return Ok(None);
    };
    if named.as_deref().is_some_and(|n| n != bound) {
        return Err(OAuthError::invalid_request(
            "client_id names another client than the one the assertion's issuer acts for; leave it out or authenticate the client",
        ));
    }
    match state.registry.client(bound) {
        Some(c) if c.client.enabled => Ok(Some(c)),
        _ => {
            tracing::warn!(issuer = %issuer.issuer, client_id = bound, "jwt-bearer: the client a trusted issuer acts as is not registered or is disabled");
            Err(OAuthError::invalid_client(
                "the client the assertion's issuer acts for is unknown or disabled",
            ))
        }
    }
}

/// Issues an access token for the subject of a verified `assertion` to `client`: a confidential
/// client that authenticated, or the client its configured issuer acts as. No refresh token: the
/// client can present a fresh assertion.
pub async fn handle(
    state: &AppState,
    client: &ClientEntry,
    form: &FormParams,
    trader: Trader,
) -> Result<TokenResponse, OAuthError> {
    if trader == Trader::Authenticated && client.client.is_public() {
        return Err(OAuthError::unauthorized_client(
            "the jwt-bearer grant is only for confidential clients: the client must authenticate",
        ));
    }
    let jwt = form.get("assertion")?.ok_or_else(|| {
        OAuthError::invalid_request(
            "the assertion parameter is missing: send one signed JWT (RFC 7523 §2.1)",
        )
    })?;
    let (iss, sub) = verify(state, client, jwt, trader).await?;
    let scope = without_openid_scopes(choose_scopes(state, client, form)?);
    let aud = choose_audiences(state, client, form)?;
    let grant = Grant {
        client,
        sub: &sub,
        scope: &scope,
        aud,
        auth_time: None,
    };
    let (resp, jti) = access_token_only(state, &grant).await?;
    tracing::debug!(target: "tessera::token", client_id = %client.client.client_id, assertion_issuer = %iss, jti = %jti, "jwt-bearer assertion exchanged");
    Ok(resp)
}

/// The OpenID Connect scopes describe a person signed in at this server; the assertion's subject
/// is not one, so a client's default scopes lose them here (requested, they are unknown scopes).
fn without_openid_scopes(scope: ScopeSet) -> ScopeSet {
    if scope.iter().any(|s| OPENID_SCOPES.contains(&s)) {
        ScopeSet::from_names(scope.iter().filter(|s| !OPENID_SCOPES.contains(s)))
    } else {
        scope
    }
}

/// Checks the assertion (RFC 7523 §3) and returns its issuer and subject.
async fn verify(
    state: &AppState,
    client: &ClientEntry,
    jwt: &str,
    trader: Trader,
) -> Result<(String, String), OAuthError> {
    let jws = UnverifiedJws::parse(jwt).map_err(|_| {
        OAuthError::invalid_grant("the assertion is not a JWT in compact serialization")
    })?;
    let claims: Map<String, Value> = jws
        .claims()
        .map_err(|_| OAuthError::invalid_grant("the assertion's payload is not a JSON object"))?;
    let iss = match claims.get("iss") {
        Some(Value::String(s)) if !s.is_empty() => s.as_str(),
        _ => return Err(OAuthError::invalid_grant("the assertion has no iss")),
    };
    let client_id = client.client.client_id.as_str();
    let trust = if let Some(t) = state.config.jwt_bearer.issuer(iss) {
        Trust::Configured(t)
    } else if trader == Trader::IssuerBound {
        // Only the configured issuer speaks for a client that did not authenticate.
        return Err(OAuthError::invalid_grant(
            "the assertion's iss is not a trusted issuer configured on this server",
        ));
    } else if iss == client_id {
        Trust::SelfIssued
    } else {
        return Err(OAuthError::invalid_grant(
            "the assertion's iss is not a trusted issuer: neither one configured on this server nor the client's own id",
        ));
    };
    let alg = jws.header.algorithm().map_err(|_| {
        OAuthError::invalid_grant("the assertion's alg is not a supported signature algorithm")
    })?;
    // A self-issued assertion may use any asymmetric algorithm its registered keys support.
    let listed = match trust {
        Trust::Configured(t) => t.accepted_algorithms().contains(&alg),
        Trust::SelfIssued => true,
    };
    if alg.is_hmac() || !listed {
        return Err(OAuthError::invalid_grant(format!(
            "the assertion is signed with {alg}, which is not accepted from its issuer ({}); HMAC is never accepted",
            trust.label()
        )));
    }
    let kid = jws.header.kid.as_deref();
    let keys = keys_for_kid(issuer_keys(state, client, &trust, kid).await?, kid);
    if keys.is_empty() {
        return Err(OAuthError::invalid_grant(match trust {
            Trust::SelfIssued
                if client.jwks_keys.is_empty() && client.client.jwks_uri.is_none() =>
            {
                "a self-issued assertion is verified with the client's registered keys, and the client has none (register jwks or jwks_uri)"
            }
            _ => "no key of the assertion's issuer matches its kid",
        }));
    }
    if !signed_by_any(&jws, &keys, alg) {
        return Err(OAuthError::invalid_grant(
            "the assertion's signature does not verify with its issuer's keys",
        ));
    }
    let sub = subject(&claims, &trust)?;
    let token_endpoint = state.token_endpoint.as_str();
    let default_audiences = [state.issuer.as_str(), token_endpoint];
    let configured: Vec<&str>;
    let audiences: &[&str] = match trust {
        Trust::Configured(t) if !t.audience.is_empty() => {
            configured = t.audience.iter().map(String::as_str).collect();
            &configured
        }
        _ => &default_audiences,
    };
    let rules = ClaimRules {
        name: "assertion",
        audiences,
        jti_required: false,
        replay_key: iss,
        lifetime_from_iat: true,
    };
    match check_shared_claims(state, &claims, &rules).await {
        Ok(()) => Ok((iss.to_owned(), sub)),
        Err(AssertionError::Store(e)) => Err(e.into()),
        Err(AssertionError::Invalid(d) | AssertionError::Unproven(d)) => {
            Err(OAuthError::invalid_grant(d))
        }
    }
}

/// The keys that may have signed an assertion of `trust`.
async fn issuer_keys(
    state: &AppState,
    client: &ClientEntry,
    trust: &Trust<'_>,
    kid: Option<&str>,
) -> Result<Vec<VerifyingKey>, OAuthError> {
    let unreachable = |e: String| {
        tracing::warn!(client_id = %client.client.client_id, error = %e, "jwt-bearer: the issuer's keys could not be fetched");
        OAuthError::invalid_grant(
            "the keys of the assertion's issuer could not be fetched; try again later",
        )
    };
    match trust {
        Trust::SelfIssued => assertion::registered_public_keys(state, client, kid)
            .await
            .map_err(unreachable),
        Trust::Configured(t) => match (&t.jwks_uri, &t.jwks_file) {
            (Some(uri), _) => state.remote_jwks.keys(uri, kid).await.map_err(unreachable),
            (None, Some(file)) => {
                let read = tokio::fs::read(file)
                    .await
                    .map_err(|e| format!("cannot read {}: {e}", file.display()))
                    .and_then(|bytes| {
                        parse_jwks(&bytes).map_err(|e| format!("{} {e}", file.display()))
                    });
                read.map_err(|e| {
                    tracing::error!(issuer = %t.issuer, error = %e, "jwt-bearer: the jwks_file of a trusted issuer is unusable");
                    OAuthError::server_error(
                        "the server could not read the keys of the assertion's issuer",
                    )
                })
            }
            (None, None) => {
                tracing::error!(issuer = %t.issuer, "jwt-bearer: a trusted issuer has neither jwks_uri nor jwks_file");
                Err(OAuthError::server_error(
                    "the server has no keys for the assertion's issuer",
                ))
            }
        },
    }
}

/// The assertion's `sub` (RFC 7523 §3 item 2): present, 1 to 255 characters without control
/// characters, and with the issuer's `subject_prefix` when it has one.
fn subject(claims: &Map<String, Value>, trust: &Trust<'_>) -> Result<String, OAuthError> {
    let sub = match claims.get("sub") {
        Some(Value::String(s)) if !s.is_empty() => s,
        _ => {
            return Err(OAuthError::invalid_grant(
                "the assertion has no sub: it must name the subject the token is for",
            ));
        }
    };
    if sub.chars().count() > MAX_SUBJECT_CHARS || sub.chars().any(char::is_control) {
        return Err(OAuthError::invalid_grant(format!(
            "the assertion's sub must be 1 to {MAX_SUBJECT_CHARS} characters without control characters"
        )));
    }
    if let Trust::Configured(t) = trust
        && let Some(prefix) = &t.subject_prefix
        && !sub.starts_with(prefix.as_str())
    {
        return Err(OAuthError::invalid_grant(format!(
            "the assertion's issuer may only speak for subjects starting with {prefix:?}"
        )));
    }
    Ok(sub.clone())
}
