//! Signing keys: `GET /keys`, `POST /keys/rotate`, `POST /keys/{kid}/retire`. A rotation publishes
//! the new key `keys.publish_ahead_secs` before it signs; a retired key stays in the JWKS until
//! every token it signed has expired.

use super::audit::record;
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiPath};
use super::permission::{Authorized, KeysRead, KeysWrite};
use crate::keyring::{KeyError, KeyInfo, SIGNING_ALGORITHMS};
use crate::model::{StoredKey, now};
use crate::state::{AppState, SharedState};
use crate::store::changes::Change;
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tessera_jose::Algorithm;
use utoipa::ToSchema;

/// The body of `POST /keys/rotate`; may be empty.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateKeys {
    /// The algorithms to rotate (`ES256`, `RS256`, `EdDSA`); all of them when absent.
    #[serde(default)]
    #[schema(schema_with = crate::admin::openapi::fields::token_algs)]
    pub algs: Option<Vec<String>>,
}

/// The answer of `GET /keys`: every published key.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyList {
    /// The keys, with their state (`next`, `active`, `retired`) and times.
    pub keys: Vec<KeyInfo>,
}

/// The answer of `POST /keys/rotate`.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyRotation {
    /// Every published key, the new ones included.
    #[serde(flatten)]
    pub list: KeyList,
    /// The new keys' ids.
    pub new_kids: Vec<String>,
    /// When they start signing, seconds since the epoch.
    pub activates_at: i64,
}

/// The answer of `POST /keys/{kid}/retire`.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyRetirement {
    /// Every published key.
    #[serde(flatten)]
    pub list: KeyList,
    /// The key that took over signing at once, when the retired key was its algorithm's only
    /// signer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub promoted: Option<String>,
}

fn key_error(e: KeyError) -> ApiError {
    match e {
        KeyError::Store(s) => s.into(),
        other => ApiError::internal(other),
    }
}

fn listing(state: &AppState) -> KeyList {
    KeyList {
        keys: state.keyring.current().rows.clone(),
    }
}

/// `GET /keys`: every published key with its state (`next`, `active`, `retired`) and times.
#[utoipa::path(
    get,
    path = "/keys",
    operation_id = "listKeys",
    tag = "keys",
    summary = "List the signing keys",
    security(("bearer" = ["tessera.keys.read"])),
    responses(
        (status = 200, description = "success", body = KeyList)
    )
)]
pub async fn list(
    _auth: Authorized<KeysRead>,
    State(state): State<SharedState>,
) -> Result<Json<KeyList>, ApiError> {
    state
        .keyring
        .reload(&state.store, &state.keys)
        .await
        .map_err(key_error)?;
    Ok(Json(listing(&state)))
}

/// `POST /keys/rotate`: a new key per algorithm, published now, signing after
/// `keys.publish_ahead_secs`; the keys it replaces retire then.
#[utoipa::path(
    post,
    path = "/keys/rotate",
    operation_id = "rotateKeys",
    tag = "keys",
    summary = "Publish new signing keys that sign after keys.publish_ahead_secs",
    security(("bearer" = ["tessera.keys.write"])),
    request_body = Option<RotateKeys>,
    responses(
        (status = 200, description = "success", body = KeyRotation),
        (status = 400, body = ErrorBody)
    )
)]
pub async fn rotate(
    auth: Authorized<KeysWrite>,
    State(state): State<SharedState>,
    ApiJson(body): ApiJson<RotateKeys>,
) -> Result<Json<KeyRotation>, ApiError> {
    let algs: Vec<Algorithm> = match body.algs {
        None => SIGNING_ALGORITHMS.to_vec(),
        Some(names) if names.is_empty() => {
            return Err(ApiError::invalid(
                "algs may not be empty; leave it out to rotate every algorithm",
            ));
        }
        Some(names) => {
            let mut out = Vec::new();
            for n in names {
                let alg = Algorithm::parse(&n)
                    .ok()
                    .filter(|a| SIGNING_ALGORITHMS.contains(a))
                    .ok_or_else(|| ApiError::invalid(format!("algs: {n:?} is not a signing algorithm of this server (ES256, RS256, EdDSA)")))?;
                if !out.contains(&alg) {
                    out.push(alg);
                }
            }
            out
        }
    };
    let (kids, activates_at) = rotate_keys(&state, &auth.actor(), &algs).await?;
    Ok(Json(KeyRotation {
        list: listing(&state),
        new_kids: kids,
        activates_at,
    }))
}

/// Publishes a new key for each of `algs`, signing after `keys.publish_ahead_secs`, as `actor`,
/// audited as `key.rotate`: the admin API's `POST /keys/rotate` and the console's button. Returns
/// the new key ids and when they start signing.
pub async fn rotate_keys(
    state: &AppState,
    actor: &crate::admin::audit::Actor,
    algs: &[Algorithm],
) -> Result<(Vec<String>, i64), ApiError> {
    let ahead = state.config.keys.publish_ahead_secs as i64;
    let kids = state
        .keyring
        .rotate(
            &state.store,
            &state.keys,
            algs,
            ahead,
            state.config.tokens.max_lifetime_secs as i64,
        )
        .await
        .map_err(key_error)?;
    let activates_at = now() + ahead;
    let target = algs
        .iter()
        .map(|a| a.as_str())
        .collect::<Vec<_>>()
        .join(",");
    record(
        state,
        actor,
        "key.rotate",
        &target,
        None,
        Some(json!({ "kids": kids, "activates_at": activates_at })),
    )
    .await;
    Ok((kids, activates_at))
}

/// `POST /keys/{kid}/retire`: the key stops signing now and leaves the JWKS once the tokens it
/// signed have expired. When it is the only key signing its algorithm, a newer published key of
/// that algorithm takes over at once; without one the request is refused (409): rotate first.
#[utoipa::path(
    post,
    path = "/keys/{kid}/retire",
    operation_id = "retireKey",
    tag = "keys",
    summary = "Stop a key signing; it stays published until its tokens expire",
    security(("bearer" = ["tessera.keys.write"])),
    params(("kid" = String, Path, description = "The key id")),
    responses(
        (status = 200, description = "success", body = KeyRetirement),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)
    )
)]
pub async fn retire(
    auth: Authorized<KeysWrite>,
    State(state): State<SharedState>,
    ApiPath(kid): ApiPath<String>,
) -> Result<Json<KeyRetirement>, ApiError> {
    let promoted = retire_key(&state, &auth.actor(), &kid).await?;
    Ok(Json(KeyRetirement {
        list: listing(&state),
        promoted,
    }))
}

/// Retires the key `kid` now as `actor`, audited as `key.retire`: the admin API's
/// `POST /keys/{kid}/retire` and the console's button. When it was its algorithm's only signer,
/// the newest published key of that algorithm takes over at once (its id is returned); without
/// one the retirement is refused (409: rotate first), as it is for a key already retired or not
/// yet signing.
pub async fn retire_key(
    state: &AppState,
    actor: &crate::admin::audit::Actor,
    kid: &str,
) -> Result<Option<String>, ApiError> {
    let t = now();
    let rows = state.store.list_keys(t).await?;
    let Some(key) = rows.iter().find(|r| r.kid == kid) else {
        return Err(ApiError::not_found(format!(
            "signing key {kid:?} does not exist"
        )));
    };
    if key.retired_at.is_some_and(|r| r <= t) {
        return Err(ApiError::conflict(format!(
            "signing key {kid:?} is already retired"
        )));
    }
    if key.activates_at > t {
        return Err(ApiError::conflict(format!(
            "signing key {kid:?} has not started signing yet (it does in {} s); a rotation cannot be undone, rotate again instead",
            key.activates_at - t
        )));
    }
    let signs_now = |r: &StoredKey| r.activates_at <= t && r.retired_at.is_none_or(|x| x > t);
    let other_signer = rows
        .iter()
        .any(|r| r.kid != kid && r.alg == key.alg && signs_now(r));
    let promote = if other_signer {
        None
    } else {
        // The newest published key of the algorithm that has not started signing takes over.
        let next = rows
            .iter()
            .filter(|r| r.alg == key.alg && r.activates_at > t && r.retired_at.is_none())
            .max_by_key(|r| r.activates_at);
        match next {
            Some(n) => Some(n.kid.clone()),
            None => {
                return Err(ApiError::conflict(format!(
                    "signing key {kid:?} is the only key signing {} tokens: rotate first (POST /admin/api/v1/keys/rotate), then retire it",
                    key.alg
                )));
            }
        }
    };
    let before = json!({ "alg": key.alg, "activates_at": key.activates_at, "retired_at": key.retired_at, "remove_at": key.remove_at });
    let remove_at = t + state.config.tokens.max_lifetime_secs as i64 + 60;
    state
        .store
        .retire_key_now(kid, t, remove_at, promote.as_deref())
        .await
        .map_err(|e| ApiError::from_store(e, || format!("signing key {kid:?}")))?;
    state
        .keyring
        .reload(&state.store, &state.keys)
        .await
        .map_err(key_error)?;
    if let Err(e) = state.store.announce(&state.instance_id, Change::Keys).await {
        tracing::warn!(error = %e, "could not announce a key change; other instances catch up at their next reload");
    }
    let after = json!({ "alg": key.alg, "activates_at": key.activates_at, "retired_at": t, "remove_at": remove_at, "promoted": promote });
    record(state, actor, "key.retire", kid, Some(before), Some(after)).await;
    Ok(promote)
}
