//! Instants as milliseconds since the Unix epoch (UTC), and their FHIR `instant` form.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Now, in milliseconds since the epoch.
pub fn now_millis() -> i64 {
    let now = OffsetDateTime::now_utc();
    (now.unix_timestamp_nanos() / 1_000_000) as i64
}

/// `2026-11-25T18:07:31.123Z` for the given milliseconds.
pub fn format_instant(millis: i64) -> String {
    let secs = millis.div_euclid(1000);
    let ms = millis.rem_euclid(1000);
    match OffsetDateTime::from_unix_timestamp(secs) {
        Ok(t) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            ms
        ),
        Err(_) => "1970-01-01T00:00:00.000Z".to_string(),
    }
}

/// Parses a FHIR instant / dateTime / date (as used by `_since`, `If-Modified-Since`
/// in RFC 3339 form) into milliseconds. Dates without time mean the start of the day (UTC).
pub fn parse_instant(text: &str) -> Option<i64> {
    if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some((t.unix_timestamp_nanos() / 1_000_000) as i64);
    }
    let date = match text.len() {
        4 => format!("{text}-01-01T00:00:00Z"),
        7 => format!("{text}-01T00:00:00Z"),
        10 => format!("{text}T00:00:00Z"),
        _ => return None,
    };
    OffsetDateTime::parse(&date, &Rfc3339)
        .ok()
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_round_trip() {
        let ms = 1_764_094_051_123;
        let text = format_instant(ms);
        assert_eq!(text, "2025-11-25T18:07:31.123Z");
        assert_eq!(parse_instant(&text), Some(ms));
        assert_eq!(parse_instant("2025-11-25"), Some(1_764_028_800_000));
        assert_eq!(parse_instant("2025-11-25T19:07:31.123+01:00"), Some(ms));
        assert_eq!(parse_instant("yesterday"), None);
    }
}
