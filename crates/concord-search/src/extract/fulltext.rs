//! Full-text rows for `_text` (the narrative) and `_content` (the text of
//! the resource: its string values but ids, references, code systems,
//! URLs, base64 data, dates and times, and `meta`): the distinct normalized
//! words, space-separated, which the backends keep in their full-text index
//! (SQLite FTS5, PostgreSQL `tsvector`). A search term matches a resource holding every word of the
//! term. At most [`MAX_WORDS`] words per parameter are kept, in order of
//! first appearance.

use foldhash::{HashSet, HashSetExt};

use crate::normalize::normalize;
use concord_store::{FullTextIndex, IndexRows};
use serde_json::Value;

pub const MAX_WORDS: usize = 2000;

/// The distinct words of `text` (normalized, split on anything that is not
/// a letter or digit; single characters dropped).
pub fn words(text: &str) -> Vec<String> {
    let norm = normalize(text);
    distinct_words(&norm, usize::MAX)
        .map(str::to_string)
        .collect()
}

/// The first `limit` distinct words of an already normalized text, borrowed
/// from it (no string is copied to test whether a word was seen).
fn distinct_words(norm: &str, limit: usize) -> impl Iterator<Item = &str> {
    let mut seen: HashSet<&str> = HashSet::new();
    norm.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().nth(1).is_some())
        .filter(move |w| seen.insert(w))
        .take(limit)
}

pub(super) fn add(resource: &Value, rows: &mut IndexRows) {
    if let Some(div) = resource.pointer("/text/div").and_then(Value::as_str) {
        push_words("_text", &strip_tags(div), rows);
    }
    let mut all = String::new();
    collect_strings(resource, &mut all);
    push_words("_content", &all, rows);
}

/// Adds the row of `param`: its first [`MAX_WORDS`] distinct words,
/// space-separated.
fn push_words(param: &str, text: &str, rows: &mut IndexRows) {
    let norm = normalize(text);
    let mut joined = String::with_capacity(norm.len().min(64 * 1024));
    for w in distinct_words(&norm, MAX_WORDS) {
        if !joined.is_empty() {
            joined.push(' ');
        }
        joined.push_str(w);
    }
    if !joined.is_empty() {
        rows.fulltext.push(FullTextIndex {
            param: param.to_string(),
            words: joined,
        });
    }
}

/// Text of an XHTML fragment with the tags (and entities' markup) removed.
fn strip_tags(div: &str) -> String {
    let mut out = String::with_capacity(div.len());
    let mut in_tag = false;
    for c in div.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// Elements whose strings are addresses, not text: ids, references, code
/// systems, URLs, attachments' base64 data and media types, the resource's
/// type, and `meta` (searched by `_tag`, `_security`, `_profile` and
/// `_source`). Their words (fragments of UUIDs, `http`, `org`) would match
/// no one's search, made most of a resource's distinct words, and cost
/// the full-text index most of its work: 0.20 → 0.055 ms of SQLite's CPU
/// per ORU^R01 message (`concord bench sqlite-floor`, 28 Nov 2026).
const NOT_TEXT: [&str; 9] = [
    "meta",
    "resourceType",
    "id",
    "reference",
    "system",
    "url",
    "fullUrl",
    "data",
    "contentType",
];

/// The human-readable string values (not keys), narrative text included,
/// space-separated: every string but those of [`NOT_TEXT`] elements and
/// dates and times.
fn collect_strings(v: &Value, out: &mut String) {
    match v {
        Value::String(s) if is_date_time(s) => {}
        Value::String(s) => {
            if s.starts_with("<div") {
                out.push_str(&strip_tags(s));
            } else {
                out.push_str(s);
            }
            out.push(' ');
        }
        Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out)),
        Value::Object(o) => o
            .iter()
            .filter(|(k, _)| !NOT_TEXT.contains(&k.as_str()))
            .for_each(|(_, x)| collect_strings(x, out)),
        _ => {}
    }
}

/// A FHIR date, dateTime, instant or time: `YYYY`, `YYYY-MM`,
/// `YYYY-MM-DD`, each maybe followed by `T` and a time; or `hh:mm[:ss…]`.
/// (`2345-7`, a LOINC code, is not one.)
fn is_date_time(s: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let time_chars = |from: usize| {
        b[from..]
            .iter()
            .all(|c| c.is_ascii_digit() || matches!(c, b':' | b'.' | b'+' | b'-' | b'Z'))
    };
    if digits(0..2) && b.get(2) == Some(&b':') && digits(3..5) {
        return time_chars(5);
    }
    if !digits(0..4) {
        return false;
    }
    let mut at = 4;
    for _ in 0..2 {
        match b.get(at) {
            None => return true,
            Some(b'-') if digits(at + 1..at + 3) => at += 3,
            Some(b'T') => break,
            _ => return false,
        }
    }
    match b.get(at) {
        None => true,
        Some(b'T') => digits(at + 1..at + 3) && b.get(at + 3) == Some(&b':') && time_chars(at + 3),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn words_are_normalized_and_distinct() {
        assert_eq!(
            words("Heart  FAILURE, heart-failure; Café a"),
            vec!["heart", "failure", "cafe"]
        );
    }

    #[test]
    fn narrative_and_content_rows() {
        let mut rows = IndexRows::default();
        add(
            &json!({"resourceType": "Condition", "text": {"status": "generated",
                "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Chronic <b>asthma</b></p></div>"},
                "code": {"text": "Asthma, persistent"}, "note": [{"text": "Night cough"}]}),
            &mut rows,
        );
        let of = |p: &str| -> Vec<&str> {
            rows.fulltext
                .iter()
                .filter(|t| t.param == p)
                .flat_map(|t| t.words.split(' '))
                .collect()
        };
        assert_eq!(of("_text"), vec!["chronic", "asthma"]);
        let content = of("_content");
        for w in [
            "chronic",
            "asthma",
            "persistent",
            "night",
            "cough",
            "generated",
        ] {
            assert!(content.contains(&w), "{w} in {content:?}");
        }
        assert!(!content.contains(&"xmlns") && !content.contains(&"condition"));
    }

    #[test]
    fn content_is_the_text_not_ids_references_systems_urls_dates_or_meta() {
        let mut rows = IndexRows::default();
        add(
            &json!({"resourceType": "Observation", "id": "0190f1a2-7c3b-7000-8000-00000000abcd",
                "meta": {"source": "urn:concord:hl7v2:inbound", "versionId": "3", "lastUpdated": "2026-01-01T00:00:00Z"},
                "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": "2345-7", "display": "Glucose"}]},
                "subject": {"reference": "Patient/0190f1a2-aaaa-7000-8000-000000000001", "display": "Ana Doe"},
                "identifier": [{"system": "urn:oid:1.2.3", "value": "LAB-991"}],
                "effectiveDateTime": "2024-01-02T07:00:00+01:00", "issued": "2024-01-02T08:00:00.120Z",
                "extension": [{"url": "http://example.org/fhir/StructureDefinition/shift", "valueString": "night shift"}],
                "note": [{"text": "Fasting since 22:00"}]}),
            &mut rows,
        );
        let content: Vec<&str> = rows
            .fulltext
            .iter()
            .filter(|t| t.param == "_content")
            .flat_map(|t| t.words.split(' '))
            .collect();
        for w in [
            "final", "2345", "glucose", "ana", "doe", "lab", "991", "night", "shift", "fasting",
            "since", "22",
        ] {
            assert!(content.contains(&w), "{w} in {content:?}");
        }
        for w in [
            "0190f1a2",
            "7c3b",
            "abcd",
            "http",
            "loinc",
            "org",
            "patient",
            "urn",
            "concord",
            "inbound",
            "2024",
            "01",
            "07",
            "example",
            "structuredefinition",
            "oid",
        ] {
            assert!(!content.contains(&w), "{w} in {content:?}");
        }
    }

    #[test]
    fn dates_and_times_are_told_from_text() {
        for s in [
            "2024",
            "2024-01",
            "2024-01-02",
            "2024-01-02T07:00:00Z",
            "2024-01-02T07:00:00.120+01:00",
            "07:00:00",
            "23:59",
        ] {
            assert!(is_date_time(s), "{s}");
        }
        for s in [
            "2345-7",
            "24323-8",
            "12",
            "1234 Main St",
            "Fasting since 22:00",
            "2024 results",
            "1:2",
            "2024-01-02 was cold",
        ] {
            assert!(!is_date_time(s), "{s}");
        }
    }
}
