//! When each client last got a token, for the console's clients table. The token endpoint
//! records it in memory ([`LastUsed::record`]: a short lock, no allocation for a client already
//! seen since the last flush, nothing written to the database); a background task writes what was
//! recorded to `clients.last_used_at` every `console.last_used_flush_secs` (60 by default) and
//! once more at shutdown ([`flush`]), each row only forward, so that instances never move a time
//! back.

use crate::state::{AppState, SharedState};
use crate::store::StoreError;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::time::Duration;

/// Rows written per transaction.
const BATCH: usize = 500;

/// Clients (authenticated ones only: the map never holds an id a caller merely presented) and
/// when they last got a token, since the last flush.
#[derive(Default)]
pub struct LastUsed {
    used: Mutex<HashMap<String, i64>>,
}

impl std::fmt::Debug for LastUsed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LastUsed").finish_non_exhaustive()
    }
}

impl LastUsed {
    /// Notes that `client_id` got a token at `at` (seconds since the epoch).
    pub fn record(&self, client_id: &str, at: i64) {
        let mut map = self.used.lock();
        match map.get_mut(client_id) {
            Some(t) => *t = (*t).max(at),
            None => {
                map.insert(client_id.to_owned(), at);
            }
        }
    }

    /// Everything recorded since the last call, leaving the map empty.
    pub fn take(&self) -> Vec<(String, i64)> {
        std::mem::take(&mut *self.used.lock()).into_iter().collect()
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
