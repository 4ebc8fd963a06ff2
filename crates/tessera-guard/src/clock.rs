//! The clock the guard reads token times against (`exp`, `nbf`, `iat`: RFC 7519 §4.1.4–4.1.6).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Where the guard reads "now", in seconds since the Unix epoch (RFC 7519 §2 `NumericDate`).
///
/// [`Clock::System`] is the default. [`Clock::manual`] gives a clock that only moves when told,
/// so tests can step over a token's expiry without waiting.
#[derive(Debug, Clone, Default)]
pub enum Clock {
    /// The system clock.
    #[default]
    System,
    /// A clock set by hand; shared by every clone.
    Manual(Arc<AtomicI64>),
}

impl Clock {
    /// A manual clock starting at `now` (seconds since the epoch).
    pub fn manual(now: i64) -> Self {
        Self::Manual(Arc::new(AtomicI64::new(now)))
    }

    /// Seconds since the epoch.
    #[inline]
    pub fn now(&self) -> i64 {
        match self {
            Self::System => system_now(),
            Self::Manual(t) => t.load(Ordering::Relaxed),
        }
    }

    /// Moves a manual clock by `secs` (negative goes back); does nothing to the system clock.
    pub fn advance(&self, secs: i64) {
        if let Self::Manual(t) = self {
            t.fetch_add(secs, Ordering::Relaxed);
        }
    }

    /// Sets a manual clock; does nothing to the system clock.
    pub fn set(&self, now: i64) {
        if let Self::Manual(t) = self {
            t.store(now, Ordering::Relaxed);
        }
    }
}

/// The system time in seconds since the epoch (0 if the system clock is before 1970).
pub(crate) fn system_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
