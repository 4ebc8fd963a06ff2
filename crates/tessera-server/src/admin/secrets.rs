//! `POST /clients/{client_id}/secret`: secret rotation. The new secret is returned once; the old
//! ones keep working for the grace period asked for (none by default), then stop.

use super::audit::{Actor, record};
use super::clients::{new_secret, refresh};
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiPath};
use super::permission::{Authorized, ClientsWrite};
use crate::model::now;
use crate::state::{AppState, SharedState};
use axum::Json;
use axum::extract::State;
use secrecy::ExposeSecret;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

/// The longest grace period: 30 days.
pub const MAX_GRACE_SECS: u64 = 30 * 24 * 3600;

/// The body of `POST /clients/{client_id}/secret`; may be empty.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateSecret {
    /// Seconds the previous secrets keep working; 0 (the default) stops them at once.
    #[serde(default)]
    #[schema(maximum = 2_592_000, default = 0)]
    pub grace_secs: u64,
}

/// The answer: the new secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct RotatedSecret {
    /// The client.
    pub client_id: String,
    /// The new secret: shown once, never readable again.
    #[serde(serialize_with = "expose")]
    #[schema(value_type = String)]
    pub client_secret: SecretString,
    /// When the previous secrets stop working (seconds since the epoch).
    pub previous_secrets_expire_at: i64,
}

fn expose<S: serde::Serializer>(s: &SecretString, ser: S) -> Result<S::Ok, S::Error> {
    ser.serialize_str(s.expose_secret())
}

/// Replaces the secret of `client_id` (with `plain` when given, else a generated one).
pub(crate) async fn rotate_secret(
    state: &AppState,
    actor: &Actor,
    client_id: &str,
    grace_secs: u64,
    plain: Option<&SecretString>,
) -> Result<RotatedSecret, ApiError> {
    if grace_secs > MAX_GRACE_SECS {
        return Err(ApiError::invalid(format!(
            "grace_secs may be at most {MAX_GRACE_SECS} (30 days)"
        )));
    }
    let client = state
        .store
        .get_client(client_id)
        .await
        .map_err(|e| ApiError::from_store(e, || format!("client {client_id:?}")))?;
    let method = client.token_endpoint_auth_method;
    if !method.uses_secret() {
        return Err(ApiError::conflict(format!(
            "client {client_id:?} authenticates with {method} and has no secret to rotate"
        )));
    }
    let (shown, row) = match plain {
        Some(p) => (
            p.clone(),
            crate::client_secret::stored(&state.keys, client_id, method, p.expose_secret())
                .map_err(ApiError::internal)?,
        ),
        None => new_secret(state, client_id, method)?,
    };
    let old_expire = now() + grace_secs as i64;
    state
        .store
        .replace_client_secret(&row, old_expire)
        .await
        .map_err(|e| ApiError::from_store(e, || format!("client {client_id:?}")))?;
    refresh(state, client_id).await;
    record(
        state,
        actor,
        "client.secret_rotate",
        client_id,
        None,
        Some(json!({ "grace_secs": grace_secs, "previous_secrets_expire_at": old_expire })),
    )
    .await;
    Ok(RotatedSecret {
        client_id: client_id.to_owned(),
        client_secret: shown,
        previous_secrets_expire_at: old_expire,
    })
}

/// `POST /clients/{client_id}/secret` with an optional `{"grace_secs": N}`.
#[utoipa::path(
    post,
    path = "/clients/{client_id}/secret",
    operation_id = "rotateClientSecret",
    tag = "clients",
    summary = "Issue a new secret, shown once; the old ones work for grace_secs more",
    security(("bearer" = ["tessera.clients.write"])),
    params(("client_id" = String, Path, description = "The client id, percent-encoded as one path segment (it may hold any printable character)")),
    request_body = Option<RotateSecret>,
    responses(
        (status = 200, description = "success", body = RotatedSecret),
        (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)
    )
)]
pub async fn rotate(
    auth: Authorized<ClientsWrite>,
    State(state): State<SharedState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<RotateSecret>,
) -> Result<Json<RotatedSecret>, ApiError> {
    Ok(Json(
        rotate_secret(&state, &auth.actor(), &id, body.grace_secs, None).await?,
    ))
}
