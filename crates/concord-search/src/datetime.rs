//! FHIR date, dateTime and instant text → the instant range it covers, in
//! milliseconds since the epoch (UTC), both ends inclusive.
//!
//! Precision decides the range: `2020` covers the whole year, `2020-03` the
//! month, `2020-03-04` the day, `2020-03-04T10:00` the minute, and so on down
//! to the millisecond. A time without a zone (allowed in search values, not
//! in resources) is taken as UTC.

/// An inclusive instant range, ms since the epoch (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateRange {
    pub low: i64,
    pub high: i64,
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

const DAY: i64 = 86_400_000;

fn digits(s: &str, n: usize) -> Option<i64> {
    if s.len() == n && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

/// Parses `YYYY`, `YYYY-MM`, `YYYY-MM-DD` or `YYYY-MM-DDThh:mm[:ss[.fff…]][Z|±hh:mm]`.
pub fn parse_range(text: &str) -> Option<DateRange> {
    let text = text.trim();
    let (date, time) = match text.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (text, None),
    };
    let mut parts = date.split('-');
    let year = digits(parts.next()?, 4)?;
    let month = parts.next().map(|m| digits(m, 2)).unwrap_or(Some(0))?;
    let day = parts.next().map(|d| digits(d, 2)).unwrap_or(Some(0))?;
    if parts.next().is_some() || month > 12 || (month == 0 && day != 0) {
        return None;
    }
    if month == 0 {
        let low = days_from_civil(year, 1, 1) * DAY;
        let high = days_from_civil(year + 1, 1, 1) * DAY - 1;
        return time.is_none().then_some(DateRange { low, high });
    }
    if day == 0 {
        let low = days_from_civil(year, month, 1) * DAY;
        let high = low + days_in_month(year, month) * DAY - 1;
        return time.is_none().then_some(DateRange { low, high });
    }
    if day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let start = days_from_civil(year, month, day) * DAY;
    match time {
        None => Some(DateRange {
            low: start,
            high: start + DAY - 1,
        }),
        Some(t) => parse_time(t).map(|(offset, width)| DateRange {
            low: start + offset,
            high: start + offset + width - 1,
        }),
    }
}

/// `hh:mm[:ss[.fff]][zone]` → (ms from the day's UTC midnight, width in ms).
fn parse_time(t: &str) -> Option<(i64, i64)> {
    let (clock, zone_ms) = split_zone(t)?;
    let mut parts = clock.split(':');
    let h = digits(parts.next()?, 2)?;
    let m = digits(parts.next()?, 2)?;
    let (s, ms, width) = match parts.next() {
        None => (0, 0, 60_000),
        Some(sec) => {
            let (whole, frac) = match sec.split_once('.') {
                Some((w, f)) => (w, Some(f)),
                None => (sec, None),
            };
            let s = digits(whole, 2)?;
            match frac {
                None => (s, 0, 1000),
                Some(f) if !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()) => {
                    let mut padded = f.chars().take(3).collect::<String>();
                    while padded.len() < 3 {
                        padded.push('0');
                    }
                    (s, padded.parse::<i64>().ok()?, 1)
                }
                Some(_) => return None,
            }
        }
    };
    // FHIR's time grammar: hours 00-23, seconds up to 60 (leap second).
    if parts.next().is_some() || h > 23 || m > 59 || s > 60 {
        return None;
    }
    let at = ((h * 60 + m) * 60 + s) * 1000 + ms - zone_ms;
    Some((at, width))
}

/// Splits off `Z` / `+hh:mm` / `-hh:mm`; no zone means UTC.
fn split_zone(t: &str) -> Option<(&str, i64)> {
    if let Some(c) = t.strip_suffix('Z') {
        return Some((c, 0));
    }
    if let Some(at) = t.rfind(['+', '-']) {
        let (clock, zone) = t.split_at(at);
        let sign = if zone.starts_with('-') { -1 } else { 1 };
        let (hh, mm) = zone[1..].split_once(':')?;
        let (hh, mm) = (digits(hh, 2)?, digits(mm, 2)?);
        // FHIR's zone grammar: -14:00 … +14:00.
        if mm > 59 || hh * 60 + mm > 14 * 60 {
            return None;
        }
        return Some((clock, sign * (hh * 60 + mm) * 60_000));
    }
    Some((t, 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> (i64, i64) {
        let x = parse_range(s).unwrap_or(DateRange { low: 0, high: 0 });
        (x.low, x.high)
    }

    #[test]
    fn precision_gives_the_range() {
        assert_eq!(r("1970"), (0, 365 * DAY - 1));
        assert_eq!(r("1970-02"), (31 * DAY, 59 * DAY - 1));
        assert_eq!(r("2020-02").1 - r("2020-02").0, 29 * DAY - 1);
        assert_eq!(r("1970-01-02"), (DAY, 2 * DAY - 1));
        assert_eq!(r("1970-01-01T00:01"), (60_000, 120_000 - 1));
        assert_eq!(r("1970-01-01T00:00:01Z"), (1000, 1999));
        assert_eq!(r("1970-01-01T00:00:01.5Z"), (1500, 1500));
        assert_eq!(r("1970-01-01T01:00:00+01:00"), (0, 999));
        assert_eq!(r("1970-01-01T00:00:00-01:00"), (3_600_000, 3_600_999));
        assert_eq!(r("2000-01-01").0, 946_684_800_000);
    }

    #[test]
    fn rejects_bad_dates() {
        for bad in [
            "",
            "20",
            "2020-13",
            "2020-02-30",
            "2020-01-01T",
            "2020-01-01T25:00",
            "x",
            "2020-1-1",
            "2020-01-01T10:00:00.Z",
            "2020-01-01T24:00",
            "2020-01-01T10:00:00+25:00",
            "2020-01-01T10:00:00-14:30",
            "2020-01-01T10:00:00+01:60",
        ] {
            assert_eq!(parse_range(bad), None, "{bad}");
        }
    }
}
