//! The refresh token grant (RFC 6749 §6) with rotation: every use returns a new refresh token
//! and spends the old one; a spent token presented again means it leaked, so the whole family is
//! revoked, with the access tokens issued from it (RFC 9700 §4.14.2). Tokens lapse after the idle
//! lifetime unused, and every token of a family after the absolute lifetime.

use super::user_tokens::{self, Refresh, UserGrant};
use crate::model::{AuditEvent, now};
use crate::oauth::error::OAuthError;
use crate::registry::ClientEntry;
use crate::state::AppState;
use crate::store::grants::{Claim, RefreshFamily};
use tessera_proto::{FormParams, ScopeSet, TokenResponse};

/// Exchanges a refresh token for new tokens.
pub async fn handle(
    state: &AppState,
    client: &ClientEntry,
    form: &FormParams,
) -> Result<TokenResponse, OAuthError> {
    let token = form
        .get("refresh_token")?
        .ok_or_else(|| OAuthError::invalid_request("the refresh_token parameter is missing"))?;
    let hash = state.keys.hash(token);
    // Check the client and the requested scope before spending the token, so that neither
    // another client nor a malformed request can burn it.
    let family = match state.store.refresh_family_of(&hash).await? {
        None => return Err(OAuthError::invalid_grant("the refresh token is invalid")),
        Some((_, f)) if f.client_id != client.client.client_id => {
            return Err(OAuthError::invalid_grant(
                "the refresh token was issued to another client",
            ));
        }
        Some((_, f)) => f,
    };
    let scope = refreshed_scope(client, &family, form.get("scope")?)?;
    let t = now();
    let (token_rec, family) = match state.store.claim_refresh(&hash, t).await? {
        Claim::Unknown => return Err(OAuthError::invalid_grant("the refresh token is invalid")),
        Claim::Replayed((_, family)) => {
            reuse_detected(state, &family).await?;
            return Err(OAuthError::invalid_grant(
                "the refresh token was already used; every token of its family is revoked",
            ));
        }
        Claim::Fresh(pair) => pair,
    };
    if family.revoked_at.is_some() {
        return Err(OAuthError::invalid_grant("the refresh token was revoked"));
    }
    if token_rec.expires_at <= t || family.absolute_expires_at <= t {
        return Err(OAuthError::invalid_grant("the refresh token has expired"));
    }
    let user = user_tokens::active_user(state, &family.user_id).await?;
    let aud: Vec<String> = serde_json::from_str(&family.aud)
        .map_err(|e| OAuthError::server_error(format!("stored audience: {e}")))?;
    let issued = user_tokens::issue(
        state,
        UserGrant {
            client,
            user: &user,
            scope: &scope,
            aud,
            auth_time: family.auth_time,
            nonce: None,
            refresh: Refresh::Rotate(&family),
        },
    )
    .await?;
    Ok(issued.response)
}

/// The scopes of the refreshed access token: those asked for, which must have been granted
/// (RFC 6749 §6), or all granted ones; scopes taken from the client since are dropped.
fn refreshed_scope(
    client: &ClientEntry,
    family: &RefreshFamily,
    asked: Option<&str>,
) -> Result<ScopeSet, OAuthError> {
    let granted = ScopeSet::parse(&family.scope)
        .map_err(|e| OAuthError::server_error(format!("stored scope: {e}")))?;
    let still_allowed =
        ScopeSet::from_names(granted.iter().filter(|s| client.allowed_scopes.contains(s)));
    match asked {
        Some(s) => {
            let asked = ScopeSet::parse(s).map_err(|e| OAuthError::invalid_scope(e.to_string()))?;
            let extra: Vec<&str> = asked.difference(&still_allowed).collect();
            if !extra.is_empty() {
                return Err(OAuthError::invalid_scope(format!(
                    "the refresh token was not granted: {} (RFC 6749 §6)",
                    extra.join(" ")
                )));
            }
            Ok(asked)
        }
        None => Ok(still_allowed),
    }
}

async fn reuse_detected(state: &AppState, family: &RefreshFamily) -> Result<(), OAuthError> {
    let t = now();
    let revoked = state
        .store
        .revoke_families(Some(&family.id), None, None, t)
        .await?;
    state.store.revoke_access_tokens(&revoked).await?;
    metrics::counter!("tessera_refresh_reuse_total").increment(1);
    tracing::warn!(client_id = %family.client_id, user_id = %family.user_id, family = %family.id, "refresh token reused; family revoked");
    state.audit(AuditEvent {
        id: 0,
        at: t,
        actor: family.client_id.clone(),
        action: "refresh.reuse_detected".into(),
        target: family.user_id.clone(),
        before: None,
        after: Some(
            serde_json::json!({ "family": family.id, "revoked_access_tokens": revoked.len() }),
        ),
        remote_addr: None,
    });
    Ok(())
}
