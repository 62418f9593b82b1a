//! Reading leaf values and HL7 v2 dates/times as FHIR primitives.
//!
//! Every function here returns `None` for anything it cannot turn into a
//! valid FHIR value: hostile or sloppy input leaves an element out rather
//! than producing a resource that fails validation.

use crate::message::SegmentView;

/// A trimmed, non-empty value at a segment-relative path; the HL7 explicit
/// null `""` counts as absent.
pub fn text(seg: &SegmentView<'_>, path: &str) -> Option<String> {
    let v = seg.get(path)?;
    let t = v.trim();
    if t.is_empty() || t == "\"\"" {
        return None;
    }
    // FHIR strings hold no control characters other than tab and line ends.
    if t.chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        let clean: String = t
            .chars()
            .filter(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'))
            .collect();
        let clean = clean.trim();
        return (!clean.is_empty()).then(|| clean.to_string());
    }
    Some(t.to_string())
}

/// A FHIR `code`: no leading/trailing or repeated whitespace.
pub fn code(seg: &SegmentView<'_>, path: &str) -> Option<String> {
    let t = text(seg, path)?;
    Some(t.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// How many repetitions field `n` has (0 when empty).
pub fn repetitions(seg: &SegmentView<'_>, n: usize) -> usize {
    let reps = seg.repetitions(n);
    if reps.len() == 1 && reps[0].is_empty() {
        0
    } else {
        reps.len()
    }
}

/// The pieces of an HL7 DTM: `YYYY[MM[DD[HH[MM[SS[.S…]]]]]][+/-ZZZZ]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dtm {
    pub year: String,
    pub month: Option<String>,
    pub day: Option<String>,
    pub hour: Option<String>,
    pub minute: Option<String>,
    pub second: Option<String>,
    pub fraction: Option<String>,
    /// `+hh:mm` / `-hh:mm`.
    pub offset: Option<String>,
}

fn two(s: &str, max: u32, min: u32) -> Option<String> {
    let n: u32 = s.parse().ok()?;
    (s.len() == 2 && n >= min && n <= max).then(|| s.to_string())
}

/// Parses a DTM (also DT and the TS first component). `None` if malformed.
pub fn parse_dtm(raw: &str) -> Option<Dtm> {
    let raw = raw.trim();
    let (body, offset) = match raw.find(['+', '-']) {
        Some(i) => (&raw[..i], Some(&raw[i..])),
        None => (raw, None),
    };
    let (digits, fraction) = match body.split_once('.') {
        Some((d, f)) => (d, Some(f)),
        None => (body, None),
    };
    if !digits.bytes().all(|b| b.is_ascii_digit()) || ![4, 6, 8, 10, 12, 14].contains(&digits.len())
    {
        return None;
    }
    let year = &digits[..4];
    if year.starts_with('0') {
        return None;
    }
    let part = |a: usize| digits.get(a..a + 2);
    let month = part(4)
        .map(|m| two(m, 12, 1))
        .unwrap_or(Some(String::new()))?;
    let day = part(6)
        .map(|d| two(d, 31, 1))
        .unwrap_or(Some(String::new()))?;
    let hour = part(8)
        .map(|h| two(h, 23, 0))
        .unwrap_or(Some(String::new()))?;
    let minute = part(10)
        .map(|m| two(m, 59, 0))
        .unwrap_or(Some(String::new()))?;
    let second = part(12)
        .map(|s| two(s, 59, 0))
        .unwrap_or(Some(String::new()))?;
    let fraction = match fraction {
        Some(f) if !f.is_empty() && f.len() <= 4 && f.bytes().all(|b| b.is_ascii_digit()) => {
            Some(f.to_string())
        }
        Some(_) => return None,
        None => None,
    };
    let offset = match offset {
        Some(o) => {
            let (sign, rest) = o.split_at(1);
            if rest.len() != 4 || !rest.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let h = two(&rest[..2], 14, 0)?;
            let m = two(&rest[2..], 59, 0)?;
            Some(format!("{sign}{h}:{m}"))
        }
        None => None,
    };
    let opt = |s: String| (!s.is_empty()).then_some(s);
    Some(Dtm {
        year: year.to_string(),
        month: opt(month),
        day: opt(day),
        hour: opt(hour),
        minute: opt(minute),
        second: opt(second),
        fraction,
        offset,
    })
}

impl Dtm {
    /// FHIR `date`: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    pub fn date(&self) -> String {
        match (&self.month, &self.day) {
            (Some(m), Some(d)) => format!("{}-{m}-{d}", self.year),
            (Some(m), None) => format!("{}-{m}", self.year),
            _ => self.year.clone(),
        }
    }

    /// FHIR `dateTime`. A time needs a zone in FHIR: without one in the
    /// message `default_offset` is used, and without that the time is
    /// dropped (the date stays).
    pub fn date_time(&self, default_offset: Option<&str>) -> String {
        match (
            &self.day,
            &self.hour,
            self.offset.as_deref().or(default_offset),
        ) {
            (Some(_), Some(h), Some(zone)) => {
                let m = self.minute.as_deref().unwrap_or("00");
                let s = self.second.as_deref().unwrap_or("00");
                let frac = self
                    .fraction
                    .as_deref()
                    .map(|f| format!(".{f}"))
                    .unwrap_or_default();
                let zone = if zone == "+00:00" { "Z" } else { zone };
                format!("{}T{h}:{m}:{s}{frac}{zone}", self.date())
            }
            _ => self.date(),
        }
    }

    /// FHIR `instant` (time and zone required).
    pub fn instant(&self, default_offset: Option<&str>) -> Option<String> {
        let v = self.date_time(default_offset);
        v.contains('T').then_some(v)
    }
}

/// FHIR `date` from an HL7 DT/DTM.
pub fn date(raw: Option<String>) -> Option<String> {
    raw.as_deref().and_then(parse_dtm).map(|d| d.date())
}

/// FHIR `dateTime` from an HL7 DTM.
pub fn date_time(raw: Option<String>, default_offset: Option<&str>) -> Option<String> {
    raw.as_deref()
        .and_then(parse_dtm)
        .map(|d| d.date_time(default_offset))
}

/// FHIR `instant` from an HL7 DTM.
pub fn instant(raw: Option<String>, default_offset: Option<&str>) -> Option<String> {
    raw.as_deref()
        .and_then(parse_dtm)
        .and_then(|d| d.instant(default_offset))
}

/// Whether FHIR date/dateTime `a` is not after `b` (instants compared in
/// UTC; values of different precision by their common date prefix).
pub fn not_after(a: &str, b: &str) -> bool {
    use time::format_description::well_known::Rfc3339;
    match (
        time::OffsetDateTime::parse(a, &Rfc3339),
        time::OffsetDateTime::parse(b, &Rfc3339),
    ) {
        (Ok(x), Ok(y)) => x <= y,
        _ => {
            let n = a.len().min(b.len()).min(10);
            a.get(..n).unwrap_or(a) <= b.get(..n).unwrap_or(b)
        }
    }
}

/// A FHIR `decimal` (as written, so its precision survives), or `None`.
pub fn decimal(raw: &str) -> Option<serde_json::Value> {
    let t = raw.trim();
    let t = t.strip_prefix('+').unwrap_or(t);
    let body = t.strip_prefix('-').unwrap_or(t);
    let (int, frac) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    let ok_int = !int.is_empty() && int.bytes().all(|b| b.is_ascii_digit());
    let ok_frac = frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()));
    if !ok_int || !ok_frac || t.len() > 40 {
        return None;
    }
    // Leading zeros are not valid JSON numbers: normalise the integer part.
    let int_trim = int.trim_start_matches('0');
    let int_norm = if int_trim.is_empty() { "0" } else { int_trim };
    let sign = if t.starts_with('-') { "-" } else { "" };
    let text = match frac {
        Some(f) => format!("{sign}{int_norm}.{f}"),
        None => format!("{sign}{int_norm}"),
    };
    serde_json::from_str(&text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_times() {
        let d = parse_dtm("198808181126+0215").unwrap();
        assert_eq!(d.date(), "1988-08-18");
        assert_eq!(d.date_time(None), "1988-08-18T11:26:00+02:15");
        assert_eq!(
            parse_dtm("20210817151943.4+0200").unwrap().date_time(None),
            "2021-08-17T15:19:43.4+02:00"
        );
        assert_eq!(
            parse_dtm("20010101120000").unwrap().date_time(None),
            "2001-01-01"
        );
        assert_eq!(
            parse_dtm("20010101120000")
                .unwrap()
                .date_time(Some("+00:00")),
            "2001-01-01T12:00:00Z"
        );
        assert_eq!(parse_dtm("200105").unwrap().date(), "2001-05");
        assert!(parse_dtm("20011301").is_none());
        assert!(parse_dtm("2001010").is_none());
        assert!(parse_dtm("abc").is_none());
        assert!(parse_dtm("20010101+99").is_none());
        assert!(parse_dtm("20010101").unwrap().instant(Some("Z")).is_none());
    }

    #[test]
    fn ordering_across_offsets() {
        assert!(not_after(
            "2024-01-01T10:00:00+02:00",
            "2024-01-01T09:00:00Z"
        ));
        assert!(!not_after(
            "2024-01-01T10:00:00Z",
            "2024-01-01T11:00:00+02:00"
        ));
        assert!(not_after("2024-01-01", "2024-01-01T00:00:00Z"));
        assert!(!not_after("2024-01-02", "2024-01-01"));
    }

    #[test]
    fn decimals() {
        assert_eq!(decimal("13.40").unwrap().to_string(), "13.40");
        assert_eq!(decimal("007").unwrap().to_string(), "7");
        assert_eq!(decimal("-0.5").unwrap().to_string(), "-0.5");
        assert!(decimal("1e5").is_none());
        assert!(decimal("<5").is_none());
        assert!(decimal("").is_none());
        assert!(decimal(".5").is_none());
    }
}
