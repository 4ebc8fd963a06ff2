//! `POST /clients/{client_id}/secret`: secret rotation. The new secret is generated and returned
//! once, or imported (given in the body, for a migration; never shown back, and marked as
//! imported until the next rotation to a generated one); the old ones keep working for the grace
//! period asked for (none by default), then stop.

use super::audit::{Actor, record};
use super::clients::{GivenSecret, new_secret, refresh};
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
    /// A secret to import instead of generating one (8 to 512 characters): stored as a keyed
    /// hash, never shown back, and marked as imported until a rotation to a generated secret.
    #[serde(default)]
    #[schema(value_type = Option<String>, min_length = 8, max_length = 512)]
    pub client_secret: Option<SecretString>,
}

/// The answer: the new secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct RotatedSecret {
    /// The client.
    pub client_id: String,
    /// The new secret when it was generated: shown once, never readable again (absent for an
    /// imported one, which the caller already has).
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "expose")]
    #[schema(value_type = Option<String>)]
    pub client_secret: Option<SecretString>,
    /// Whether the new secret was imported rather than generated.
    pub imported: bool,
    /// When the previous secrets stop working (seconds since the epoch).
    pub previous_secrets_expire_at: i64,
}

fn expose<S: serde::Serializer>(s: &Option<SecretString>, ser: S) -> Result<S::Ok, S::Error> {
    match s {
        Some(s) => ser.serialize_str(s.expose_secret()),
        None => ser.serialize_none(),
    }
}

/// Replaces the secret of `client_id` (with `given` when there is one, else a generated one).
pub(crate) async fn rotate_secret(
    state: &AppState,
    actor: &Actor,
    client_id: &str,
    grace_secs: u64,
    given: Option<&GivenSecret>,
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
    if !client.uses_secret() {
        return Err(ApiError::conflict(format!(
            "client {client_id:?} authenticates with {} and has no secret to rotate",
            client.auth_methods_text()
        )));
    }
    let recoverable = client.secret_recoverable();
    let (shown, row) = match given {
        Some(g) => (None, g.row(state, client_id, recoverable)?),
        None => {
            let (s, row) = new_secret(state, client_id, recoverable)?;
            (Some(s), row)
        }
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
        Some(
            json!({ "grace_secs": grace_secs, "previous_secrets_expire_at": old_expire, "imported": row.imported }),
        ),
    )
    .await;
    Ok(RotatedSecret {
        client_id: client_id.to_owned(),
        client_secret: shown,
        imported: row.imported,
        previous_secrets_expire_at: old_expire,
    })
}

/// `POST /clients/{client_id}/secret` with an optional `{"grace_secs": N}`.
#[utoipa::path(
    post,
    path = "/clients/{client_id}/secret",
    operation_id = "rotateClientSecret",
    tag = "clients",
    summary = "Issue a new secret (generated and shown once, or imported); the old ones work for grace_secs more",
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
    let given = body.client_secret.map(GivenSecret::Imported);
    Ok(Json(
        rotate_secret(&state, &auth.actor(), &id, body.grace_secs, given.as_ref()).await?,
    ))
}
