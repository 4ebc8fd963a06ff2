//! Token revocation, `POST /oauth2/revoke` (RFC 7009).
//!
//! A client may revoke tokens issued to itself. An unknown, expired or already revoked token is
//! answered 200 (RFC 7009 §2.2); a token of another client is refused with `unauthorized_client`
//! (§2.1: "the request is refused and the client is informed of the error").

use super::client_auth;
use super::error::OAuthError;
use crate::model::{AuditEvent, now};
use crate::net::RemoteAddr;
use crate::oauth::grants::user_tokens::REFRESH_PREFIX;
use crate::own_tokens;
use crate::state::AppState;
use crate::state::SharedState;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::net::IpAddr;

/// `POST /oauth2/revoke`.
pub async fn revoke(
    State(state): State<SharedState>,
    RemoteAddr(remote): RemoteAddr,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let result: Result<(), OAuthError> = async {
        let form =
            super::request::read_form(&headers, body, state.config.http.max_body_bytes).await?;
        let endpoint = format!("{}/oauth2/revoke", state.issuer);
        let caller = client_auth::authenticate(&state, &headers, &form, remote, &endpoint).await?;
        let token = form
            .get("token")?
            .ok_or_else(|| OAuthError::invalid_request("the token parameter is missing"))?;
        if let Some(hint) = form.get("token_type_hint")?
            && hint != "access_token"
            && hint != "refresh_token"
        {
            // RFC 7009 §2.1: an unknown hint may be ignored; the server searches all types.
            tracing::debug!(hint, "ignoring unknown token_type_hint");
        }
        if token.starts_with(REFRESH_PREFIX) {
            return revoke_refresh_token(&state, &caller.client.client_id, token, remote).await;
        }
        let Some(active) = own_tokens::lookup(&state, token).await? else {
            return Ok(());
        };
        if active.client_id != caller.client.client_id {
            return Err(OAuthError::unauthorized_client(
                "the token was not issued to this client",
            ));
        }
        if active.is_jwt {
            state
                .store
                .revoke_jwt(&active.jti, &active.client_id, active.exp)
                .await?;
        } else {
            state.store.revoke_token(&state.keys.hash(token)).await?;
        }
        state
            .audit_now(AuditEvent {
                id: 0,
                at: now(),
                actor: caller.client.client_id.clone(),
                action: "token.revoke".into(),
                target: active.jti.clone(),
                before: None,
                after: None,
                remote_addr: Some(remote.to_string()),
            })
            .await;
        Ok(())
    }
    .await;
    match result {
        Ok(()) => {
            let mut r = StatusCode::OK.into_response();
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(e) => {
            e.log_failed_authentication("revocation", remote);
            e.into_response()
        }
    }
}

/// Revokes a refresh token: its whole family, and the access tokens issued from it (RFC 7009
/// §2.1: "the authorization server SHOULD also invalidate all access tokens based on the same
/// authorization grant").
async fn revoke_refresh_token(
    state: &AppState,
    caller: &str,
    token: &str,
    remote: IpAddr,
) -> Result<(), OAuthError> {
    let Some((_, family)) = state
        .store
        .refresh_family_of(&state.keys.hash(token))
        .await?
    else {
        return Ok(());
    };
    if family.client_id != caller {
        return Err(OAuthError::unauthorized_client(
            "the token was not issued to this client",
        ));
    }
    let revoked = state
        .store
        .revoke_families(Some(&family.id), None, None, now())
        .await?;
    state.store.revoke_access_tokens(&revoked).await?;
    state.audit(AuditEvent {
        id: 0,
        at: now(),
        actor: caller.to_owned(),
        action: "token.revoke".into(),
        target: family.id.clone(),
        before: None,
        after: Some(serde_json::json!({ "refresh_family": family.id, "revoked_access_tokens": revoked.len() })),
        remote_addr: Some(remote.to_string()),
    });
    Ok(())
}
