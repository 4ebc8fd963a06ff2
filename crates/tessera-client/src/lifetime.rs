//! How long a token is used and when it is refreshed.
//!
//! Lifetime: `expires_in` (RFC 6749 §5.1; a number or a string), else the `exp` claim of a JWT
//! access token (RFC 9068 §2.2, read unverified: the client only uses it as a hint), else a
//! configured default; a configured maximum caps all three.
//!
//! Refresh: ahead of expiry, at a point jittered per token so that many clients do not refresh
//! together, while the current token keeps being served.

use crate::fetch::LifetimeSource;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tessera_jose::UnverifiedJws;

/// Token lifetime rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LifetimePolicy {
    /// Used when the response has no `expires_in` and the token is not a JWT with `exp`.
    /// Default 5 minutes.
    pub default_lifetime: Duration,
    /// No token is kept longer than this, whatever the server says. Default 24 hours.
    pub max_lifetime: Duration,
}

impl Default for LifetimePolicy {
    fn default() -> Self {
        Self {
            default_lifetime: Duration::from_secs(300),
            max_lifetime: Duration::from_secs(24 * 3600),
        }
    }
}

impl LifetimePolicy {
    /// The lifetime of a token and where it came from.
    pub(crate) fn lifetime(
        &self,
        expires_in: Option<u64>,
        access_token: &str,
    ) -> (Duration, LifetimeSource) {
        let (d, source) = if let Some(secs) = expires_in {
            (Duration::from_secs(secs), LifetimeSource::ExpiresIn)
        } else if let Some(d) = jwt_remaining(access_token) {
            (d, LifetimeSource::JwtExp)
        } else {
            (self.default_lifetime, LifetimeSource::Default)
        };
        if d > self.max_lifetime {
            (self.max_lifetime, LifetimeSource::Capped)
        } else {
            (d, source)
        }
    }
}

/// The time left before a JWT's `exp`, read without verifying it.
fn jwt_remaining(token: &str) -> Option<Duration> {
    #[derive(serde::Deserialize)]
    struct Exp {
        exp: Option<f64>,
    }
    let jws = UnverifiedJws::parse(token).ok()?;
    let exp = jws.claims::<Exp>().ok()?.exp?;
    if !exp.is_finite() || exp < 0.0 {
        return None;
    }
    let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?;
    // An `exp` beyond what a `Duration` holds (1e300, 2^64) is as good as never: the longest one,
    // which the lifetime cap then shortens.
    let exp = Duration::try_from_secs_f64(exp).unwrap_or(Duration::MAX);
    Some(exp.saturating_sub(now))
}

/// When a cached token is refreshed and until when it is served.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RefreshPolicy {
    /// Refresh when this fraction of the lifetime remains. Default 0.25.
    pub ahead_fraction: f64,
    /// … but never more than this ahead of expiry. Default 5 minutes.
    pub max_ahead: Duration,
    /// A random extra lead, up to this fraction of the lifetime (capped by `max_ahead`), so that
    /// clients started together do not refresh together. Default 0.1.
    pub jitter_fraction: f64,
    /// Stop serving a token this long before it expires, so that it does not expire in flight
    /// (capped at a tenth of the lifetime). Default 10 s.
    pub expiry_margin: Duration,
}

impl Default for RefreshPolicy {
    fn default() -> Self {
        Self {
            ahead_fraction: 0.25,
            max_ahead: Duration::from_secs(300),
            jitter_fraction: 0.1,
            expiry_margin: Duration::from_secs(10),
        }
    }
}

/// When to refresh and until when to serve a token received at `received` for `lifetime`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Schedule {
    pub(crate) refresh_at: Instant,
    pub(crate) usable_until: Instant,
}

impl RefreshPolicy {
    pub(crate) fn schedule(&self, received: Instant, lifetime: Duration) -> Schedule {
        let margin = self.expiry_margin.min(lifetime / 10);
        let usable = lifetime.saturating_sub(margin);
        let ahead = lifetime
            .mul_f64(self.ahead_fraction.clamp(0.0, 1.0))
            .min(self.max_ahead);
        let jitter_max = lifetime
            .mul_f64(self.jitter_fraction.clamp(0.0, 1.0))
            .min(self.max_ahead);
        let jitter = jitter_max.mul_f64(fastrand::f64());
        let refresh_after = lifetime
            .saturating_sub(ahead)
            .saturating_sub(jitter)
            .min(usable);
        Schedule {
            refresh_at: received + refresh_after,
            usable_until: received + usable,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn lifetime_sources() {
        let p = LifetimePolicy {
            default_lifetime: Duration::from_secs(42),
            max_lifetime: Duration::from_secs(1000),
        };
        assert_eq!(
            p.lifetime(Some(60), "x"),
            (Duration::from_secs(60), LifetimeSource::ExpiresIn)
        );
        assert_eq!(
            p.lifetime(None, "x"),
            (Duration::from_secs(42), LifetimeSource::Default)
        );
        assert_eq!(
            p.lifetime(Some(5000), "x"),
            (Duration::from_secs(1000), LifetimeSource::Capped)
        );
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let key = tessera_jose::SigningKey::hmac(tessera_jose::Algorithm::HS256, b"k").unwrap();
        let jwt = key
            .encode(Some("at+jwt"), &serde_json::json!({"exp": now + 120}))
            .unwrap();
        let (d, s) = p.lifetime(None, &jwt);
        assert_eq!(s, LifetimeSource::JwtExp);
        assert!(
            d <= Duration::from_secs(120) && d >= Duration::from_secs(115),
            "{d:?}"
        );
    }

    #[test]
    fn extreme_exp_values_are_capped_or_ignored() {
        let p = LifetimePolicy {
            default_lifetime: Duration::from_secs(42),
            max_lifetime: Duration::from_secs(1000),
        };
        let key = tessera_jose::SigningKey::hmac(tessera_jose::Algorithm::HS256, b"k").unwrap();
        let with_exp = |exp: &str| {
            let claims: serde_json::Value =
                serde_json::from_str(&format!("{{\"exp\": {exp}}}")).unwrap();
            key.encode(Some("at+jwt"), &claims).unwrap()
        };
        for far in [
            "1e300",
            "18446744073709551615",
            "9223372036854775807",
            "1.7976931348623157e308",
        ] {
            assert_eq!(
                p.lifetime(None, &with_exp(far)),
                (Duration::from_secs(1000), LifetimeSource::Capped),
                "exp {far}"
            );
        }
        for past in ["-9223372036854775808", "-1e300", "0"] {
            let (_, s) = p.lifetime(None, &with_exp(past));
            assert_ne!(s, LifetimeSource::Capped, "exp {past}");
        }
    }

    #[test]
    fn refresh_before_unusable() {
        let p = RefreshPolicy::default();
        let t0 = Instant::now();
        for lifetime in [1u64, 2, 60, 3600, 86400] {
            for _ in 0..50 {
                let s = p.schedule(t0, Duration::from_secs(lifetime));
                assert!(s.refresh_at <= s.usable_until);
                assert!(s.refresh_at > t0);
                assert!(s.usable_until < t0 + Duration::from_secs(lifetime));
            }
        }
        let s = p.schedule(t0, Duration::from_secs(3600));
        assert!(s.refresh_at >= t0 + Duration::from_secs(3600 - 300 - 300));
        assert!(s.refresh_at <= t0 + Duration::from_secs(3600 - 300));
    }
}
