//! `Retry-After` (RFC 9110 §10.2.3): delay-seconds or an HTTP date in any
//! of the three formats a recipient must accept (§5.6.7): IMF-fixdate, the
//! obsolete RFC 850 format, and ANSI C's asctime format. Also ISO 8601
//! date-times with a zone (RFC 3339), as some services write run times.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The wait a `Retry-After` value asks for, measured from `now`; a date in
/// the past is no wait. `None` when the value is neither form.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // More digits than a u64 holds is still "a very long time".
        return Some(Duration::from_secs(
            value.parse::<u64>().unwrap_or(u64::MAX),
        ));
    }
    let at = parse_http_date(value)?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const LONG_DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// - `Sun, 06 Nov 1994 08:49:37 GMT` (IMF-fixdate)
/// - `Sunday, 06-Nov-94 08:49:37 GMT` (RFC 850; a two-digit year more than
///   50 years in the future is taken as the past century, §5.6.7)
/// - `Sun Nov  6 08:49:37 1994` (asctime)
pub(crate) fn parse_http_date(s: &str) -> Option<SystemTime> {
    if let Some((day_name, rest)) = s.split_once(", ") {
        let p: Vec<&str> = rest.split(' ').collect();
        if DAYS.contains(&day_name) {
            // IMF-fixdate
            if p.len() != 5 || p[4] != "GMT" || p[0].len() != 2 || p[2].len() != 4 {
                return None;
            }
            return civil(p[2].parse().ok()?, month(p[1])?, p[0].parse().ok()?, p[3]);
        }
        if LONG_DAYS.contains(&day_name) {
            // RFC 850
            if p.len() != 3 || p[2] != "GMT" {
                return None;
            }
            let d: Vec<&str> = p[0].split('-').collect();
            if d.len() != 3 || d[0].len() != 2 || d[2].len() != 2 {
                return None;
            }
            let yy: u64 = d[2].parse().ok()?;
            let this_year = 1970
                + SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map(|d| d.as_secs() / 31_556_952)
                    .unwrap_or(0);
            let mut year = (this_year / 100) * 100 + yy;
            if year > this_year + 50 {
                year -= 100;
            }
            return civil(year, month(d[1])?, d[0].parse().ok()?, p[1]);
        }
        return None;
    }
    // asctime: `Sun Nov  6 08:49:37 1994` (the day is space-padded)
    // (split_whitespace yields no empty part, so the day has 1 or 2 digits.)
    let p: Vec<&str> = s.split_whitespace().collect();
    if p.len() != 5 || !DAYS.contains(&p[0]) || !s.starts_with(p[0]) || p[2].len() > 2 {
        return None;
    }
    civil(p[4].parse().ok()?, month(p[1])?, p[2].parse().ok()?, p[3])
}

/// An RFC 3339 / ISO 8601 date-time with a zone, as epoch milliseconds:
/// `2026-11-27T13:51:25Z`, `2026-11-27T13:51:25.123Z`,
/// `2026-11-27 14:51:25+01:00`. Without a zone the instant is unknown:
/// `None`, as for anything else.
pub(crate) fn parse_iso8601_millis(s: &str) -> Option<i64> {
    let s = s.trim();
    if !s.is_ascii() || s.len() < 20 {
        return None;
    }
    let (date, rest) = s.split_at(10);
    let d: Vec<&str> = date.split('-').collect();
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    // `yyyy-mm-dd`: three parts of 4, 2 and 2 digits.
    if !d.iter().map(|p| p.len()).eq([4, 2, 2]) || !d.iter().all(|p| digits(p)) {
        return None;
    }
    let rest = rest
        .strip_prefix(['T', 't', ' '])
        .filter(|r| r.len() >= 9)?;
    let (time, rest) = rest.split_at(8);
    // Fraction of a second: milliseconds kept, finer digits dropped.
    let (fraction, zone) = match rest.strip_prefix('.') {
        Some(r) => {
            let end = r.find(|c: char| !c.is_ascii_digit()).unwrap_or(r.len());
            (&r[..end], &r[end..])
        }
        None => ("", rest),
    };
    if rest.starts_with('.') && fraction.is_empty() {
        return None;
    }
    let millis: i64 = format!("{fraction:0<3}")[..3].parse().ok()?;
    let offset_secs: i64 = match zone {
        "Z" | "z" => 0,
        _ => {
            let sign = match zone.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let z = zone[1..].replace(':', "");
            if z.len() != 4 || !digits(&z) || zone[1..].len() > 5 {
                return None;
            }
            let (h, m): (i64, i64) = (z[..2].parse().ok()?, z[2..].parse().ok()?);
            if h > 23 || m > 59 {
                return None;
            }
            sign * (h * 3600 + m * 60)
        }
    };
    let month = d[1].parse().ok()?;
    let at = civil(d[0].parse().ok()?, month, d[2].parse().ok()?, time)?;
    let secs = at.duration_since(UNIX_EPOCH).ok()?.as_secs() as i64 - offset_secs;
    Some(secs * 1000 + millis)
}

fn month(name: &str) -> Option<u64> {
    MONTHS.iter().position(|m| *m == name).map(|i| i as u64 + 1)
}

/// Seconds since the epoch of a civil UTC date and an `HH:MM:SS` time.
fn civil(year: u64, month: u64, day: u64, time: &str) -> Option<SystemTime> {
    let hms: Vec<u64> = time
        .split(':')
        .map(|p| (p.len() == 2).then(|| p.parse().ok()).flatten())
        .collect::<Option<_>>()?;
    if hms.len() != 3
        || !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || !(1970..=9999).contains(&year)
        || hms[0] > 23
        || hms[1] > 59
        || hms[2] > 60
    {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm), epoch 1970-01-01.
    let (y, m) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y / 400;
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146097 + doe - 719468;
    let secs = days * 86400 + hms[0] * 3600 + hms[1] * 60 + hms[2];
    Some(UNIX_EPOCH + Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_8601_with_a_zone_is_read_and_without_one_refused() {
        let at = 1_764_251_485_000; // 2025-11-27T13:51:25Z
        for (text, want) in [
            ("2025-11-27T13:51:25Z", at),
            ("2025-11-27t13:51:25z", at),
            ("2025-11-27T13:51:25.5Z", at + 500),
            ("2025-11-27T13:51:25.123456Z", at + 123),
            ("2025-11-27 14:51:25+01:00", at),
            ("2025-11-27T08:51:25-0500", at),
            (" 2025-11-27T13:51:25Z ", at),
        ] {
            assert_eq!(parse_iso8601_millis(text), Some(want), "{text:?}");
        }
        for bad in [
            "2025-11-27T13:51:25",
            "2025-11-27",
            "2025-13-27T13:51:25Z",
            "2025-11-27T25:51:25Z",
            "2025-11-27T13:51:25.Z",
            "2025-11-27T13:51:25+1:00",
            "2025-11-27T13:51:25+01:00:00",
            "27/11/2025 13:51:25Z",
            "yesterday",
            "",
            "2025-11-27T13:51:25\u{e9}Z",
        ] {
            assert_eq!(parse_iso8601_millis(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn retry_after_accepts_seconds_and_all_three_http_date_formats() {
        let now = UNIX_EPOCH + Duration::from_secs(784111777); // Sun, 06 Nov 1994 08:49:37 GMT
        let thirty = Some(Duration::from_secs(30));
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("99999999999999999999999", now),
            Some(Duration::from_secs(u64::MAX))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:50:07 GMT", now),
            thirty
        );
        assert_eq!(
            parse_retry_after("Sunday, 06-Nov-94 08:50:07 GMT", now),
            thirty
        );
        assert_eq!(parse_retry_after("Sun Nov  6 08:50:07 1994", now), thirty);
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        for bad in [
            "soon",
            "",
            "-5",
            "1.5",
            "Sun, 06 Foo 1994 08:50:07 GMT",
            "Sun, 6 Nov 1994 08:50:07 GMT",
            "Sun, 06 Nov 1994 08:50:07 UTC",
            "Sunday, 06-Nov-1994 08:50:07 GMT",
            "Sun Nov 6 08:50:07",
            "Sun Nov 123 08:50:07 1994",
            "Sun, 06 Nov 1994 8:50:07 GMT",
            "Sun, 32 Nov 1994 08:50:07 GMT",
        ] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad:?}");
        }
    }
}
