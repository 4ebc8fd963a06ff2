//! Limits on guessing: failed sign-ins per username and per address, wrong user codes per
//! address. Only failures count; see [`crate::ratelimit::FailureLimiter`].

use crate::config::Config;
use crate::ratelimit::FailureLimiter;

/// The limiters of the flows with people.
#[derive(Debug)]
pub struct GuessLimits {
    /// Failed sign-ins per (normalised) username.
    pub logins_by_user: FailureLimiter,
    /// Failed sign-ins per source address.
    pub logins_by_address: FailureLimiter,
    /// Wrong user codes per source address (RFC 8628 §5.1).
    pub user_codes_by_address: FailureLimiter,
}

impl GuessLimits {
    /// Limiters sized by the configuration.
    pub fn new(config: &Config) -> Self {
        Self {
            logins_by_user: FailureLimiter::per_minute(
                config.users.failed_logins_per_user_per_minute,
            ),
            logins_by_address: FailureLimiter::per_minute(
                config.users.failed_logins_per_address_per_minute,
            ),
            user_codes_by_address: FailureLimiter::per_minute(
                config.device.failed_user_codes_per_address_per_minute,
            ),
        }
    }

    /// Seconds to wait before another sign-in for `username` from `address`, if blocked.
    pub fn login_blocked(&self, username: &str, address: &str) -> Option<u64> {
        self.logins_by_user
            .check(username)
            .or_else(|| self.logins_by_address.check(address))
    }

    /// Counts a failed sign-in; the seconds to wait when that used up an allowance.
    pub fn login_failed(&self, username: &str, address: &str) -> Option<u64> {
        let a = self.logins_by_user.record_failure(username);
        let b = self.logins_by_address.record_failure(address);
        a.or(b)
    }

    /// Forgets expired state.
    pub fn sweep(&self) {
        self.logins_by_user.sweep();
        self.logins_by_address.sweep();
        self.user_codes_by_address.sweep();
    }
}
