//! The time at the start of every log line: RFC 3339 in UTC with microseconds
//! (`2026-11-30T18:50:47.123456Z`). The date and time of day change once a second, so each thread
//! keeps the last second it wrote, formatted, and only the microseconds are written per line.

use std::cell::Cell;
use std::fmt::{self, Write};
use std::time::{SystemTime, UNIX_EPOCH};

/// `YYYY-MM-DDTHH:MM:SS`.
const SECOND_LEN: usize = 19;

thread_local! {
    /// The last whole second written on this thread, and its text.
    static LAST: Cell<(u64, [u8; SECOND_LEN])> = const { Cell::new((u64::MAX, [0; SECOND_LEN])) };
}

/// Writes the current time.
pub(crate) fn write_now(w: &mut impl Write) -> fmt::Result {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    write(w, now.as_secs(), now.subsec_micros())
}

/// Writes `secs` (since the Unix epoch) and `micros` (below a second).
fn write(w: &mut impl Write, secs: u64, micros: u32) -> fmt::Result {
    let (cached, mut text) = LAST.get();
    if cached != secs {
        text = second(secs);
        LAST.set((secs, text));
    }
    // Only ASCII digits and separators went in.
    w.write_str(std::str::from_utf8(&text).unwrap_or("????-??-??T??:??:??"))?;
    let mut frac = *b".000000Z";
    let mut m = micros.min(999_999);
    for slot in frac[1..7].iter_mut().rev() {
        *slot = b'0' + (m % 10) as u8;
        m /= 10;
    }
    w.write_str(std::str::from_utf8(&frac).unwrap_or(".??????Z"))
}

/// `YYYY-MM-DDTHH:MM:SS` for `secs` since the Unix epoch (years past 9999 are written as 9999).
fn second(secs: u64) -> [u8; SECOND_LEN] {
    let days = secs / 86_400;
    let of_day = secs % 86_400;
    let (year, month, day) = civil_date(days);
    let mut out = *b"0000-00-00T00:00:00";
    put(&mut out[0..4], year.min(9999));
    put(&mut out[5..7], month);
    put(&mut out[8..10], day);
    put(&mut out[11..13], of_day / 3600);
    put(&mut out[14..16], of_day / 60 % 60);
    put(&mut out[17..19], of_day % 60);
    out
}

/// Writes `n` in decimal into `slot`, right-aligned and zero-padded.
fn put(slot: &mut [u8], mut n: u64) {
    for b in slot.iter_mut().rev() {
        *b = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

/// The proleptic Gregorian (year, month, day) of `days` since 1970-01-01, counted in 400-year
/// eras of 146,097 days that start on 1 March, so the leap day is the last of its year.
fn civil_date(days: u64) -> (u64, u64, u64) {
    // 719,468 days from 0000-03-01 to 1970-01-01.
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    // Months counted from March: 0 = March … 11 = February.
    let m = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * m + 2) / 5 + 1;
    let month = if m < 10 { m + 3 } else { m - 9 };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(secs: u64, micros: u32) -> String {
        let mut s = String::new();
        write(&mut s, secs, micros).unwrap_or_default();
        s
    }

    #[test]
    fn dates_and_times_match_the_calendar() {
        // Expected values from Python's datetime.
        for (secs, expected) in [
            (0, "1970-01-01T00:00:00"),
            (951_782_400, "2000-02-29T00:00:00"),
            (951_868_799, "2000-02-29T23:59:59"),
            (1_709_164_800, "2024-02-29T00:00:00"),
            (1_798_675_199, "2026-12-30T23:59:59"),
            (4_102_444_800, "2100-01-01T00:00:00"),
            (253_402_300_799, "9999-12-31T23:59:59"),
        ] {
            assert_eq!(text(secs, 0), format!("{expected}.000000Z"), "{secs}");
        }
    }

    #[test]
    fn microseconds_are_zero_padded_and_the_cached_second_moves_on() {
        assert_eq!(text(0, 42), "1970-01-01T00:00:00.000042Z");
        assert_eq!(text(0, 999_999), "1970-01-01T00:00:00.999999Z");
        assert_eq!(text(1, 7), "1970-01-01T00:00:01.000007Z");
        assert_eq!(text(0, 0), "1970-01-01T00:00:00.000000Z");
    }

    #[test]
    fn every_day_of_four_centuries_follows_the_one_before() {
        // Day by day from 1970 to 2370: each date is the day after the previous one.
        let mut prev = civil_date(0);
        for days in 1..146_097 {
            let (y, m, d) = civil_date(days);
            let (py, pm, pd) = prev;
            let next_day = (y, m, d) == (py, pm, pd + 1);
            let next_month = (y, m, d) == (py, pm + 1, 1);
            let next_year = (y, m, d) == (py + 1, 1, 1) && (pm, pd) == (12, 31);
            assert!(
                next_day || next_month || next_year,
                "{prev:?} → {:?}",
                (y, m, d)
            );
            if next_month {
                let leap = (py % 4 == 0 && py % 100 != 0) || py % 400 == 0;
                let len = match pm {
                    2 if leap => 29,
                    2 => 28,
                    4 | 6 | 9 | 11 => 30,
                    _ => 31,
                };
                assert_eq!(pd, len, "{py}-{pm} ended on day {pd}");
            }
            prev = (y, m, d);
        }
    }
}
