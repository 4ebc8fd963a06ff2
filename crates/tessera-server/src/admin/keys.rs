//! Signing keys: `GET /keys`, `POST /keys/rotate`, `POST /keys/{kid}/retire`. A rotation publishes
//! the new key `keys.publish_ahead_secs` before it signs; a retired key stays in the JWKS until
//! every token it signed has expired.

use super::audit::record;
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath};
use super::permission::{Authorized, KeysRead, KeysWrite};
use crate::keyring::{KeyError, SIGNING_ALGORITHMS};
use crate::model::{StoredKey, now};
use crate::state::{AppState, SharedState};
use crate::store::changes::Change;
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};
use tessera_jose::Algorithm;

/// The body of `POST /keys/rotate`; may be empty.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotateKeys {
    /// The algorithms to rotate (`ES256`, `RS256`, `EdDSA`); all of them when absent.
    #[serde(default)]
    pub algs: Option<Vec<String>>,
}

fn key_error(e: KeyError) -> ApiError {
    match e {
        KeyError::Store(s) => s.into(),
        other => ApiError::internal(other),
    }
}

fn listing(state: &AppState) -> Value {
    json!({ "keys": state.keyring.current().rows })
}

/// `GET /keys`: every published key with its state (`next`, `active`, `retired`) and times.
pub async fn list(
    _auth: Authorized<KeysRead>,
    State(state): State<SharedState>,
) -> Result<Json<Value>, ApiError> {
    state
        .keyring
        .reload(&state.store, &state.keys)
        .await
        .map_err(key_error)?;
    Ok(Json(listing(&state)))
}

/// `POST /keys/rotate`: a new key per algorithm, published now, signing after
/// `keys.publish_ahead_secs`; the keys it replaces retire then.
pub async fn rotate(
    auth: Authorized<KeysWrite>,
    State(state): State<SharedState>,
    ApiJson(body): ApiJson<RotateKeys>,
) -> Result<Json<Value>, ApiError> {
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
    let ahead = state.config.keys.publish_ahead_secs as i64;
    let kids = state
        .keyring
        .rotate(
            &state.store,
            &state.keys,
            &algs,
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
        &state,
        &auth.actor(),
        "key.rotate",
        &target,
        None,
        Some(json!({ "kids": kids, "activates_at": activates_at })),
    )
    .await;
    let mut v = listing(&state);
    if let Some(o) = v.as_object_mut() {
        o.insert("new_kids".into(), json!(kids));
        o.insert("activates_at".into(), json!(activates_at));
    }
    Ok(Json(v))
}

/// `POST /keys/{kid}/retire`: the key stops signing now and leaves the JWKS once the tokens it
/// signed have expired. When it is the only key signing its algorithm, a newer published key of
/// that algorithm takes over at once; without one the request is refused (409): rotate first.
pub async fn retire(
    auth: Authorized<KeysWrite>,
    State(state): State<SharedState>,
    ApiPath(kid): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
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
        .retire_key_now(&kid, t, remove_at, promote.as_deref())
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
    record(
        &state,
        &auth.actor(),
        "key.retire",
        &kid,
        Some(before),
        Some(after),
    )
    .await;
    let mut v = listing(&state);
    if let (Some(o), Some(p)) = (v.as_object_mut(), promote) {
        o.insert("promoted".into(), json!(p));
    }
    Ok(Json(v))
}
