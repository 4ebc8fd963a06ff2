//! Limits on failed client authentication, per client id and per source address.
//!
//! Only failures are counted. A key that used up its allowance is refused with 429 and
//! `Retry-After` until the allowance refills; successful requests never touch the limiter's
//! state, and while nothing is blocked the check is one atomic load.

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use parking_lot::Mutex;
use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A limiter of failures keyed by `K`: a client id or user name (`String`, the default), or an
/// address (`IpAddr`, so that checking one costs no formatting).
pub struct FailureLimiter<K: Hash + Eq + Clone = String> {
    limiter: DefaultKeyedRateLimiter<K>,
    blocked: Mutex<HashMap<K, Instant>>,
    blocked_count: AtomicUsize,
}

impl<K: Hash + Eq + Clone> std::fmt::Debug for FailureLimiter<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FailureLimiter")
            .field("blocked", &self.blocked_count.load(Ordering::Relaxed))
            .finish()
    }
}

impl<K: Hash + Eq + Clone> FailureLimiter<K> {
    /// Allows `per_minute` failures per key per minute, as a burst that refills evenly.
    pub fn per_minute(per_minute: u32) -> Self {
        let n = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::per_minute(n).allow_burst(n);
        Self {
            limiter: RateLimiter::keyed(quota),
            blocked: Mutex::new(HashMap::new()),
            blocked_count: AtomicUsize::new(0),
        }
    }

    /// Seconds to wait when `key` is blocked now.
    pub fn check<Q>(&self, key: &Q) -> Option<u64>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        if self.blocked_count.load(Ordering::Relaxed) == 0 {
            return None;
        }
        let now = Instant::now();
        let mut map = self.blocked.lock();
        match map.get(key) {
            Some(until) if *until > now => Some((*until - now).as_secs().max(1)),
            Some(_) => {
                map.remove(key);
                self.blocked_count.store(map.len(), Ordering::Relaxed);
                None
            }
            None => None,
        }
    }

    /// Counts a failure for `key`; returns the seconds to wait when this failure used up the allowance.
    pub fn record_failure<Q>(&self, key: &Q) -> Option<u64>
    where
        Q: ToOwned<Owned = K> + ?Sized,
    {
        let key = key.to_owned();
        match self.limiter.check_key(&key) {
            Ok(()) => None,
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                let wait = wait.max(Duration::from_secs(1));
                let mut map = self.blocked.lock();
                let now = Instant::now();
                map.retain(|_, until| *until > now);
                map.insert(key, now + wait);
                self.blocked_count.store(map.len(), Ordering::Relaxed);
                Some(wait.as_secs().max(1))
            }
        }
    }

    /// Forgets expired state.
    pub fn sweep(&self) {
        self.limiter.retain_recent();
        let now = Instant::now();
        let mut map = self.blocked.lock();
        map.retain(|_, until| *until > now);
        self.blocked_count.store(map.len(), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_allowance() {
        let l = FailureLimiter::per_minute(3);
        assert_eq!(l.check("a"), None);
        assert!(l.record_failure("a").is_none());
        assert!(l.record_failure("a").is_none());
        assert!(l.record_failure("a").is_none());
        assert!(l.record_failure("a").is_some());
        assert!(l.check("a").is_some());
        assert_eq!(l.check("b"), None);
        // Addresses as keys, unformatted.
        let l: FailureLimiter<std::net::IpAddr> = FailureLimiter::per_minute(1);
        let a = std::net::IpAddr::from([10, 0, 0, 1]);
        assert!(l.record_failure(&a).is_none());
        assert!(l.record_failure(&a).is_some());
        assert!(l.check(&a).is_some());
        assert_eq!(l.check(&std::net::IpAddr::from([10, 0, 0, 2])), None);
    }
}
