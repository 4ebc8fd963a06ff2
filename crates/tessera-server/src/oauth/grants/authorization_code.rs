//! The authorization code grant's token request (RFC 6749 §4.1.3, RFC 7636 §4.5): the code is
//! single-use and bound to the client, the redirect URI and the PKCE challenge. A code presented
//! a second time is refused and everything issued from it is revoked (RFC 6749 §4.1.2,
//! RFC 9700 §4.2.4).

use super::common::choose_code_audiences;
use super::user_tokens::{self, Refresh, UserGrant};
use crate::model::{AuditEvent, now};
use crate::oauth::error::OAuthError;
use crate::oauth::pkce;
use crate::registry::ClientEntry;
use crate::state::AppState;
use crate::store::grants::{Claim, CodeRecord, IssuedAccess};
use tessera_proto::{FormParams, ScopeSet, TokenResponse};

/// Exchanges an authorization code for tokens.
pub async fn handle(
    state: &AppState,
    client: &ClientEntry,
    form: &FormParams,
) -> Result<TokenResponse, OAuthError> {
    let code = form
        .get("code")?
        .ok_or_else(|| OAuthError::invalid_request("the code parameter is missing"))?;
    let hash = state.keys.hash(code);
    let t = now();
    let rec = match state.store.claim_code(&hash, t).await? {
        Claim::Unknown => {
            return Err(OAuthError::invalid_grant(
                "the authorization code is invalid",
            ));
        }
        Claim::Replayed(rec) => {
            revoke_issued(state, &rec).await?;
            return Err(OAuthError::invalid_grant(
                "the authorization code was already used; the tokens issued from it are revoked",
            ));
        }
        Claim::Fresh(rec) => rec,
    };
    if rec.client_id != client.client.client_id {
        return Err(OAuthError::invalid_grant(
            "the authorization code was issued to another client",
        ));
    }
    if rec.expires_at <= t {
        return Err(OAuthError::invalid_grant(
            "the authorization code has expired",
        ));
    }
    let redirect_uri = form.get("redirect_uri")?;
    match redirect_uri {
        Some(r) if r != rec.redirect_uri => {
            return Err(OAuthError::invalid_grant(
                "redirect_uri differs from the one of the authorization request",
            ));
        }
        None if rec.redirect_uri_sent => {
            return Err(OAuthError::invalid_grant(
                "redirect_uri is missing; it was in the authorization request (RFC 6749 §4.1.3)",
            ));
        }
        _ => {}
    }
    match (rec.code_challenge.as_deref(), form.get("code_verifier")?) {
        (Some(challenge), Some(verifier)) => {
            if !pkce::verify(verifier, challenge) {
                return Err(OAuthError::invalid_grant(
                    "the code_verifier does not match the code_challenge",
                ));
            }
        }
        (Some(_), None) => {
            return Err(OAuthError::invalid_grant(
                "code_verifier is missing; the authorization request had a code_challenge",
            ));
        }
        (None, Some(_)) => {
            return Err(OAuthError::invalid_grant(
                "code_verifier was sent but the authorization request had no code_challenge",
            ));
        }
        (None, None) => {}
    }
    let user = user_tokens::active_user(state, &rec.user_id).await?;
    let scope = ScopeSet::parse(&rec.scope)
        .map_err(|e| OAuthError::server_error(format!("stored scope: {e}")))?;
    let granted: Vec<String> = match rec.resource.as_deref() {
        Some(r) => serde_json::from_str(r)
            .map_err(|e| OAuthError::server_error(format!("stored resource: {e}")))?,
        None => Vec::new(),
    };
    let aud = choose_code_audiences(state, client, form, &granted)?;
    let issued = user_tokens::issue(
        state,
        UserGrant {
            client,
            user: &user,
            scope: &scope,
            aud,
            auth_time: rec.auth_time,
            nonce: rec.nonce.as_deref(),
            refresh: Refresh::StartIfAllowed,
        },
    )
    .await?;
    let kept = state
        .store
        .record_code_tokens(&hash, &issued.access, issued.family_id.as_deref(), now())
        .await?;
    if !kept {
        // The code was presented again while these tokens were being issued; that replay found
        // nothing to revoke, so the store revoked them in its place.
        replayed_while_issuing(state, &rec, &issued.access, issued.family_id.as_deref());
        return Err(OAuthError::invalid_grant(
            "the authorization code was already used; the tokens issued from it are revoked",
        ));
    }
    Ok(issued.response)
}

/// Reports tokens that were revoked as soon as they were issued, because the code they were
/// issued from was replayed meanwhile.
fn replayed_while_issuing(
    state: &AppState,
    rec: &CodeRecord,
    access: &IssuedAccess,
    family_id: Option<&str>,
) {
    metrics::counter!("tessera_code_replays_total").increment(1);
    tracing::warn!(client_id = %rec.client_id, user_id = %rec.user_id, jti = %access.jti, "authorization code replayed during its exchange; the tokens issued from it are revoked");
    state.audit(AuditEvent {
        id: 0,
        at: now(),
        actor: rec.client_id.clone(),
        action: "code.replayed".into(),
        target: rec.user_id.clone(),
        before: None,
        after: Some(serde_json::json!({ "revoked_access_tokens": 1, "refresh_family": family_id })),
        remote_addr: None,
    });
}

/// Revokes the access token and refresh token family issued from a replayed code.
async fn revoke_issued(state: &AppState, rec: &CodeRecord) -> Result<(), OAuthError> {
    let t = now();
    let mut revoked: Vec<IssuedAccess> = Vec::new();
    if let (Some(jti), Some(exp)) = (&rec.access_jti, rec.access_exp) {
        revoked.push(IssuedAccess {
            jti: jti.clone(),
            client_id: rec.client_id.clone(),
            exp,
        });
    }
    if let Some(family) = &rec.family_id {
        revoked.extend(
            state
                .store
                .revoke_families(Some(family), None, None, t)
                .await?,
        );
    }
    state.store.revoke_access_tokens(&revoked).await?;
    metrics::counter!("tessera_code_replays_total").increment(1);
    tracing::warn!(client_id = %rec.client_id, user_id = %rec.user_id, revoked = revoked.len(), "authorization code replayed; tokens revoked");
    state.audit(AuditEvent {
        id: 0,
        at: t,
        actor: rec.client_id.clone(),
        action: "code.replayed".into(),
        target: rec.user_id.clone(),
        before: None,
        after: Some(serde_json::json!({ "revoked_access_tokens": revoked.len(), "refresh_family": rec.family_id })),
        remote_addr: None,
    });
    Ok(())
}
