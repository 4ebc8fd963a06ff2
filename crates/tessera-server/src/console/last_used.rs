//! When each client last got a token, for the console's clients table. The token endpoint
//! records it in memory ([`LastUsed::record`]: a short lock on one of several shards, no
//! allocation for a client already seen since the last flush, nothing written to the database);
//! a background task writes what was recorded to `clients.last_used_at` every
//! `console.last_used_flush_secs` (60 by default) and once more at shutdown ([`flush`]), each
//! row only forward, so that instances never move a time back.

use crate::state::{AppState, SharedState};
use crate::store::StoreError;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::time::Duration;

/// Shards of the map: requests for different clients rarely wait for each other.
const SHARDS: usize = 16;

/// Rows written per transaction.
const BATCH: usize = 500;

/// Clients and when they last got a token, since the last flush.
pub struct LastUsed {
    shards: Vec<Mutex<HashMap<String, i64>>>,
    hasher: RandomState,
}

impl std::fmt::Debug for LastUsed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LastUsed").finish_non_exhaustive()
    }
}

impl Default for LastUsed {
    fn default() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            hasher: RandomState::new(),
        }
    }
}

impl LastUsed {
    fn shard(&self, client_id: &str) -> &Mutex<HashMap<String, i64>> {
        let i = (self.hasher.hash_one(client_id) as usize) % SHARDS;
        &self.shards[i]
    }

    /// Notes that `client_id` got a token at `at` (seconds since the epoch).
    pub fn record(&self, client_id: &str, at: i64) {
        let mut map = self.shard(client_id).lock();
        match map.get_mut(client_id) {
            Some(t) => *t = (*t).max(at),
            None => {
                map.insert(client_id.to_owned(), at);
            }
        }
    }

    /// Everything recorded since the last call, leaving the map empty.
    pub fn take(&self) -> Vec<(String, i64)> {
        let mut all = Vec::new();
        for s in &self.shards {
            let map = std::mem::take(&mut *s.lock());
            all.extend(map);
        }
        all
    }

    /// Puts back what could not be written, keeping the later time where the client was used
    /// again meanwhile.
    fn restore(&self, used: Vec<(String, i64)>) {
        for (client_id, at) in used {
            self.record(&client_id, at);
        }
    }
}

/// Writes the times recorded since the last flush to the database; answers how many rows moved
/// forward. What could not be written is kept for the next flush.
pub async fn flush(state: &AppState) -> Result<u64, StoreError> {
    let used = state.last_used.take();
    let mut moved = 0;
    let mut rest = used.as_slice();
    while !rest.is_empty() {
        let (batch, after) = rest.split_at(rest.len().min(BATCH));
        match state.store.record_clients_last_used(batch).await {
            Ok(n) => moved += n,
            Err(e) => {
                state.last_used.restore(rest.to_vec());
                return Err(e);
            }
        }
        rest = after;
    }
    Ok(moved)
}

/// The background task that flushes every `console.last_used_flush_secs`.
pub fn spawn_flusher(state: SharedState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let every = Duration::from_secs(state.config.console.last_used_flush_secs.max(1));
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The first tick is at once: nothing to write yet.
        tick.tick().await;
        loop {
            tick.tick().await;
            if let Err(e) = flush(&state).await {
                tracing::warn!(error = %e, "could not write when clients last got a token; trying again at the next flush");
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::LastUsed;

    #[test]
    fn keeps_the_latest_time_and_empties_on_take() {
        let l = LastUsed::default();
        l.record("a", 10);
        l.record("a", 5);
        l.record("b", 7);
        let mut all = l.take();
        all.sort();
        assert_eq!(all, [("a".to_owned(), 10), ("b".to_owned(), 7)]);
        assert!(l.take().is_empty());
        l.record("a", 12);
        l.restore(vec![("a".to_owned(), 10)]);
        assert_eq!(l.take(), [("a".to_owned(), 12)]);
    }
}
