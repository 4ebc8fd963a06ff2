//! Retrying token requests: exponential backoff with jitter on network errors and 5xx, the
//! server's `Retry-After` (RFC 9110 §10.2.3) on 429 (RFC 6585 §4) and 503, and no retry on
//! permanent OAuth errors (`invalid_client`, `invalid_grant`, `unauthorized_client`,
//! `invalid_scope`…, RFC 6749 §5.2).

use crate::Error;
use std::time::{Duration, SystemTime};

/// How a failed token request is retried.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Requests made at most, the first included. Default 4.
    pub max_attempts: u32,
    /// The backoff before the second attempt. Default 200 ms.
    pub initial_backoff: Duration,
    /// The longest backoff. Default 10 s.
    pub max_backoff: Duration,
    /// How much each backoff grows. Default 2.
    pub multiplier: f64,
    /// The longest `Retry-After` honoured: a server asking for more fails the request at once with
    /// [`Error::RateLimited`], carrying the delay. Default 60 s.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(10),
            multiplier: 2.0,
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// No retry at all: one attempt (used by `tessera token validate`, which diagnoses instead).
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The nominal backoff after failed attempt number `attempt` (1-based), before jitter.
    pub fn nominal(&self, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(30);
        let factor = self.multiplier.max(1.0).powi(exp as i32);
        let secs = self.initial_backoff.as_secs_f64() * factor;
        Duration::from_secs_f64(secs.min(self.max_backoff.as_secs_f64()))
    }

    /// The backoff after failed attempt `attempt` with "equal jitter": uniformly between half the
    /// nominal delay and the nominal delay, so that clients that failed together spread out while
    /// each still waits at least half the nominal delay.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let nominal = self.nominal(attempt);
        let half = nominal / 2;
        half + half.mul_f64(fastrand::f64())
    }

    /// What to do after `error` on attempt `attempt`: `None` to give up, `Some(delay)` to retry.
    pub(crate) fn decide(&self, error: &Error, attempt: u32) -> Option<Duration> {
        if attempt >= self.max_attempts {
            return None;
        }
        match error {
            Error::RateLimited { retry_after, .. } => match retry_after {
                Some(d) if *d > self.max_retry_after => None,
                Some(d) => Some(*d),
                None => Some(self.backoff(attempt)),
            },
            Error::Unreachable { .. }
            | Error::Timeout { .. }
            | Error::Transport { .. }
            | Error::Server { .. } => Some(self.backoff(attempt)),
            // RFC 6749 §5.2 codes a server may answer while overloaded.
            Error::OAuth { error, .. } if !error.error.is_permanent() => match error.error {
                tessera_proto::ErrorCode::ServerError
                | tessera_proto::ErrorCode::TemporarilyUnavailable => Some(self.backoff(attempt)),
                _ => None,
            },
            _ => None,
        }
    }
}

/// Parses `Retry-After`: delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_and_caps() {
        let p = RetryPolicy {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(350),
            ..RetryPolicy::default()
        };
        assert_eq!(p.nominal(1), Duration::from_millis(100));
        assert_eq!(p.nominal(2), Duration::from_millis(200));
        assert_eq!(p.nominal(3), Duration::from_millis(350));
        for _ in 0..100 {
            let b = p.backoff(2);
            assert!(b >= Duration::from_millis(100) && b <= Duration::from_millis(200));
        }
    }

    #[test]
    fn retry_after_forms() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(
            parse_retry_after(&later, now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn permanent_errors_are_not_retried() {
        let p = RetryPolicy::default();
        let e = Error::OAuth {
            url: String::new(),
            status: 400,
            error: tessera_proto::ErrorResponse::new(tessera_proto::ErrorCode::InvalidScope, "x"),
            server_clock_offset: None,
        };
        assert_eq!(p.decide(&e, 1), None);
        let e = Error::Server {
            url: String::new(),
            status: 500,
            error: None,
        };
        assert!(p.decide(&e, 1).is_some());
        assert_eq!(p.decide(&e, 4), None);
    }
}
