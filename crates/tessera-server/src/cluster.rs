//! Several instances as one server: hearing the others' changes, and rotating keys on schedule
//! on exactly one instance.

use crate::keyring::SIGNING_ALGORITHMS;
use crate::model::now;
use crate::state::SharedState;
use crate::store::changes::{Announcement, Change};
use std::time::Duration;

/// Listens for changes announced by other instances (PostgreSQL) and applies them. After a lost
/// connection it reloads everything, since announcements sent meanwhile are gone.
pub fn spawn_listener(state: SharedState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let mut listener = match state.store.listen().await {
                Ok(Some(l)) => l,
                Ok(None) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for changes; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            // Anything may have changed while we were not listening.
            reload_everything(&state).await;
            loop {
                match listener.try_recv().await {
                    Ok(Some(n)) => apply(&state, n.payload()).await,
                    Ok(None) => {
                        tracing::warn!("lost the change notification connection; reconnecting");
                        break;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "change notification connection failed; reconnecting");
                        tokio::time::sleep(Duration::from_millis(500)).await;
                        break;
                    }
                }
            }
        }
    })
}

async fn reload_everything(state: &SharedState) {
    if let Err(e) = state.registry.reload_all(&state.store, &state.keys).await {
        tracing::warn!(error = %e, "could not reload the registry");
    }
    if let Err(e) = state.keyring.reload(&state.store, &state.keys).await {
        tracing::warn!(error = %e, "could not reload the signing keys");
    }
}

async fn apply(state: &SharedState, payload: &str) {
    let Ok(a) = serde_json::from_str::<Announcement>(payload) else {
        tracing::warn!("ignoring a malformed change notification");
        return;
    };
    if a.origin == state.instance_id {
        return;
    }
    let result = match &a.change {
        Change::Client { id } => state
            .registry
            .refresh_client(&state.store, &state.keys, id)
            .await
            .map_err(|e| e.to_string()),
        Change::Scopes => state
            .registry
            .refresh_scopes(&state.store)
            .await
            .map_err(|e| e.to_string()),
        Change::Keys => state
            .keyring
            .reload(&state.store, &state.keys)
            .await
            .map_err(|e| e.to_string()),
    };
    match result {
        Ok(()) => {
            tracing::debug!(change = ?a.change, origin = %a.origin, "applied a change from another instance")
        }
        Err(e) => {
            tracing::warn!(error = %e, change = ?a.change, "could not apply a change from another instance")
        }
    }
}

const ROTATION_LEASE: &str = "key-rotation";

/// Rotates each algorithm's key when it is older than `keys.rotation_period_secs` less the
/// publication lead, so the successor signs exactly on schedule. One instance at a time holds the
/// rotation lease; the others see the new key through the announcement or their next reload.
pub fn spawn_rotation(state: SharedState) -> Option<tokio::task::JoinHandle<()>> {
    let period = state.config.keys.rotation_period_secs as i64;
    if period == 0 {
        return None;
    }
    Some(tokio::spawn(async move {
        let every = Duration::from_secs(state.config.keys.rotation_check_secs.max(1));
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            if let Err(e) = rotate_if_due(&state, period).await {
                tracing::warn!(error = %e, "automatic key rotation failed; will retry");
            }
        }
    }))
}

/// One rotation check; returns the kids of keys created.
pub async fn rotate_if_due(state: &SharedState, period: i64) -> Result<Vec<String>, String> {
    let ahead = state.config.keys.publish_ahead_secs as i64;
    let due = |rows: &[crate::model::StoredKey], t: i64| -> Vec<tessera_jose::Algorithm> {
        SIGNING_ALGORITHMS
            .iter()
            .copied()
            .filter(|alg| {
                let newest = rows
                    .iter()
                    .filter(|r| r.alg == alg.as_str() && r.retired_at.is_none())
                    .map(|r| r.activates_at.max(r.created_at))
                    .max();
                newest.is_some_and(|n| n + period - ahead <= t)
            })
            .collect()
    };
    let t = now();
    let rows = state.store.list_keys(t).await.map_err(|e| e.to_string())?;
    if due(&rows, t).is_empty() {
        return Ok(vec![]);
    }
    let holder = state.instance_id.as_str();
    if !state
        .store
        .try_lease(ROTATION_LEASE, holder, t, t + 120)
        .await
        .map_err(|e| e.to_string())?
    {
        return Ok(vec![]);
    }
    // Check again under the lease: another instance may have rotated just before.
    let rows = state
        .store
        .list_keys(now())
        .await
        .map_err(|e| e.to_string())?;
    let algs = due(&rows, now());
    let result = if algs.is_empty() {
        Ok(vec![])
    } else {
        tracing::info!(algs = ?algs, "rotating signing keys on schedule");
        state
            .keyring
            .rotate(
                &state.store,
                &state.keys,
                &algs,
                ahead,
                state.config.tokens.max_lifetime_secs as i64,
            )
            .await
            .map_err(|e| e.to_string())
    };
    let _ = state.store.release_lease(ROTATION_LEASE, holder).await;
    result
}
