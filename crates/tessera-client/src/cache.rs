//! The token cache: a moka map from [`CacheKey`] to entries, each entry holding its current token
//! behind an `ArcSwap`, so that reading a cached token takes no lock and writes nothing shared.
//! The map itself is only consulted when a [`crate::TokenSource`] is built (it keeps its entry)
//! or by [`TokenCache::get`].

use crate::singleflight::SingleFlight;
use crate::striped::{FLUSH_EVERY, StripedCounter};
use crate::{AccessToken, CacheKey, SecretString};
use arc_swap::ArcSwapOption;
use moka::sync::Cache;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// A token in the cache with its schedule.
pub(crate) struct Cached {
    pub(crate) token: AccessToken,
    /// From then on, a hit starts a background refresh.
    pub(crate) refresh_at: Instant,
    /// From then on, the token is not served.
    pub(crate) usable_until: Instant,
    /// Nanoseconds after the entry's epoch before which no background refresh starts
    /// (`u64::MAX` while one runs).
    pub(crate) refresh_gate: AtomicU64,
}

/// One credential's slot in the cache.
pub(crate) struct Entry {
    pub(crate) key: CacheKey,
    pub(crate) state: ArcSwapOption<Cached>,
    pub(crate) flight: SingleFlight,
    /// The refresh token last returned (RFC 6749 §6); kept when the access token is evicted.
    pub(crate) refresh_token: Mutex<Option<SecretString>>,
    pub(crate) hits: StripedCounter,
    hits_counter: metrics::Counter,
    expiry_gauge: metrics::Gauge,
    epoch: Instant,
}

impl Entry {
    fn new(key: CacheKey) -> Self {
        let hits_counter = crate::metrics::hits_counter(key.client_id());
        let expiry_gauge = crate::metrics::expiry_gauge(key.client_id());
        Self {
            key,
            state: ArcSwapOption::empty(),
            flight: SingleFlight::new(),
            refresh_token: Mutex::new(None),
            hits: StripedCounter::new(),
            hits_counter,
            expiry_gauge,
            epoch: Instant::now(),
        }
    }

    /// Nanoseconds from the entry's epoch to `t`.
    pub(crate) fn nanos(&self, t: Instant) -> u64 {
        u64::try_from(t.saturating_duration_since(self.epoch).as_nanos()).unwrap_or(u64::MAX - 1)
    }

    /// Counts a hit; publishes a batch to the metrics recorder every [`FLUSH_EVERY`] hits.
    #[inline]
    pub(crate) fn count_hit(&self) {
        if self.hits.increment() {
            self.hits_counter.increment(FLUSH_EVERY);
            self.publish_expiry();
        }
    }

    /// Sets the seconds-to-expiry gauge from the current token.
    pub(crate) fn publish_expiry(&self) {
        let left = self
            .state
            .load()
            .as_ref()
            .map(|c| c.token.expires_in())
            .unwrap_or(Duration::ZERO);
        self.expiry_gauge.set(left.as_secs_f64());
    }

    /// The current token if it may still be served at `now`.
    pub(crate) fn usable(&self, now: Instant) -> Option<AccessToken> {
        let guard = self.state.load();
        let c = guard.as_ref()?;
        (now < c.usable_until).then(|| c.token.for_this_thread())
    }
}

/// Above this many entries, creating one first drops those no source uses any more.
const PRUNE_ABOVE: u64 = 1024;

/// A token cache shared by any number of [`crate::TokenSource`]s: sources built from equal
/// credentials share one entry, so one token and one fetch at a time. Cheap to clone (a handle).
///
/// The map is moka's (keys placed with a randomly keyed SipHash); each entry holds its own token
/// and schedule. Entries no source uses any more are dropped when the cache holds more than 1024
/// entries and a new one is created, or by [`TokenCache::prune`].
#[derive(Clone)]
pub struct TokenCache {
    map: Cache<CacheKey, Arc<Entry>>,
}

impl Default for TokenCache {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache")
            .field("entries", &self.len())
            .finish()
    }
}

impl TokenCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self {
            map: Cache::builder().build(),
        }
    }

    /// The process-wide cache that sources use unless given another.
    pub fn global() -> &'static TokenCache {
        static GLOBAL: OnceLock<TokenCache> = OnceLock::new();
        GLOBAL.get_or_init(TokenCache::new)
    }

    /// The entry of `key`, created when absent (concurrent creations of one key make one entry).
    pub(crate) fn entry(&self, key: &CacheKey) -> Arc<Entry> {
        if let Some(e) = self.map.get(key) {
            return e;
        }
        if self.map.entry_count() >= PRUNE_ABOVE {
            self.prune();
        }
        self.map
            .get_with_by_ref(key, || Arc::new(Entry::new(key.clone())))
    }

    /// The cached token of `key`, if there is one that may still be served. Sources skip this
    /// look-up by keeping their entry.
    pub fn get(&self, key: &CacheKey) -> Option<AccessToken> {
        let entry = self.map.get(key)?;
        let token = entry.usable(Instant::now());
        if token.is_some() {
            entry.count_hit();
        }
        token
    }

    /// Drops the token cached for `key` (its refresh token too).
    pub fn remove(&self, key: &CacheKey) {
        if let Some(e) = self.map.remove(key) {
            e.state.store(None);
            *e.refresh_token.lock() = None;
        }
    }

    /// Drops the entries that no source uses any more.
    pub fn prune(&self) {
        for (key, entry) in &self.map {
            // One reference is the map's and one is `entry` itself: any other is a source's.
            if Arc::strong_count(&entry) <= 2 {
                self.map.invalidate(&*key);
            }
        }
        self.map.run_pending_tasks();
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.map.run_pending_tasks();
        usize::try_from(self.map.entry_count()).unwrap_or(usize::MAX)
    }

    /// Whether the cache has no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Hits served from the entry of `key` so far (exact, unlike the batched metric).
    pub fn hits(&self, key: &CacheKey) -> u64 {
        self.map.get(key).map(|e| e.hits.sum()).unwrap_or(0)
    }
}

impl Cached {
    /// Claims the right to start a background refresh at `now_nanos`: true for exactly one caller
    /// once the gate has passed.
    #[inline]
    pub(crate) fn claim_refresh(&self, now_nanos: u64) -> bool {
        let gate = self.refresh_gate.load(Ordering::Relaxed);
        now_nanos >= gate
            && self
                .refresh_gate
                .compare_exchange(gate, u64::MAX, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
    }
}
