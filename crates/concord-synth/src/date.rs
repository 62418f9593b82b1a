//! Calendar arithmetic on days since 1970-01-01 (proleptic Gregorian, UTC),
//! enough to lay out a record over years without a clock: every date comes
//! from the reference date the caller passes in.

/// Days since the epoch for a civil date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day number.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Parses `YYYY-MM-DD`.
pub fn parse(text: &str) -> Option<i64> {
    let mut parts = text.split('-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: u32 = parts.next()?.parse().ok()?;
    let d: u32 = parts.next()?.parse().ok()?;
    if parts.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let day = days_from_civil(y, m, d);
    (civil_from_days(day) == (y, m, d)).then_some(day)
}

/// `YYYY-MM-DD`.
pub fn date(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// `YYYY-MM-DDThh:mm:00Z` for a day and minutes after midnight (UTC).
pub fn date_time(day: i64, minute: i64) -> String {
    let day = day + minute.div_euclid(1440);
    let minute = minute.rem_euclid(1440);
    let (y, m, d) = civil_from_days(day);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:00Z",
        minute / 60,
        minute % 60
    )
}

/// Whole years between two day numbers (age on `at` of someone born on `born`).
pub fn years_between(born: i64, at: i64) -> i64 {
    let (by, bm, bd) = civil_from_days(born);
    let (ay, am, ad) = civil_from_days(at);
    let mut years = ay - by;
    if (am, ad) < (bm, bd) {
        years -= 1;
    }
    years
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_formats() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(date(days_from_civil(2024, 2, 29)), "2024-02-29");
        assert_eq!(parse("2023-02-29"), None);
        assert_eq!(parse("2026-11-26").map(date).as_deref(), Some("2026-11-26"));
        assert_eq!(date_time(0, 1440 + 61), "1970-01-02T01:01:00Z");
        let born = days_from_civil(2000, 6, 15);
        assert_eq!(years_between(born, days_from_civil(2010, 6, 14)), 9);
        assert_eq!(years_between(born, days_from_civil(2010, 6, 15)), 10);
    }
}
