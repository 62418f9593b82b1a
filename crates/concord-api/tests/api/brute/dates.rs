//! FHIR date/dateTime/instant text → the inclusive millisecond range its
//! precision covers (the evaluator's own reading of the R4 search page:
//! "the date 2013-01 covers the whole month").

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub low: i64,
    pub high: i64,
}

const MS_DAY: i64 = 86_400_000;

fn leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn month_days(y: i64, m: i64) -> i64 {
    [
        31,
        if leap(y) { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ][(m - 1) as usize]
}

/// Days from 1970-01-01, by counting (slow but obviously right).
fn epoch_days(y: i64, m: i64, d: i64) -> i64 {
    let mut days = 0;
    if y >= 1970 {
        for yy in 1970..y {
            days += if leap(yy) { 366 } else { 365 };
        }
    } else {
        for yy in y..1970 {
            days -= if leap(yy) { 366 } else { 365 };
        }
    }
    for mm in 1..m {
        days += month_days(y, mm);
    }
    days + d - 1
}

fn num(s: &str, len: usize) -> Option<i64> {
    (s.len() == len && s.chars().all(|c| c.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// `YYYY`, `YYYY-MM`, `YYYY-MM-DD`, `YYYY-MM-DDThh:mm[:ss[.f+]][Z|±hh:mm]`
/// (no zone: UTC).
pub fn parse_range(text: &str) -> Option<Range> {
    let (date, time) = match text.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (text, None),
    };
    let parts: Vec<&str> = date.split('-').collect();
    let y = num(parts.first()?, 4)?;
    match parts.len() {
        1 if time.is_none() => {
            let low = epoch_days(y, 1, 1) * MS_DAY;
            let high = epoch_days(y + 1, 1, 1) * MS_DAY - 1;
            Some(Range { low, high })
        }
        2 if time.is_none() => {
            let m = num(parts[1], 2)?;
            if !(1..=12).contains(&m) {
                return None;
            }
            let low = epoch_days(y, m, 1) * MS_DAY;
            Some(Range {
                low,
                high: low + month_days(y, m) * MS_DAY - 1,
            })
        }
        3 => {
            let m = num(parts[1], 2)?;
            let d = num(parts[2], 2)?;
            if !(1..=12).contains(&m) || d < 1 || d > month_days(y, m) {
                return None;
            }
            let day = epoch_days(y, m, d) * MS_DAY;
            let Some(time) = time else {
                return Some(Range {
                    low: day,
                    high: day + MS_DAY - 1,
                });
            };
            let (clock, offset_ms) = if let Some(c) = time.strip_suffix('Z') {
                (c, 0)
            } else if let Some(at) = time.rfind(['+', '-']) {
                let (c, z) = time.split_at(at);
                let sign = if z.starts_with('-') { -1 } else { 1 };
                let (h, m) = z[1..].split_once(':')?;
                let (h, m) = (num(h, 2)?, num(m, 2)?);
                if m > 59 || h * 60 + m > 14 * 60 {
                    return None;
                }
                (c, sign * (h * 60 + m) * 60_000)
            } else {
                (time, 0)
            };
            let cp: Vec<&str> = clock.split(':').collect();
            if cp.len() < 2 || cp.len() > 3 {
                return None;
            }
            let hh = num(cp[0], 2)?;
            let mi = num(cp[1], 2)?;
            if hh > 23 || mi > 59 {
                return None;
            }
            let base = day + (hh * 3600 + mi * 60) * 1000 - offset_ms;
            if cp.len() == 2 {
                return Some(Range {
                    low: base,
                    high: base + 60_000 - 1,
                });
            }
            let (sec, frac) = match cp[2].split_once('.') {
                Some((s, f)) => (s, Some(f)),
                None => (cp[2], None),
            };
            let ss = num(sec, 2)?;
            if ss > 60 {
                return None;
            }
            let base = base + ss * 1000;
            match frac {
                None => Some(Range {
                    low: base,
                    high: base + 999,
                }),
                Some(f) if !f.is_empty() && f.chars().all(|c| c.is_ascii_digit()) => {
                    let ms: i64 = format!("{f:0<3}")[..3].parse().ok()?;
                    Some(Range {
                        low: base + ms,
                        high: base + ms,
                    })
                }
                _ => None,
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_follow_precision() {
        let y = parse_range("2020").unwrap();
        let m = parse_range("2020-02").unwrap();
        let d = parse_range("2020-02-29").unwrap();
        assert_eq!(y.low, parse_range("2020-01").unwrap().low);
        assert_eq!(m.low, parse_range("2020-02-01").unwrap().low);
        assert_eq!(m.high - m.low + 1, 29 * MS_DAY);
        assert_eq!(d.high - d.low + 1, MS_DAY);
        assert_eq!(y.low, 1_577_836_800_000);
        let t = parse_range("2020-01-01T01:00:00+01:00").unwrap();
        assert_eq!(t.low, y.low);
        assert_eq!(t.high, y.low + 999);
        assert!(parse_range("2020-13").is_none());
        assert!(parse_range("2019-02-29").is_none());
        assert_eq!(parse_range("1969-12-31").unwrap().high, -1);
    }
}
