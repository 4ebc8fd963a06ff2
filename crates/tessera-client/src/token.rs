//! An access token as served from the cache (RFC 6749 §1.4, presented per RFC 6750 §2.1).

use crate::SecretString;
use http::HeaderValue;
use secrecy::ExposeSecret;
use std::cell::RefCell;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

/// Numbers the tokens received, so that copies of one token can be told apart from others.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

struct Inner {
    /// The same for every copy of one token from one response (see [`AccessToken::same_as`]).
    id: u64,
    value: SecretString,
    header: HeaderValue,
    scope: Option<String>,
    lifetime: Duration,
    received: Instant,
    expires_at: Instant,
    expires_at_system: SystemTime,
}

/// A Bearer access token. Cheap to clone (one reference count); `Debug` never shows the token.
#[derive(Clone)]
pub struct AccessToken(Arc<Inner>);

impl AccessToken {
    pub(crate) fn new(
        value: SecretString,
        scope: Option<String>,
        lifetime: Duration,
        received: Instant,
    ) -> Option<Self> {
        let mut header =
            HeaderValue::from_str(&format!("Bearer {}", value.expose_secret())).ok()?;
        header.set_sensitive(true);
        Some(Self(Arc::new(Inner {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            value,
            header,
            scope,
            lifetime,
            received,
            expires_at: received + lifetime,
            expires_at_system: SystemTime::now() + lifetime,
        })))
    }

    /// The token itself, for presenting it. Never log what this returns.
    pub fn secret(&self) -> &str {
        self.0.value.expose_secret()
    }

    /// The `Authorization: Bearer …` header value (RFC 6750 §2.1), marked sensitive so that
    /// HTTP libraries redact it.
    pub fn authorization(&self) -> &HeaderValue {
        &self.0.header
    }

    /// The scope the server granted, when it said (RFC 6749 §5.1).
    pub fn scope(&self) -> Option<&str> {
        self.0.scope.as_deref()
    }

    /// The lifetime the client gave this token (see [`crate::LifetimePolicy`]).
    pub fn lifetime(&self) -> Duration {
        self.0.lifetime
    }

    /// When the token expires.
    pub fn expires_at(&self) -> Instant {
        self.0.expires_at
    }

    /// When the token expires, on the wall clock.
    pub fn expires_at_system(&self) -> SystemTime {
        self.0.expires_at_system
    }

    /// When the response that carried it was received.
    pub fn received_at(&self) -> Instant {
        self.0.received
    }

    /// The time left before expiry.
    pub fn expires_in(&self) -> Duration {
        self.0.expires_at.saturating_duration_since(Instant::now())
    }

    /// Whether two handles are the same token from the same response (what compare-and-evict
    /// compares).
    pub fn same_as(&self, other: &AccessToken) -> bool {
        self.0.id == other.0.id
    }

    /// This token as a handle owned by the calling thread: a copy made once per thread and then
    /// shared only within it, so that a cache hit on several threads at once writes no memory
    /// that another thread reads (a shared reference count would be such a write).
    pub(crate) fn for_this_thread(&self) -> AccessToken {
        THREAD_COPIES.with(|copies| {
            let Ok(mut copies) = copies.try_borrow_mut() else {
                return self.clone();
            };
            if let Some(copy) = copies.iter().flatten().find(|c| c.same_as(self)) {
                return copy.clone();
            }
            let copy = self.deep_copy();
            copies.rotate_right(1);
            copies[0] = Some(copy.clone());
            copy
        })
    }

    fn deep_copy(&self) -> AccessToken {
        let i = &self.0;
        // A new header value too: a clone would share (and count references to) the same bytes.
        let mut header =
            HeaderValue::from_bytes(i.header.as_bytes()).unwrap_or_else(|_| i.header.clone());
        header.set_sensitive(true);
        AccessToken(Arc::new(Inner {
            id: i.id,
            value: i.value.clone(),
            header,
            scope: i.scope.clone(),
            lifetime: i.lifetime,
            received: i.received,
            expires_at: i.expires_at,
            expires_at_system: i.expires_at_system,
        }))
    }
}

/// How many tokens (credentials) each thread keeps a copy of; older copies are dropped.
const THREAD_COPIES_KEPT: usize = 4;

thread_local! {
    static THREAD_COPIES: RefCell<[Option<AccessToken>; THREAD_COPIES_KEPT]> =
        const { RefCell::new([const { None }; THREAD_COPIES_KEPT]) };
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("token", &"[redacted]")
            .field("scope", &self.0.scope)
            .field("lifetime", &self.0.lifetime)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn token(v: &str) -> AccessToken {
        AccessToken::new(
            SecretString::from(v.to_owned()),
            None,
            Duration::from_secs(60),
            Instant::now(),
        )
        .unwrap()
    }

    #[test]
    fn each_thread_gets_its_own_copy_of_the_same_token() {
        let t = token("abc");
        let here = t.for_this_thread();
        let again = t.for_this_thread();
        assert!(Arc::ptr_eq(&here.0, &again.0), "one copy per thread");
        assert!(!Arc::ptr_eq(&here.0, &t.0));
        let there = std::thread::scope(|s| s.spawn(|| t.for_this_thread()).join().unwrap());
        assert!(
            !Arc::ptr_eq(&here.0, &there.0),
            "another thread has another copy"
        );
        for c in [&here, &there] {
            assert!(c.same_as(&t) && t.same_as(c));
            assert_eq!(c.secret(), "abc");
            assert_eq!(c.authorization(), "Bearer abc");
            assert!(c.authorization().is_sensitive());
            assert_eq!(c.expires_at(), t.expires_at());
        }
        // Another token with the same value is another token.
        let other = token("abc");
        assert!(!other.same_as(&t));
        assert!(!other.for_this_thread().same_as(&here));
    }
}
