//! The verified-token cache: a token already checked within its lifetime costs a SHA-256 and a
//! cache look-up instead of a signature check or an RFC 7662 introspection call.
//!
//! Keys are the SHA-256 of the token (so the cache holds no usable token); the cache is moka's,
//! which places keys with a randomly keyed SipHash (std's `RandomState`), so tokens chosen by a
//! client cannot be made to collide. Values are the verified claims or a refusal, each with the
//! Unix time it stops being valid: an entry is served only before that time (by the guard's
//! clock), and moka drops it then. The size is bounded by moka's `max_capacity`.

use crate::error::TokenError;
use crate::token::VerifiedToken;
use aws_lc_rs::digest;
use moka::Expiry;
use moka::sync::Cache;
use std::time::{Duration, Instant};

/// The SHA-256 of a token.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct TokenHash([u8; 32]);

impl TokenHash {
    /// Hashes a token.
    pub(crate) fn of(token: &str) -> Self {
        let d = digest::digest(&digest::SHA256, token.as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(d.as_ref());
        Self(out)
    }
}

/// What is remembered about a token.
#[derive(Clone)]
pub(crate) enum Cached {
    /// Verified (by signature or by an active introspection answer).
    Active(VerifiedToken),
    /// Refused by introspection (not active, wrong audience…): reused briefly.
    Refused(TokenError),
}

#[derive(Clone)]
struct Entry {
    /// Unix time from which the entry is not served.
    expires_at: i64,
    /// How long moka keeps the entry: `expires_at` less the time it was inserted.
    keep: Duration,
    value: Cached,
}

/// Each entry lives until its own expiry.
struct UntilExpiry;

impl Expiry<TokenHash, Entry> for UntilExpiry {
    fn expire_after_create(&self, _: &TokenHash, e: &Entry, _: Instant) -> Option<Duration> {
        Some(e.keep)
    }

    fn expire_after_update(
        &self,
        _: &TokenHash,
        e: &Entry,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(e.keep)
    }
}

/// A bounded map from token hash to verification result.
pub(crate) struct TokenCache {
    /// `None` when the capacity is 0: nothing is cached.
    cache: Option<Cache<TokenHash, Entry>>,
}

impl TokenCache {
    /// A cache of at most `capacity` entries (0: nothing is cached).
    pub(crate) fn new(capacity: usize) -> Self {
        let cache = (capacity > 0).then(|| {
            Cache::builder()
                .max_capacity(u64::try_from(capacity).unwrap_or(u64::MAX))
                .expire_after(UntilExpiry)
                .build()
        });
        Self { cache }
    }

    /// The remembered result, if it is still valid at `now`.
    #[inline]
    pub(crate) fn get(&self, key: &TokenHash, now: i64) -> Option<Cached> {
        let e = self.cache.as_ref()?.get(key)?;
        (now < e.expires_at).then_some(e.value)
    }

    /// Remembers a result until `expires_at` (exclusive).
    pub(crate) fn insert(&self, key: TokenHash, value: Cached, expires_at: i64, now: i64) {
        let Some(cache) = &self.cache else { return };
        let Ok(left) = u64::try_from(expires_at.saturating_sub(now)) else {
            return;
        };
        if left == 0 {
            return;
        }
        let keep = Duration::from_secs(left);
        cache.insert(
            key,
            Entry {
                expires_at,
                keep,
                value,
            },
        );
    }

    /// Forgets everything (after a signing key disappeared from the JWKS).
    pub(crate) fn clear(&self) {
        if let Some(c) = &self.cache {
            c.invalidate_all();
        }
    }

    /// The number of entries, after pending evictions are applied.
    pub(crate) fn len(&self) -> usize {
        self.cache.as_ref().map_or(0, |c| {
            c.run_pending_tasks();
            usize::try_from(c.entry_count()).unwrap_or(usize::MAX)
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn expires_and_stays_bounded() {
        let c = TokenCache::new(100);
        for i in 0..1000 {
            c.insert(
                TokenHash::of(&format!("t{i}")),
                Cached::Refused(TokenError::Inactive),
                50,
                0,
            );
        }
        assert!(c.len() <= 100, "{}", c.len());
        let k = TokenHash::of("t999");
        c.insert(k, Cached::Refused(TokenError::Inactive), 50, 0);
        assert!(c.get(&k, 49).is_some());
        assert!(c.get(&k, 50).is_none());
        c.insert(
            TokenHash::of("late"),
            Cached::Refused(TokenError::Inactive),
            60,
            55,
        );
        assert!(c.len() <= 100);
        // Already expired: not kept.
        let gone = TokenHash::of("gone");
        c.insert(gone, Cached::Refused(TokenError::Inactive), 10, 20);
        assert!(c.get(&gone, 0).is_none());
        let big = TokenCache::new(2048);
        for i in 0..10_000 {
            big.insert(
                TokenHash::of(&format!("t{i}")),
                Cached::Refused(TokenError::Inactive),
                50,
                0,
            );
        }
        assert!(big.len() <= 2048);
        let off = TokenCache::new(0);
        off.insert(k, Cached::Refused(TokenError::Inactive), 50, 0);
        assert!(off.get(&k, 0).is_none());
        assert_eq!(off.len(), 0);
    }

    #[test]
    fn clear_forgets_everything() {
        let c = TokenCache::new(10);
        let k = TokenHash::of("t");
        c.insert(k, Cached::Refused(TokenError::Inactive), 50, 0);
        assert!(c.get(&k, 0).is_some());
        c.clear();
        assert!(c.get(&k, 0).is_none());
    }
}
