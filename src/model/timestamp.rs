//! Times in the function's tags: RFC 3339 UTC with seconds (`2026-12-02T13:40:05Z`), the form
//! the deleted tag (and the restore hint) carry. Readers also accept the date-only form the
//! deleted tag had before (`2026-12-02`, read as 00:00:00Z).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// `YYYY-MM-DDThh:mm:ssZ` (UTC) of `t`.
pub fn rfc3339(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (year, month, day) = civil(secs.div_euclid(86_400) as i64);
    let s = secs % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// `YYYY-MM-DD` (UTC) of `t`: the day the sweep's order and a stuck rotation's report go by.
pub fn utc_date(t: SystemTime) -> String {
    let mut day = rfc3339(t);
    day.truncate(10);
    day
}

/// Reads `YYYY-MM-DDThh:mm:ssZ` (optionally with fractional seconds) or `YYYY-MM-DD`; `None`
/// for anything else, or a time before 1970.
pub fn parse(text: &str) -> Option<SystemTime> {
    let (date, time) = match text.split_once('T') {
        Some((d, t)) => (d, Some(t.strip_suffix('Z')?)),
        None => (text, None),
    };
    let mut ymd = date.splitn(3, '-');
    let year: i64 = number(ymd.next()?, 4)?;
    let month: i64 = number(ymd.next()?, 2)?;
    let day: i64 = number(ymd.next()?, 2)?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    if civil(days) != (year, month, day) {
        return None;
    }
    let mut secs = days.checked_mul(86_400)?;
    if let Some(time) = time {
        let whole = time.split_once('.').map_or(time, |(w, fraction)| {
            if fraction.is_empty() || !fraction.bytes().all(|b| b.is_ascii_digit()) {
                ""
            } else {
                w
            }
        });
        let mut hms = whole.splitn(3, ':');
        let h: i64 = number(hms.next()?, 2)?;
        let m: i64 = number(hms.next()?, 2)?;
        let s: i64 = number(hms.next()?, 2)?;
        if h > 23 || m > 59 || s > 60 {
            return None;
        }
        secs += h * 3600 + m * 60 + s;
    }
    u64::try_from(secs)
        .ok()
        .map(|s| UNIX_EPOCH + Duration::from_secs(s))
}

fn number(text: &str, digits: usize) -> Option<i64> {
    (text.len() == digits && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

/// (year, month, day) of a day count since 1970-01-01 (Howard Hinnant's days-to-civil).
fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// The day count since 1970-01-01 of a civil date (Howard Hinnant's days-from-civil).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_with_seconds_and_read_in_both_forms() {
        let t = UNIX_EPOCH + Duration::from_secs(1_795_651_205);
        assert_eq!(rfc3339(t), "2026-11-26T00:00:05Z");
        assert_eq!(parse(&rfc3339(t)), Some(t));
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400 + 13 * 3600 + 7);
        assert_eq!(rfc3339(leap), "2000-02-29T13:00:07Z");
        assert_eq!(parse("2000-02-29T13:00:07.250Z"), Some(leap));
        // The old date-only deleted tag reads as midnight UTC.
        assert_eq!(
            parse("2026-11-26"),
            Some(UNIX_EPOCH + Duration::from_secs(1_795_651_200))
        );
        for bad in [
            "",
            "2026-02-30",
            "2026-13-01",
            "26-11-26",
            "2026-11-26T25:00:00Z",
            "2026-11-26T10:00:00",
            "2026-11-26T10:00:00+01:00",
            "1969-12-31T23:59:59Z",
            "2026-11-26T10:00:00.Z",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn utc_date_is_the_day() {
        assert_eq!(utc_date(UNIX_EPOCH), "1970-01-01");
        let t = UNIX_EPOCH + Duration::from_secs(86_400 * 365 - 1);
        assert_eq!(utc_date(t), "1970-12-31");
    }
}
