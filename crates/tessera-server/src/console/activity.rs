//! What the token endpoint did in the last hour, for the console's overview: tokens issued and
//! failed client authentications (`invalid_client`) per grant type and minute, counted in memory
//! by this instance (lost at restart; other instances count their own). Recording is a few
//! relaxed atomic operations, nothing on the token path waits.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use tessera_proto::GrantType;

/// Minutes kept.
pub const MINUTES: usize = 60;

const GRANTS: usize = GrantType::ALL.len();

/// One minute's counts.
struct Minute {
    /// The minute (seconds since the epoch / 60) the counts belong to.
    stamp: AtomicI64,
    issued: [AtomicU64; GRANTS],
    failed: [AtomicU64; GRANTS],
}

impl Minute {
    fn new() -> Self {
        Self {
            stamp: AtomicI64::new(-1),
            issued: std::array::from_fn(|_| AtomicU64::new(0)),
            failed: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }
}

/// The last hour of token endpoint outcomes, per minute and grant type.
pub struct Activity {
    minutes: Vec<Minute>,
}

impl std::fmt::Debug for Activity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Activity").finish_non_exhaustive()
    }
}

impl Default for Activity {
    fn default() -> Self {
        Self {
            minutes: (0..MINUTES).map(|_| Minute::new()).collect(),
        }
    }
}

/// One grant type's counts over the hour, oldest minute first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Series {
    /// The grant type.
    pub grant: GrantType,
    /// Tokens issued per minute.
    pub issued: Vec<u64>,
    /// Failed client authentications per minute.
    pub failed: Vec<u64>,
}

impl Activity {
    /// Counts one answer of the token endpoint at `now` (seconds): a token issued, or a failed
    /// client authentication; anything else, and a request without a known grant type, is not
    /// counted.
    pub fn record(&self, now: i64, grant: Option<GrantType>, issued: bool, failed_auth: bool) {
        let Some(g) = grant.and_then(|grant| GrantType::ALL.iter().position(|g| *g == grant))
        else {
            return;
        };
        if !issued && !failed_auth {
            return;
        }
        let minute = now.div_euclid(60);
        let slot = &self.minutes[minute.rem_euclid(MINUTES as i64) as usize];
        let seen = slot.stamp.load(Ordering::Acquire);
        if seen != minute
            && slot
                .stamp
                .compare_exchange(seen, minute, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        {
            // This minute's first answer clears what the slot held an hour (or more) ago. An
            // answer counted in between by another thread may be lost: the chart is a view, not
            // an account.
            for c in slot.issued.iter().chain(slot.failed.iter()) {
                c.store(0, Ordering::Relaxed);
            }
        }
        let counter = if issued {
            &slot.issued[g]
        } else {
            &slot.failed[g]
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// The last [`MINUTES`] minutes up to and including the one of `now`, per grant type.
    pub fn last_hour(&self, now: i64) -> Vec<Series> {
        let current = now.div_euclid(60);
        GrantType::ALL
            .iter()
            .enumerate()
            .map(|(g, grant)| {
                let mut issued = Vec::with_capacity(MINUTES);
                let mut failed = Vec::with_capacity(MINUTES);
                for back in (0..MINUTES as i64).rev() {
                    let minute = current - back;
                    let slot = &self.minutes[minute.rem_euclid(MINUTES as i64) as usize];
                    let live = slot.stamp.load(Ordering::Acquire) == minute;
                    issued.push(if live {
                        slot.issued[g].load(Ordering::Relaxed)
                    } else {
                        0
                    });
                    failed.push(if live {
                        slot.failed[g].load(Ordering::Relaxed)
                    } else {
                        0
                    });
                }
                Series {
                    grant: *grant,
                    issued,
                    failed,
                }
            })
            .collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_minute_and_forgets_after_an_hour() {
        let a = Activity::default();
        let t = 1_700_000_000;
        a.record(t, Some(GrantType::ClientCredentials), true, false);
        a.record(t, Some(GrantType::ClientCredentials), true, false);
        a.record(t, Some(GrantType::ClientCredentials), false, true);
        a.record(t - 60, Some(GrantType::RefreshToken), true, false);
        a.record(t, None, true, false);
        a.record(t, Some(GrantType::Password), false, false);
        let h = a.last_hour(t);
        let cc = &h[0];
        assert_eq!(cc.grant, GrantType::ClientCredentials);
        assert_eq!((cc.issued[59], cc.failed[59]), (2, 1));
        let rt = h
            .iter()
            .find(|s| s.grant == GrantType::RefreshToken)
            .unwrap();
        assert_eq!(rt.issued[58], 1);
        assert!(h.iter().all(|s| s.issued.len() == MINUTES));
        let pw = h.iter().find(|s| s.grant == GrantType::Password).unwrap();
        assert_eq!(
            pw.issued.iter().sum::<u64>() + pw.failed.iter().sum::<u64>(),
            0
        );
        // An hour on, the same slot is reused and the old minute is gone.
        let later = t + 3600;
        assert!(
            a.last_hour(later)
                .iter()
                .all(|s| s.issued.iter().sum::<u64>() == 0)
        );
        a.record(later, Some(GrantType::ClientCredentials), true, false);
        assert_eq!(a.last_hour(later)[0].issued[59], 1);
    }
}
