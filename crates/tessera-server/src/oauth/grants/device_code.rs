//! The device code grant's polling (RFC 8628 §3.4, §3.5): `authorization_pending` while the person
//! has not decided, `slow_down` when the device polls faster than its interval (which then grows
//! by 5 seconds), `access_denied`, `expired_token`; an approved device code gives tokens once.

use super::user_tokens::{self, Refresh, UserGrant};
use crate::model::now;
use crate::oauth::error::OAuthError;
use crate::registry::ClientEntry;
use crate::state::AppState;
use crate::store::device::DeviceStatus;
use axum::http::StatusCode;
use std::borrow::Cow;
use tessera_proto::{ErrorCode, FormParams, ScopeSet, TokenResponse};

fn poll_error(code: ErrorCode, d: impl Into<Cow<'static, str>>) -> OAuthError {
    OAuthError {
        code,
        description: d.into(),
        status: StatusCode::BAD_REQUEST,
        retry_after: None,
        basic_challenge: false,
        log_reason: None,
        presented_client: None,
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Answers a device's poll.
pub async fn handle(
    state: &AppState,
    client: &ClientEntry,
    form: &FormParams,
) -> Result<TokenResponse, OAuthError> {
    let device_code = form
        .get("device_code")?
        .ok_or_else(|| OAuthError::invalid_request("the device_code parameter is missing"))?;
    let hash = state.keys.hash(device_code);
    let rec = state
        .store
        .get_device_code(&hash)
        .await?
        .ok_or_else(|| OAuthError::invalid_grant("the device code is invalid"))?;
    if rec.client_id != client.client.client_id {
        return Err(OAuthError::invalid_grant(
            "the device code was issued to another client",
        ));
    }
    if rec.status == DeviceStatus::Used {
        return Err(OAuthError::invalid_grant(
            "the device code was already exchanged for tokens",
        ));
    }
    if rec.expires_at <= now() {
        return Err(poll_error(
            ErrorCode::ExpiredToken,
            "the device code has expired; start over",
        ));
    }
    match rec.status {
        DeviceStatus::Denied => Err(poll_error(
            ErrorCode::AccessDenied,
            "the user denied the request",
        )),
        DeviceStatus::Pending => {
            let t = now_ms();
            let too_fast = rec
                .last_polled_ms
                .is_some_and(|last| t - last < rec.interval_secs * 1000);
            let interval = if too_fast {
                rec.interval_secs + 5
            } else {
                rec.interval_secs
            };
            state.store.record_device_poll(&hash, t, interval).await?;
            if too_fast {
                Err(poll_error(
                    ErrorCode::SlowDown,
                    format!("polling too fast; wait {interval} seconds between requests"),
                ))
            } else {
                Err(poll_error(
                    ErrorCode::AuthorizationPending,
                    "the user has not approved the request yet",
                ))
            }
        }
        DeviceStatus::Approved | DeviceStatus::Used => {
            if !state.store.consume_device_code(&hash).await? {
                return Err(OAuthError::invalid_grant(
                    "the device code was already exchanged for tokens",
                ));
            }
            let user_id = rec
                .user_id
                .ok_or_else(|| OAuthError::server_error("an approved device code has no user"))?;
            let user = user_tokens::active_user(state, &user_id).await?;
            let scope = ScopeSet::parse(&rec.scope)
                .map_err(|e| OAuthError::server_error(format!("stored scope: {e}")))?;
            let aud: Vec<String> = serde_json::from_str(&rec.aud)
                .map_err(|e| OAuthError::server_error(format!("stored audience: {e}")))?;
            let issued = user_tokens::issue(
                state,
                UserGrant {
                    client,
                    user: &user,
                    scope: &scope,
                    aud,
                    auth_time: rec.auth_time.unwrap_or(rec.created_at),
                    nonce: None,
                    refresh: Refresh::StartIfAllowed,
                },
            )
            .await?;
            Ok(issued.response)
        }
    }
}
