//! Full-text rows for `_text` (the narrative) and `_content` (every string
//! in the resource): the distinct normalized words, space-separated, which
//! the backends keep in their full-text index (SQLite FTS5, PostgreSQL
//! `tsvector`). A search term matches a resource holding every word of the
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

/// Every string value (not keys), narrative text included, space-separated.
fn collect_strings(v: &Value, out: &mut String) {
    match v {
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
            .filter(|(k, _)| *k != "resourceType")
            .for_each(|(_, x)| collect_strings(x, out)),
        _ => {}
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
}
