//! Durations as people write them, in every Tessera setting and on the command line: one grammar,
//! [humantime]'s (`90s`, `15m`, `1h 30m`, `1h30m`, `250ms`, `2days`), plus a bare number, which
//! means seconds (`30`, or `30` as a TOML or JSON number).
//!
//! The serde helpers read a setting from either form; the key the setting sits under is named by
//! the configuration loader's error (figment's `for key …`, TOML's line and column).
//!
//! [humantime]: https://docs.rs/humantime/latest/humantime/fn.parse_duration.html

use serde::de::{self, Deserializer, Visitor};
use std::fmt;
use std::time::Duration;

/// How to write a duration, for error messages.
pub const EXAMPLES: &str = "write it like 90s, 15m, 1h 30m, 2days, or a number of seconds";

/// A duration that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not a duration ({reason}); {EXAMPLES}")]
pub struct DurationError {
    text: String,
    reason: String,
}

/// Reads a duration: a bare number of seconds, or humantime's grammar.
pub fn parse(text: &str) -> Result<Duration, DurationError> {
    let t = text.trim();
    let fail = |reason: String| DurationError {
        text: text.to_owned(),
        reason,
    };
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return t
            .parse::<u64>()
            .map(Duration::from_secs)
            .map_err(|_| fail("too long".into()));
    }
    humantime::parse_duration(t).map_err(|e| fail(e.to_string()))
}

/// Reads a duration in whole seconds (for settings kept as a number of seconds).
pub fn parse_secs(text: &str) -> Result<u64, DurationError> {
    whole_secs(parse(text)?).map_err(|reason| DurationError {
        text: text.to_owned(),
        reason,
    })
}

fn whole_secs(d: Duration) -> Result<u64, String> {
    if d.subsec_nanos() == 0 {
        Ok(d.as_secs())
    } else {
        Err("not a whole number of seconds".into())
    }
}

/// Writes a duration in the grammar [`parse`] reads (`1m 30s`, `250ms`).
pub fn format(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

struct DurationVisitor;

impl Visitor<'_> for DurationVisitor {
    type Value = Duration;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a duration (90s, 15m, 1h 30m, 2days) or a number of seconds")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
        Ok(Duration::from_secs(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
        u64::try_from(v)
            .map(Duration::from_secs)
            .map_err(|_| E::custom(format!("{v} is negative; a duration cannot be")))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
        parse(v).map_err(E::custom)
    }
}

/// `#[serde(deserialize_with = "tessera_proto::duration::deserialize")]` for a `Duration`.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    d.deserialize_any(DurationVisitor)
}

/// `#[serde(serialize_with = "tessera_proto::duration::serialize")]` for a `Duration`: the
/// humantime form, which [`deserialize`] reads back.
pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format(*d))
}

/// The serde helpers for an `Option<Duration>`.
pub mod option {
    use super::DurationVisitor;
    use serde::de::{self, Deserializer, Visitor};
    use std::fmt;
    use std::time::Duration;

    struct OptionVisitor;

    impl<'de> Visitor<'de> for OptionVisitor {
        type Value = Option<Duration>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            DurationVisitor.expecting(f)
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            super::deserialize(d).map(Some)
        }
    }

    /// `#[serde(deserialize_with = "tessera_proto::duration::option::deserialize")]`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        d.deserialize_option(OptionVisitor)
    }

    /// `#[serde(serialize_with = "tessera_proto::duration::option::serialize")]`.
    pub fn serialize<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => super::serialize(d, s),
            None => s.serialize_none(),
        }
    }
}

/// The serde helpers for a setting kept as a whole number of seconds (`u64`), written either as
/// a number or in the duration grammar (`"10m"`).
pub mod secs {
    use serde::de::{self, Deserializer};

    /// `#[serde(deserialize_with = "tessera_proto::duration::secs::deserialize")]`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        let d = super::deserialize(d)?;
        super::whole_secs(d)
            .map_err(|reason| de::Error::custom(format!("{reason}; {}", super::EXAMPLES)))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_form_reads() {
        let s = Duration::from_secs;
        for (text, want) in [
            ("90s", s(90)),
            ("10m", s(600)),
            ("15m", s(900)),
            ("24h", s(86_400)),
            ("7d", s(604_800)),
            ("2days", s(172_800)),
            ("1h30m", s(5400)),
            ("1h 30m", s(5400)),
            ("250ms", Duration::from_millis(250)),
            ("2m", s(120)),
            ("1h", s(3600)),
            ("45", s(45)),
            (" 30s ", s(30)),
        ] {
            assert_eq!(parse(text), Ok(want), "{text}");
        }
        assert_eq!(parse_secs("10m"), Ok(600));
        assert!(parse_secs("1500ms").is_err());
    }

    #[test]
    fn bad_forms_are_refused_with_the_grammar() {
        for text in ["", "10x", "h", "5m3", "ten", "-5s", "99999999999999999999d"] {
            let e = parse(text).unwrap_err().to_string();
            assert!(
                e.contains("is not a duration") && e.contains("90s"),
                "{text}: {e}"
            );
        }
    }

    #[test]
    fn formats_what_it_reads() {
        for d in [
            Duration::from_millis(1500),
            Duration::from_secs(3),
            Duration::from_secs(5400),
        ] {
            assert_eq!(parse(&format(d)), Ok(d));
        }
    }

    #[derive(serde::Deserialize)]
    struct Settings {
        #[serde(deserialize_with = "deserialize")]
        timeout: Duration,
        #[serde(default, deserialize_with = "option::deserialize")]
        leeway: Option<Duration>,
        #[serde(deserialize_with = "secs::deserialize")]
        lifetime_secs: u64,
    }

    #[test]
    fn serde_reads_numbers_and_text() {
        let v: Settings =
            serde_json::from_str(r#"{"timeout": 30, "leeway": "1m 30s", "lifetime_secs": "10m"}"#)
                .unwrap();
        assert_eq!(v.timeout, Duration::from_secs(30));
        assert_eq!(v.leeway, Some(Duration::from_secs(90)));
        assert_eq!(v.lifetime_secs, 600);
        let v: Settings =
            serde_json::from_str(r#"{"timeout": "250ms", "lifetime_secs": 600}"#).unwrap();
        assert_eq!(v.timeout, Duration::from_millis(250));
        assert_eq!(v.leeway, None);
        let e = serde_json::from_str::<Settings>(r#"{"timeout": "5x", "lifetime_secs": 1}"#)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("\"5x\" is not a duration"), "{e}");
        let e = serde_json::from_str::<Settings>(r#"{"timeout": 1, "lifetime_secs": "1500ms"}"#)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("whole number of seconds"), "{e}");
    }
}
