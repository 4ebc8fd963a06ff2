//! The resource owner password credentials grant (RFC 6749 §4.3): legacy, and only for clients
//! whose registration lists `password` (none does by default; RFC 9700 §2.4 says not to use it).
//! Same user store, same argon2id check with a dummy hash for unknown users, same per-user and
//! per-address limits and audit as the sign-in page.

use super::common::choose_audiences;
use super::user_scope::choose_user_scopes;
use super::user_tokens::{self, Refresh, UserGrant};
use crate::model::{AuditEvent, now};
use crate::oauth::error::OAuthError;
use crate::registry::ClientEntry;
use crate::state::AppState;
use crate::users::{Username, password};
use axum::http::StatusCode;
use std::net::IpAddr;
use tessera_proto::{ErrorCode, FormParams, TokenResponse};

fn too_many(wait: u64) -> OAuthError {
    OAuthError {
        code: ErrorCode::InvalidGrant,
        description: "too many failed sign-ins; try again later".into(),
        status: StatusCode::TOO_MANY_REQUESTS,
        retry_after: Some(wait.max(1)),
        basic_challenge: false,
        log_reason: None,
        presented_client: None,
    }
}

/// Exchanges a username and password for tokens.
pub async fn handle(
    state: &AppState,
    client: &ClientEntry,
    form: &FormParams,
    remote: IpAddr,
) -> Result<TokenResponse, OAuthError> {
    let typed = form
        .get("username")?
        .ok_or_else(|| OAuthError::invalid_request("the username parameter is missing"))?;
    let pw = form
        .get("password")?
        .ok_or_else(|| OAuthError::invalid_request("the password parameter is missing"))?;
    let scope = choose_user_scopes(state, client, form.get("scope")?)?;
    let aud = choose_audiences(state, client, form)?;
    let key = typed.trim().to_lowercase();
    let address = remote.to_string();
    if let Some(wait) = state.guesses.login_blocked(&key, remote) {
        return Err(too_many(wait));
    }
    let user = match Username::parse(typed) {
        Ok(name) => state.store.get_user_by_username(name.as_str()).await?,
        Err(_) => None,
    };
    let usable = user.as_ref().filter(|u| u.enabled);
    let ok = password::verify(pw, usable.and_then(|u| u.password_hash.as_deref())).await;
    let client_id = client.client.client_id.clone();
    let Some(user) = user.filter(|u| ok && u.enabled) else {
        metrics::counter!("tessera_login_failures_total").increment(1);
        state.audit(AuditEvent {
            id: 0,
            at: now(),
            actor: client_id,
            action: "user.login_failed".into(),
            target: key.clone(),
            before: None,
            after: Some(serde_json::json!({ "grant": "password" })),
            remote_addr: Some(address.clone()),
        });
        if let Some(wait) = state.guesses.login_failed(&key, remote) {
            return Err(too_many(wait));
        }
        return Err(OAuthError::invalid_grant(
            "the username or password is wrong",
        ));
    };
    if user.password_temporary {
        tracing::info!(user_id = %user.id, "password grant refused: the password is temporary");
        return Err(OAuthError::invalid_grant(
            "the password is temporary: the user signs in on the sign-in page once and chooses \
             their own first",
        ));
    }
    let t = now();
    state.audit(AuditEvent {
        id: 0,
        at: t,
        actor: user.id.clone(),
        action: "user.login".into(),
        target: user.id.clone(),
        before: None,
        after: Some(serde_json::json!({ "grant": "password", "client_id": client_id })),
        remote_addr: Some(address),
    });
    let issued = user_tokens::issue(
        state,
        UserGrant {
            client,
            user: &user,
            scope: &scope,
            aud,
            auth_time: t,
            nonce: None,
            refresh: Refresh::StartIfAllowed,
        },
    )
    .await?;
    Ok(issued.response)
}
