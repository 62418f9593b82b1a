//! Hand-written checks for the FHIR date/time primitives (faster than the
//! spec regexes and they also reject impossible calendar dates like Feb 30).

fn digits(s: &[u8]) -> Option<u32> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0u32, |a, d| a * 10 + u32::from(d - b'0')))
}

// `u32::is_multiple_of` needs Rust 1.87; the workspace declares 1.85.
#[allow(clippy::manual_is_multiple_of)]
fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `YYYY`, `YYYY-MM` or `YYYY-MM-DD`; `full` demands all three parts.
fn date_part(s: &[u8], full: bool) -> Result<(), &'static str> {
    let bad = "not a valid date (expected YYYY, YYYY-MM or YYYY-MM-DD)";
    if s.len() < 4 {
        return Err(bad);
    }
    let year = digits(&s[..4]).ok_or(bad)?;
    if year == 0 {
        return Err("year 0000 is not valid");
    }
    if s.len() == 4 {
        return if full { Err(bad) } else { Ok(()) };
    }
    if s.len() < 7 || s[4] != b'-' {
        return Err(bad);
    }
    let month = digits(&s[5..7]).ok_or(bad)?;
    if !(1..=12).contains(&month) {
        return Err("month must be 01..12");
    }
    if s.len() == 7 {
        return if full { Err(bad) } else { Ok(()) };
    }
    if s.len() != 10 || s[7] != b'-' {
        return Err(bad);
    }
    let day = digits(&s[8..10]).ok_or(bad)?;
    if day == 0 || day > days_in_month(year, month) {
        return Err("day is not valid for the month");
    }
    Ok(())
}

/// `hh:mm:ss(.fff)?`
fn time_part(s: &[u8]) -> Result<(), &'static str> {
    let bad = "not a valid time (expected hh:mm:ss with optional fraction)";
    if s.len() < 8 || s[2] != b':' || s[5] != b':' {
        return Err(bad);
    }
    let h = digits(&s[..2]).ok_or(bad)?;
    let m = digits(&s[3..5]).ok_or(bad)?;
    let sec = digits(&s[6..8]).ok_or(bad)?;
    if h > 23 || m > 59 || sec > 60 {
        return Err("time value out of range");
    }
    match &s[8..] {
        [] => Ok(()),
        [b'.', frac @ ..] if digits(frac).is_some() => Ok(()),
        _ => Err(bad),
    }
}

/// `Z` or `+hh:mm` / `-hh:mm` (hours 00..13, or exactly 14:00).
fn zone(s: &[u8]) -> Result<(), &'static str> {
    let bad = "not a valid timezone (expected Z or +hh:mm / -hh:mm)";
    if s == b"Z" {
        return Ok(());
    }
    if s.len() != 6 || !(s[0] == b'+' || s[0] == b'-') || s[3] != b':' {
        return Err(bad);
    }
    let h = digits(&s[1..3]).ok_or(bad)?;
    let m = digits(&s[4..6]).ok_or(bad)?;
    if m > 59 || h > 14 || (h == 14 && m != 0) {
        return Err(bad);
    }
    Ok(())
}

fn split_zone(s: &[u8]) -> Option<(&[u8], &[u8])> {
    let pos = s
        .iter()
        .rposition(|&b| b == b'Z' || b == b'+' || b == b'-')?;
    Some(s.split_at(pos))
}

pub fn check_date(s: &str) -> Result<(), &'static str> {
    date_part(s.as_bytes(), false)
}

pub fn check_time(s: &str) -> Result<(), &'static str> {
    time_part(s.as_bytes())
}

fn date_time(s: &str, instant: bool) -> Result<(), &'static str> {
    let b = s.as_bytes();
    let Some(t) = b.iter().position(|&c| c == b'T') else {
        if instant {
            return Err("an instant must have a date, time and timezone");
        }
        return date_part(b, false);
    };
    date_part(&b[..t], true)?;
    let rest = &b[t + 1..];
    let Some((time, tz)) = split_zone(rest) else {
        return Err("if a date has a time, it must have a timezone");
    };
    time_part(time)?;
    zone(tz)
}

pub fn check_date_time(s: &str) -> Result<(), &'static str> {
    date_time(s, false)
}

pub fn check_instant(s: &str) -> Result<(), &'static str> {
    date_time(s, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        for ok in ["2020", "2020-02", "2020-02-29", "2000-02-29", "0001"] {
            assert!(check_date(ok).is_ok(), "{ok}");
        }
        for bad in [
            "2019-02-29",
            "1900-02-29",
            "2020-13",
            "2020-1-01",
            "20",
            "0000",
            "2020-04-31",
            "2020-01-01T10:00:00Z",
            "not a date",
            "2020-",
        ] {
            assert!(check_date(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn date_times_and_instants() {
        for ok in [
            "2020",
            "2020-05",
            "2020-05-06",
            "2020-05-06T10:11:12Z",
            "2020-05-06T10:11:12.123+05:30",
            "2020-05-06T23:59:60-14:00",
        ] {
            assert!(check_date_time(ok).is_ok(), "{ok}");
        }
        for bad in [
            "2020-05-06T10:11:12",
            "2020-05-06T10:11Z",
            "2020-05-06T24:00:00Z",
            "2020-05-06T10:11:12+15:00",
            "2020-05-06T10:11:12.Z",
            "2020-05T10:11:12Z",
        ] {
            assert!(check_date_time(bad).is_err(), "{bad}");
        }
        assert!(check_instant("2020-05-06T10:11:12.5Z").is_ok());
        assert!(check_instant("2020-05-06").is_err());
        assert!(check_time("10:11:12.5").is_ok());
        assert!(check_time("10:11").is_err());
    }
}
