//! Partial dates, date-times and times with FHIRPath precision semantics.

use std::cmp::Ordering;
use std::fmt;

/// Which of the three temporal system types a value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemporalKind {
    Date,
    DateTime,
    Time,
}

/// A (possibly partial) temporal value. Fields are filled from the most
/// significant one down to the value's precision; `millis` holds the whole
/// fraction of a second in milliseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Temporal {
    pub kind: TemporalKind,
    pub year: Option<i32>,
    pub month: Option<u32>,
    pub day: Option<u32>,
    pub hour: Option<u32>,
    pub minute: Option<u32>,
    pub second: Option<u32>,
    pub millis: Option<u32>,
    /// Offset from UTC in minutes, when a zone was given.
    pub tz: Option<i32>,
    /// The zone was written as `Z`.
    pub tz_z: bool,
}

/// Precision of a temporal value, from coarsest to finest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Precision {
    Year,
    Month,
    Day,
    Hour,
    Minute,
    Second,
    Millisecond,
}

fn digits(s: &str, n: usize) -> Option<u32> {
    if s.len() == n && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

impl Temporal {
    fn empty(kind: TemporalKind) -> Self {
        Temporal {
            kind,
            year: None,
            month: None,
            day: None,
            hour: None,
            minute: None,
            second: None,
            millis: None,
            tz: None,
            tz_z: false,
        }
    }

    /// Parses a date (`2019`, `2019-01`, `2019-01-02`).
    pub fn parse_date(s: &str) -> Option<Temporal> {
        let mut t = Temporal::empty(TemporalKind::Date);
        t.fill_date(s)?;
        Some(t)
    }

    fn fill_date(&mut self, s: &str) -> Option<()> {
        let mut parts = s.split('-');
        self.year = Some(digits(parts.next()?, 4)? as i32);
        if let Some(m) = parts.next() {
            let m = digits(m, 2)?;
            if !(1..=12).contains(&m) {
                return None;
            }
            self.month = Some(m);
            if let Some(d) = parts.next() {
                let d = digits(d, 2)?;
                if d < 1 || d > days_in_month(self.year?, m) {
                    return None;
                }
                self.day = Some(d);
            }
        }
        if parts.next().is_some() {
            return None;
        }
        Some(())
    }

    /// Parses a date-time (`2019`, `2019-01-02T10`, `2019-01-02T10:00:00.1Z`, ...).
    /// A trailing `T` with no time is accepted (FHIRPath literal form).
    pub fn parse_datetime(s: &str) -> Option<Temporal> {
        let mut t = Temporal::empty(TemporalKind::DateTime);
        let (date, time) = match s.split_once('T') {
            Some((d, t)) => (d, Some(t)),
            None => (s, None),
        };
        t.fill_date(date)?;
        if let Some(time) = time {
            if !time.is_empty() {
                t.day?;
                let (clock, tz) = split_tz(time)?;
                t.fill_time(clock)?;
                if let Some((minutes, z)) = tz {
                    t.tz = Some(minutes);
                    t.tz_z = z;
                }
            }
        }
        Some(t)
    }

    /// Parses a time of day (`10`, `10:00`, `10:00:00.000`), no zone.
    pub fn parse_time(s: &str) -> Option<Temporal> {
        let mut t = Temporal::empty(TemporalKind::Time);
        t.fill_time(s)?;
        Some(t)
    }

    fn fill_time(&mut self, s: &str) -> Option<()> {
        let mut parts = s.split(':');
        let h = digits(parts.next()?, 2)?;
        if h > 23 {
            return None;
        }
        self.hour = Some(h);
        if let Some(m) = parts.next() {
            let m = digits(m, 2)?;
            if m > 59 {
                return None;
            }
            self.minute = Some(m);
            if let Some(sec) = parts.next() {
                let (whole, frac) = match sec.split_once('.') {
                    Some((w, f)) => (w, Some(f)),
                    None => (sec, None),
                };
                let w = digits(whole, 2)?;
                if w > 59 {
                    return None;
                }
                self.second = Some(w);
                if let Some(f) = frac {
                    if f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) {
                        return None;
                    }
                    let mut ms = 0u32;
                    for (i, b) in f.bytes().take(3).enumerate() {
                        ms += u32::from(b - b'0') * 10u32.pow(2 - i as u32);
                    }
                    self.millis = Some(ms);
                }
            }
        }
        if parts.next().is_some() {
            return None;
        }
        Some(())
    }

    pub fn precision(&self) -> Precision {
        if self.millis.is_some() {
            Precision::Millisecond
        } else if self.second.is_some() {
            Precision::Second
        } else if self.minute.is_some() {
            Precision::Minute
        } else if self.hour.is_some() {
            Precision::Hour
        } else if self.day.is_some() {
            Precision::Day
        } else if self.month.is_some() {
            Precision::Month
        } else {
            Precision::Year
        }
    }

    /// The number of digits of precision, as `precision()` reports it.
    pub fn precision_digits(&self) -> i64 {
        let p = self.precision();
        if self.kind == TemporalKind::Time {
            match p {
                Precision::Hour => 2,
                Precision::Minute => 4,
                Precision::Second => 6,
                _ => 9,
            }
        } else {
            match p {
                Precision::Year => 4,
                Precision::Month => 6,
                Precision::Day => 8,
                Precision::Hour => 10,
                Precision::Minute => 12,
                Precision::Second => 14,
                Precision::Millisecond => 17,
            }
        }
    }

    /// Comparison with FHIRPath precision rules: `None` when the answer is
    /// unknown (different precisions, or zone on one side only) or the kinds
    /// are not comparable.
    pub fn compare(&self, other: &Temporal) -> Option<Ordering> {
        let time_a = self.kind == TemporalKind::Time;
        let time_b = other.kind == TemporalKind::Time;
        if time_a != time_b {
            return None;
        }
        let (a, b) = if self.hour.is_some() && other.hour.is_some() && !time_a {
            match (self.tz, other.tz) {
                (Some(_), Some(_)) => (self.to_utc(), other.to_utc()),
                (None, None) => (self.clone(), other.clone()),
                _ => return None,
            }
        } else {
            (self.clone(), other.clone())
        };
        let fa = a.fields();
        let fb = b.fields();
        for i in 0..fa.len() {
            match (fa[i], fb[i]) {
                (Some(x), Some(y)) => {
                    if x != y {
                        return Some(x.cmp(&y));
                    }
                }
                (None, None) => return Some(Ordering::Equal),
                _ => return None,
            }
        }
        Some(Ordering::Equal)
    }

    /// Fields as comparable numbers; seconds and milliseconds form one
    /// precision (`10:00:00` equals `10:00:00.0`).
    fn fields(&self) -> [Option<i64>; 6] {
        let secs = self
            .second
            .map(|s| i64::from(s) * 1000 + i64::from(self.millis.unwrap_or(0)));
        if self.kind == TemporalKind::Time {
            [
                self.hour.map(i64::from),
                self.minute.map(i64::from),
                secs,
                None,
                None,
                None,
            ]
        } else {
            [
                self.year.map(i64::from),
                self.month.map(i64::from),
                self.day.map(i64::from),
                self.hour.map(i64::from),
                self.minute.map(i64::from),
                secs,
            ]
        }
    }

    /// The same instant in UTC (only meaningful with a zone and a time).
    fn to_utc(&self) -> Temporal {
        let Some(off) = self.tz else {
            return self.clone();
        };
        let mut t = self.clone();
        if off != 0 {
            let _ = t.add_millis(-i64::from(off) * 60_000);
        }
        t.tz = Some(0);
        t
    }

    fn epoch_millis(&self) -> Option<i64> {
        let days = days_from_civil(
            i64::from(self.year?),
            self.month.unwrap_or(1),
            self.day.unwrap_or(1),
        );
        let ms = ((i64::from(self.hour.unwrap_or(0)) * 60 + i64::from(self.minute.unwrap_or(0)))
            * 60
            + i64::from(self.second.unwrap_or(0)))
            * 1000
            + i64::from(self.millis.unwrap_or(0));
        Some(days * 86_400_000 + ms)
    }

    fn set_from_epoch(&mut self, ms: i64) -> Option<()> {
        let days = ms.div_euclid(86_400_000);
        let rem = ms.rem_euclid(86_400_000);
        let (y, m, d) = civil_from_days(days);
        if !(1..=9999).contains(&y) {
            return None;
        }
        if self.year.is_some() {
            self.year = Some(y as i32);
        }
        if self.month.is_some() {
            self.month = Some(m);
        }
        if self.day.is_some() {
            self.day = Some(d);
        }
        let rem = rem as u32;
        if self.hour.is_some() {
            self.hour = Some(rem / 3_600_000);
        }
        if self.minute.is_some() {
            self.minute = Some(rem / 60_000 % 60);
        }
        if self.second.is_some() {
            self.second = Some(rem / 1000 % 60);
        }
        if self.millis.is_some() {
            self.millis = Some(rem % 1000);
        }
        Some(())
    }

    /// Adds milliseconds (times wrap around midnight).
    pub fn add_millis(&mut self, delta: i64) -> Option<()> {
        if self.kind == TemporalKind::Time {
            let cur = ((i64::from(self.hour.unwrap_or(0)) * 60
                + i64::from(self.minute.unwrap_or(0)))
                * 60
                + i64::from(self.second.unwrap_or(0)))
                * 1000
                + i64::from(self.millis.unwrap_or(0));
            let v = (cur + delta).rem_euclid(86_400_000) as u32;
            self.hour = Some(v / 3_600_000);
            if self.minute.is_some() {
                self.minute = Some(v / 60_000 % 60);
            }
            if self.second.is_some() {
                self.second = Some(v / 1000 % 60);
            }
            if self.millis.is_some() {
                self.millis = Some(v % 1000);
            }
            return Some(());
        }
        let base = self.epoch_millis()?;
        self.set_from_epoch(base.checked_add(delta)?)
    }

    /// Adds calendar months (the day is clamped to the month's end).
    pub fn add_months(&mut self, months: i64) -> Option<()> {
        let y = i64::from(self.year?);
        let m = (i64::from(self.month.unwrap_or(1)) - 1).checked_add(months)?;
        let ny = y.checked_add(m.div_euclid(12))?;
        let nm = (m.rem_euclid(12) + 1) as u32;
        if !(1..=9999).contains(&ny) {
            return None;
        }
        self.year = Some(ny as i32);
        if self.month.is_some() {
            self.month = Some(nm);
        }
        if let Some(d) = self.day {
            self.day = Some(d.min(days_in_month(ny as i32, nm)));
        }
        Some(())
    }

    /// The earliest value within this value's precision, at `digits` precision.
    pub fn low_boundary(&self, digits: Option<i64>) -> Option<Temporal> {
        self.boundary(digits, false)
    }

    /// The latest value within this value's precision, at `digits` precision.
    pub fn high_boundary(&self, digits: Option<i64>) -> Option<Temporal> {
        self.boundary(digits, true)
    }

    fn boundary(&self, digits: Option<i64>, high: bool) -> Option<Temporal> {
        let mut t = self.clone();
        let target = if self.kind == TemporalKind::Time {
            match digits.unwrap_or(9) {
                2 => Precision::Hour,
                4 => Precision::Minute,
                6 => Precision::Second,
                9 => Precision::Millisecond,
                _ => return None,
            }
        } else {
            match digits.unwrap_or(if self.kind == TemporalKind::Date {
                8
            } else {
                17
            }) {
                4 => Precision::Year,
                6 => Precision::Month,
                8 => Precision::Day,
                10 => Precision::Hour,
                12 => Precision::Minute,
                14 => Precision::Second,
                17 => Precision::Millisecond,
                _ => return None,
            }
        };
        if self.kind == TemporalKind::Date && target > Precision::Day {
            return None;
        }
        let pick = |lo: u32, hi: u32| if high { hi } else { lo };
        if self.kind != TemporalKind::Time {
            if target >= Precision::Month {
                t.month = Some(t.month.unwrap_or(pick(1, 12)));
            } else {
                t.month = None;
            }
            if target >= Precision::Day {
                let y = t.year.unwrap_or(1);
                let m = t.month.unwrap_or(1);
                t.day = Some(t.day.unwrap_or(pick(1, days_in_month(y, m))));
            } else {
                t.day = None;
            }
        }
        let time_part = |p: Precision| target >= p;
        if time_part(Precision::Hour) {
            t.hour = Some(t.hour.unwrap_or(pick(0, 23)));
        } else {
            t.hour = None;
        }
        if time_part(Precision::Minute) {
            // The official suite expects a missing minute to stay 00 in both
            // boundaries (`@2014-01-01T08.highBoundary(17)` is
            // `08:00:59.999`); FHIR data never has hour-only precision.
            t.minute = Some(t.minute.unwrap_or(0));
        } else {
            t.minute = None;
        }
        if time_part(Precision::Second) {
            t.second = Some(t.second.unwrap_or(pick(0, 59)));
        } else {
            t.second = None;
        }
        if time_part(Precision::Millisecond) {
            t.millis = Some(t.millis.unwrap_or(pick(0, 999)));
        } else {
            t.millis = None;
        }
        if self.kind == TemporalKind::DateTime {
            if target >= Precision::Hour {
                if t.tz.is_none() {
                    t.tz = Some(if high { -12 * 60 } else { 14 * 60 });
                    t.tz_z = false;
                }
            } else {
                t.tz = None;
                t.tz_z = false;
            }
        }
        Some(t)
    }

    /// The FHIR / FHIRPath text form without the `@`.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        if self.kind != TemporalKind::Time {
            if let Some(y) = self.year {
                s.push_str(&format!("{y:04}"));
            }
            if let Some(m) = self.month {
                s.push_str(&format!("-{m:02}"));
            }
            if let Some(d) = self.day {
                s.push_str(&format!("-{d:02}"));
            }
            if self.hour.is_some() {
                s.push('T');
            }
        }
        if let Some(h) = self.hour {
            s.push_str(&format!("{h:02}"));
        }
        if let Some(m) = self.minute {
            s.push_str(&format!(":{m:02}"));
        }
        if let Some(sec) = self.second {
            s.push_str(&format!(":{sec:02}"));
        }
        if let Some(ms) = self.millis {
            s.push_str(&format!(".{ms:03}"));
        }
        if self.kind == TemporalKind::DateTime && self.hour.is_some() {
            if let Some(off) = self.tz {
                if self.tz_z && off == 0 {
                    s.push('Z');
                } else {
                    let sign = if off < 0 { '-' } else { '+' };
                    let a = off.abs();
                    s.push_str(&format!("{sign}{:02}:{:02}", a / 60, a % 60));
                }
            }
        }
        s
    }

    /// Today's date / the current date-time / time in UTC from the system clock.
    pub fn now_utc() -> Temporal {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        let mut t = Temporal::empty(TemporalKind::DateTime);
        t.year = Some(1970);
        t.month = Some(1);
        t.day = Some(1);
        t.hour = Some(0);
        t.minute = Some(0);
        t.second = Some(0);
        t.millis = Some(0);
        t.tz = Some(0);
        t.tz_z = true;
        let _ = t.set_from_epoch(ms + days_from_civil(1970, 1, 1) * 86_400_000);
        t
    }

    /// Drops the time part (for `today()`).
    pub fn date_part(&self) -> Temporal {
        let mut t = Temporal::empty(TemporalKind::Date);
        t.year = self.year;
        t.month = self.month;
        t.day = self.day;
        t
    }

    /// Keeps the time part (for `timeOfDay()`).
    pub fn time_part(&self) -> Temporal {
        let mut t = Temporal::empty(TemporalKind::Time);
        t.hour = self.hour;
        t.minute = self.minute;
        t.second = self.second;
        t.millis = self.millis;
        t
    }

    /// A date seen as a date-time (same fields).
    pub fn as_datetime(&self) -> Temporal {
        let mut t = self.clone();
        t.kind = TemporalKind::DateTime;
        t
    }
}

impl fmt::Display for Temporal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

fn split_tz(time: &str) -> Option<(&str, Option<(i32, bool)>)> {
    if let Some(clock) = time.strip_suffix('Z') {
        return Some((clock, Some((0, true))));
    }
    if let Some(i) = time.rfind(['+', '-']) {
        let (clock, tz) = time.split_at(i);
        let sign = if tz.starts_with('-') { -1 } else { 1 };
        let (h, m) = tz[1..].split_once(':')?;
        let h = digits(h, 2)?;
        let m = digits(m, 2)?;
        if h > 14 || m > 59 {
            return None;
        }
        return Some((clock, Some((sign * (h as i32 * 60 + m as i32), false))));
    }
    Some((time, None))
}

fn is_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

pub fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 0000-03-01-based epoch (Howard Hinnant's algorithm), shifted
/// so that only differences matter.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        for s in [
            "2015",
            "2015-02",
            "2015-02-04T14:34:28.123+10:00",
            "2015-02-04T14Z",
        ] {
            assert_eq!(Temporal::parse_datetime(s).unwrap().to_text(), s);
        }
        assert!(Temporal::parse_date("2015-02-30").is_none());
        assert!(Temporal::parse_time("25:00").is_none());
    }

    #[test]
    fn epoch_roundtrip() {
        let mut t = Temporal::parse_datetime("1973-12-25T00:00:00.000+10:00").unwrap();
        t.add_millis(7 * 86_400_000).unwrap();
        assert_eq!(t.to_text(), "1974-01-01T00:00:00.000+10:00");
        let n = Temporal::now_utc();
        assert!(n.year.unwrap() >= 2024);
    }
}
