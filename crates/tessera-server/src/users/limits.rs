//! Limits on guessing: failed sign-ins per (username, address) and per address, wrong user codes
//! per address. Only failures and attempts while blocked count; see [`crate::ratelimit`].

use crate::config::Config;
use crate::ratelimit::{FailureLimiter, SourceLimits};
use std::net::IpAddr;

/// The limiters of the flows with people.
#[derive(Debug)]
pub struct GuessLimits {
    /// Failed sign-ins per ((normalised) username, source address) and per source address.
    pub logins: SourceLimits,
    /// Wrong user codes per source address (RFC 8628 §5.1).
    pub user_codes_by_address: FailureLimiter,
}

impl GuessLimits {
    /// Limiters sized by the configuration.
    pub fn new(config: &Config) -> Self {
        Self {
            logins: SourceLimits::per_minute(
                config.users.failed_logins_per_user_and_address_per_minute,
                config.users.failed_logins_per_address_per_minute,
                config.users.failed_logins_per_user_ceiling_per_minute,
            ),
            user_codes_by_address: FailureLimiter::per_minute(
                config.device.failed_user_codes_per_address_per_minute,
            ),
        }
    }

    /// Seconds to wait before another sign-in for `username` from `address`, if blocked (the
    /// attempt counts, keeping the address blocked while it keeps trying).
    pub fn login_blocked(&self, username: &str, address: IpAddr) -> Option<u64> {
        self.logins.blocked(username, address)
    }

    /// Counts a failed sign-in; the seconds to wait when that used up an allowance.
    pub fn login_failed(&self, username: &str, address: IpAddr) -> Option<u64> {
        self.logins.failed(username, address)
    }

    /// Forgets expired state.
    pub fn sweep(&self) {
        self.logins.sweep();
        self.user_codes_by_address.sweep();
    }
}
