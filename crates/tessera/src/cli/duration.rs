//! Durations and times shown to people: `1h30m`, and UTC times (`2025-01-31 12:00:00Z`).
//! Durations given on the command line are read by [`tessera_proto::duration`], the grammar of
//! every Tessera setting.

pub(crate) use tessera_proto::duration::parse_secs;

/// A duration in seconds, short and readable: `90s`, `10m`, `1h30m`, `7d`.
pub(crate) fn format_secs(mut secs: u64) -> String {
    if secs == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    for (unit, len) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] {
        if secs >= len {
            out.push_str(&format!("{}{unit}", secs / len));
            secs %= len;
        }
    }
    out
}

/// Seconds since the epoch as a UTC date and time.
pub(crate) fn format_time(t: i64) -> String {
    let days = t.div_euclid(86_400);
    let rem = t.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        // Every form docs/cli.md shows.
        assert_eq!(parse_secs("90s"), Ok(90));
        assert_eq!(parse_secs("10m"), Ok(600));
        assert_eq!(parse_secs("24h"), Ok(86_400));
        assert_eq!(parse_secs("7d"), Ok(604_800));
        assert_eq!(parse_secs("1h30m"), Ok(5400));
        assert_eq!(parse_secs("1h 30m"), Ok(5400));
        assert_eq!(parse_secs("2days"), Ok(172_800));
        assert_eq!(parse_secs("45"), Ok(45));
        for bad in ["10x", "h", "5m3", "", "soon", "99999999999999999999d"] {
            assert!(parse_secs(bad).is_err(), "{bad}");
        }
        assert_eq!(format_secs(5400), "1h30m");
        assert_eq!(format_secs(600), "10m");
    }

    #[test]
    fn times() {
        assert_eq!(format_time(0), "1970-01-01 00:00:00Z");
        assert_eq!(format_time(951_782_400), "2000-02-29 00:00:00Z");
        assert_eq!(format_time(1_700_000_000), "2023-11-14 22:13:20Z");
    }
}
