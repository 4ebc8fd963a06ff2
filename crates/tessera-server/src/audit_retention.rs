//! How long the audit log keeps its events (`[audit]`), and the housekeeping that deletes the
//! older ones.
//!
//! Failures (`client.auth_failed`, `user.login_failed`, `user.password_change_failed`: every
//! action ending in `_failed`) come from anyone who can reach the server, one row per attempt, so
//! they have a limit of their own; the other events (changes, sign-ins, detected replays) are kept
//! for as long as `retention_secs` says, for ever by default. Rows are deleted a batch at a time,
//! so that a large backlog never holds the database for long.

use crate::model::now;
use crate::store::{Store, StoreError};
use serde::{Deserialize, Serialize};

/// `[audit]`: how long audit events are kept.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditConfig {
    /// Seconds every audit event is kept; `0` keeps them for ever. Default `0`.
    #[serde(deserialize_with = "tessera_proto::duration::secs::deserialize")]
    pub retention_secs: u64,
    /// Seconds a failure (an action ending in `_failed`) is kept; `0`: as long as the other
    /// events. Default 7,776,000 (90 days).
    #[serde(deserialize_with = "tessera_proto::duration::secs::deserialize")]
    pub failure_retention_secs: u64,
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self {
            retention_secs: 0,
            failure_retention_secs: 90 * 24 * 3600,
        }
    }
}

/// Rows deleted per statement.
pub const PURGE_BATCH: i64 = 10_000;

/// The times before which events are deleted (seconds since the epoch), every event and
/// failures; `None` where nothing is deleted.
fn cutoffs(config: &AuditConfig, t: i64) -> (Option<i64>, Option<i64>) {
    let before =
        |secs: u64| (secs > 0).then(|| t.saturating_sub(i64::try_from(secs).unwrap_or(i64::MAX)));
    (
        before(config.retention_secs),
        before(config.failure_retention_secs),
    )
}

/// Deletes from `store` the audit events older than `config` keeps them; returns how many.
pub async fn purge(store: &Store, config: &AuditConfig) -> Result<u64, StoreError> {
    let (all, failures) = cutoffs(config, now());
    let mut n = 0;
    if let Some(before) = all {
        n += store.purge_audit(before, false, PURGE_BATCH).await?;
    }
    if let Some(before) = failures {
        n += store.purge_audit(before, true, PURGE_BATCH).await?;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_keeps_for_ever() {
        let c = AuditConfig {
            retention_secs: 0,
            failure_retention_secs: 0,
        };
        assert_eq!(cutoffs(&c, 1_000_000), (None, None));
        let c = AuditConfig::default();
        assert_eq!(
            cutoffs(&c, 10_000_000),
            (None, Some(10_000_000 - 7_776_000))
        );
        let c = AuditConfig {
            retention_secs: u64::MAX,
            failure_retention_secs: 60,
        };
        assert_eq!(cutoffs(&c, 100), (Some(100 - i64::MAX), Some(40)));
    }
}
