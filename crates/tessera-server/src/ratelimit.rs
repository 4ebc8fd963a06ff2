//! Limits on failed authentication: [`FailureLimiter`] counts failures per key, and
//! [`SourceLimits`] keys them by the source that fails, not by the account it aims at.
//!
//! A key that used up its allowance is refused with 429 and `Retry-After` until the allowance
//! refills. Every attempt from a blocked key counts: it pushes the end of the block one refill
//! interval further (up to one minute ahead), so a source that keeps trying stays blocked.
//! Successful requests never touch the limiter's state, and while nothing is blocked the check
//! is one atomic load.

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use parking_lot::Mutex;
use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, RandomState};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The longest a block lasts from now, however many attempts a blocked key makes.
const WINDOW: Duration = Duration::from_secs(60);

/// A limiter of failures keyed by `K`: an address (`IpAddr`), or the hash of an (account,
/// address) pair (`u64`, see [`SourceLimits`]), or a name (`String`, the default).
pub struct FailureLimiter<K: Hash + Eq + Clone = String> {
    limiter: DefaultKeyedRateLimiter<K>,
    /// The refill interval: what one attempt made while blocked adds to the block.
    interval: Duration,
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

/// Whole seconds to wait for `d`, at least 1 (the value of `Retry-After`).
fn secs(d: Duration) -> u64 {
    d.as_secs()
        .saturating_add(u64::from(d.subsec_nanos() > 0))
        .max(1)
}

impl<K: Hash + Eq + Clone> FailureLimiter<K> {
    /// Allows `per_minute` failures per key per minute, as a burst that refills evenly.
    pub fn per_minute(per_minute: u32) -> Self {
        let n = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::per_minute(n).allow_burst(n);
        Self {
            limiter: RateLimiter::keyed(quota),
            interval: WINDOW / n.get(),
            blocked: Mutex::new(HashMap::new()),
            blocked_count: AtomicUsize::new(0),
        }
    }

    /// Seconds to wait when `key` is blocked now. An attempt while blocked counts: the block
    /// lasts one refill interval longer (at most [`WINDOW`] from now).
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
        match map.get_mut(key) {
            Some(until) if *until > now => {
                *until = (*until + self.interval).min(now + WINDOW);
                Some(secs(*until - now))
            }
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
                let until = map.entry(key).or_insert(now);
                *until = (*until).max(now + wait).min(now + WINDOW);
                let left = *until - now;
                self.blocked_count.store(map.len(), Ordering::Relaxed);
                Some(secs(left))
            }
        }
    }

    /// Blocks `key` for [`WINDOW`] from now, as if it had used up its allowance at once; the
    /// seconds to wait.
    pub fn block(&self, key: K) -> u64 {
        let now = Instant::now();
        let mut map = self.blocked.lock();
        let until = map.entry(key).or_insert(now);
        *until = now + WINDOW;
        let left = *until - now;
        self.blocked_count.store(map.len(), Ordering::Relaxed);
        secs(left)
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

/// Failures counted per (account, source address) and per source address, where the account is
/// a client id or a username. The account itself is never locked: only the sources failing on it
/// are held back, so failures from one address never refuse a correct credential from another
/// address that has not been failing.
///
/// Against guessing spread over many addresses, an optional ceiling counts an account's failures
/// from all sources together: past it, a source that fails on that account is blocked for a
/// minute at once rather than after its own allowance. It acts only on a failure, so it never refuses a source
/// that is not failing.
///
/// Pairs and accounts are keyed by their hash under a key drawn at random at start: a fixed size
/// whatever the length of the names presented, and collisions no one can aim at. IPv6 sources
/// count per /64 (what one site is usually given) and IPv4-mapped IPv6 addresses as the IPv4
/// address.
#[derive(Debug)]
pub struct SourceLimits {
    by_account_and_source: FailureLimiter<u64>,
    by_source: FailureLimiter<IpAddr>,
    by_account: Option<FailureLimiter<u64>>,
    hasher: RandomState,
}

impl SourceLimits {
    /// Allows `per_account_and_source` failures per minute for each (account, source) and
    /// `per_source` per minute for each source, whatever the account; past `account_ceiling`
    /// failures per minute on one account from all sources (0: no ceiling), a source failing on
    /// it is blocked for a minute at its first failure.
    pub fn per_minute(per_account_and_source: u32, per_source: u32, account_ceiling: u32) -> Self {
        Self {
            by_account_and_source: FailureLimiter::per_minute(per_account_and_source),
            by_source: FailureLimiter::per_minute(per_source),
            by_account: (account_ceiling > 0).then(|| FailureLimiter::per_minute(account_ceiling)),
            hasher: RandomState::new(),
        }
    }

    /// Seconds to wait when `source` may not try `account` now. The attempt counts against
    /// whichever of its keys is blocked, keeping it blocked while it keeps trying.
    pub fn blocked(&self, account: &str, source: IpAddr) -> Option<u64> {
        let source = source_of(source);
        let pair = self
            .by_account_and_source
            .check(&self.pair(account, source));
        let any = self.by_source.check(&source);
        pair.max(any)
    }

    /// Counts a failure of `source` on `account`; the seconds to wait when it used up an allowance.
    pub fn failed(&self, account: &str, source: IpAddr) -> Option<u64> {
        let source = source_of(source);
        let key = self.pair(account, source);
        let mut pair = self.by_account_and_source.record_failure(&key);
        if pair.is_none()
            && let Some(ceiling) = &self.by_account
            && ceiling
                .record_failure(&self.hasher.hash_one(account))
                .is_some()
        {
            pair = Some(self.by_account_and_source.block(key));
        }
        let any = self.by_source.record_failure(&source);
        pair.max(any)
    }

    /// Forgets expired state.
    pub fn sweep(&self) {
        self.by_account_and_source.sweep();
        self.by_source.sweep();
        if let Some(c) = &self.by_account {
            c.sweep();
        }
    }

    fn pair(&self, account: &str, source: IpAddr) -> u64 {
        self.hasher.hash_one((account, source))
    }
}

/// The address a source is counted under: IPv6 per /64, IPv4-mapped IPv6 as IPv4.
pub fn source_of(address: IpAddr) -> IpAddr {
    match address.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6((v6.to_bits() & !u128::from(u64::MAX)).into()),
        v4 => v4,
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
        let l: FailureLimiter<IpAddr> = FailureLimiter::per_minute(1);
        let a = IpAddr::from([10, 0, 0, 1]);
        assert!(l.record_failure(&a).is_none());
        assert!(l.record_failure(&a).is_some());
        assert!(l.check(&a).is_some());
        assert_eq!(l.check(&IpAddr::from([10, 0, 0, 2])), None);
    }

    #[test]
    fn attempts_while_blocked_lengthen_the_block() {
        // 6 a minute: one refills every 10 s.
        let l = FailureLimiter::per_minute(6);
        for _ in 0..6 {
            assert!(l.record_failure("a").is_none());
        }
        let first = l.record_failure("a");
        assert!(first.is_some_and(|w| w <= 10), "{first:?}");
        let mut wait = first;
        for _ in 0..3 {
            let next = l.check("a");
            assert!(next > wait, "{next:?} after {wait:?}");
            wait = next;
        }
        for _ in 0..10 {
            wait = l.check("a");
        }
        assert_eq!(wait, Some(60), "never more than a minute ahead");
    }

    #[test]
    fn one_source_failing_does_not_block_another() {
        let l = SourceLimits::per_minute(2, 100, 0);
        let attacker = IpAddr::from([192, 0, 2, 1]);
        let other = IpAddr::from([192, 0, 2, 2]);
        assert!(l.failed("victim", attacker).is_none());
        assert!(l.failed("victim", attacker).is_none());
        assert!(l.failed("victim", attacker).is_some());
        assert!(l.blocked("victim", attacker).is_some());
        assert_eq!(l.blocked("victim", other), None);
        assert_eq!(l.blocked("bystander", attacker), None);
        // The per-source allowance holds whatever the account.
        let l = SourceLimits::per_minute(100, 2, 0);
        assert!(l.failed("a", attacker).is_none());
        assert!(l.failed("b", attacker).is_none());
        assert!(l.failed("c", attacker).is_some());
        assert!(l.blocked("d", attacker).is_some());
        assert_eq!(l.blocked("a", other), None);
    }

    #[test]
    fn past_the_account_ceiling_a_failing_source_is_blocked_at_once() {
        let l = SourceLimits::per_minute(100, 100, 3);
        let at = |i: u8| IpAddr::from([192, 0, 2, i]);
        for i in 1..=3 {
            assert_eq!(l.failed("victim", at(i)), None);
        }
        assert!(l.failed("victim", at(4)).is_some());
        assert!(l.blocked("victim", at(4)).is_some());
        // A source that does not fail is not refused; another account is not concerned.
        assert_eq!(l.blocked("victim", at(5)), None);
        assert_eq!(l.failed("bystander", at(6)), None);
    }

    #[test]
    fn ipv6_sources_count_per_64() {
        let a: IpAddr = "2001:db8:1:2:3:4:5:6"
            .parse()
            .unwrap_or(IpAddr::from([0; 4]));
        let b: IpAddr = "2001:db8:1:2:ffff::1"
            .parse()
            .unwrap_or(IpAddr::from([0; 4]));
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap_or(IpAddr::from([0; 4]));
        assert_eq!(source_of(a), source_of(b));
        assert_ne!(source_of(a), source_of(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap_or(IpAddr::from([0; 4]));
        assert_eq!(source_of(mapped), IpAddr::from([192, 0, 2, 7]));
    }
}
