//! The verified-token cache: a token already checked within its lifetime costs a SHA-256 and a
//! hash-map look-up instead of a signature check or an RFC 7662 introspection call.
//!
//! Keys are the SHA-256 of the token (so the cache holds no usable token), values the verified
//! claims or a refusal, each with the Unix time it stops being valid. The size is bounded:
//! a full shard first drops expired entries, then an eighth of its entries.

use crate::error::TokenError;
use crate::token::VerifiedToken;
use aws_lc_rs::digest;
use parking_lot::RwLock;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};

/// The SHA-256 of a token.
#[derive(Clone, Copy, PartialEq, Eq)]
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

impl Hash for TokenHash {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // The bytes are already uniformly distributed: the first eight are the hash.
        let mut first = [0u8; 8];
        first.copy_from_slice(&self.0[..8]);
        state.write_u64(u64::from_le_bytes(first));
    }
}

/// A hasher that passes a SHA-256 prefix through unchanged.
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type Shard = HashMap<TokenHash, Entry, BuildHasherDefault<PassThrough>>;

/// What is remembered about a token.
#[derive(Clone)]
pub(crate) enum Cached {
    /// Verified (by signature or by an active introspection answer).
    Active(VerifiedToken),
    /// Refused by introspection (not active, wrong audience…): reused briefly.
    Refused(TokenError),
}

struct Entry {
    expires_at: i64,
    value: Cached,
}

/// A bounded, sharded map from token hash to verification result.
pub(crate) struct TokenCache {
    shards: Box<[RwLock<Shard>]>,
    mask: usize,
    per_shard: usize,
}

impl TokenCache {
    /// A cache of about `capacity` entries (0: nothing is cached).
    pub(crate) fn new(capacity: usize) -> Self {
        let shards: usize = if capacity >= 1024 { 16 } else { 1 };
        let per_shard = capacity.div_ceil(shards);
        Self {
            shards: (0..shards).map(|_| RwLock::new(Shard::default())).collect(),
            mask: shards - 1,
            per_shard,
        }
    }

    fn shard(&self, key: &TokenHash) -> &RwLock<Shard> {
        let i = usize::from(key.0[31]) & self.mask;
        // `mask` is `shards.len() - 1` with a power-of-two length, so `i` is in range.
        &self.shards[i]
    }

    /// The remembered result, if it is still valid at `now`.
    #[inline]
    pub(crate) fn get(&self, key: &TokenHash, now: i64) -> Option<Cached> {
        if self.per_shard == 0 {
            return None;
        }
        let shard = self.shard(key).read();
        let e = shard.get(key)?;
        (now < e.expires_at).then(|| e.value.clone())
    }

    /// Remembers a result until `expires_at` (exclusive).
    pub(crate) fn insert(&self, key: TokenHash, value: Cached, expires_at: i64, now: i64) {
        if self.per_shard == 0 || expires_at <= now {
            return;
        }
        let mut shard = self.shard(&key).write();
        if shard.len() >= self.per_shard && !shard.contains_key(&key) {
            shard.retain(|_, e| now < e.expires_at);
            if shard.len() >= self.per_shard {
                let mut drop = (self.per_shard / 8).max(1);
                shard.retain(|_, _| {
                    if drop > 0 {
                        drop -= 1;
                        false
                    } else {
                        true
                    }
                });
            }
        }
        shard.insert(key, Entry { expires_at, value });
    }

    /// Forgets everything (after a signing key disappeared from the JWKS).
    pub(crate) fn clear(&self) {
        for s in self.shards.iter() {
            s.write().clear();
        }
    }

    /// The number of entries, expired ones included.
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| s.read().len()).sum()
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
            assert!(c.len() <= 100);
        }
        let k = TokenHash::of("t999");
        assert!(c.get(&k, 49).is_some());
        assert!(c.get(&k, 50).is_none());
        c.insert(
            TokenHash::of("late"),
            Cached::Refused(TokenError::Inactive),
            60,
            55,
        );
        assert!(c.len() <= 100);
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
    }
}
