//! A few direct rules on specific types that the structure alone cannot
//! express, which the reference (HL7 Java) validator also applies:
//! absolute `Coding.system` and `Bundle.entry.fullUrl`, `Attachment.size`
//! matching inline `data`, ids on search matches, unique link relations and
//! at least two components on composite SearchParameters.

use concord_fhir::{Issue, IssueType};
use serde_json::{Map, Value};

fn err(issues: &mut Vec<Issue>, at: String, msg: String) {
    issues.push(Issue::error(IssueType::Invalid, msg).at(at));
}

/// An absolute URI has a scheme (`http:`, `urn:`, ...).
fn is_absolute(uri: &str) -> bool {
    match uri.split_once(':') {
        Some((scheme, _)) => {
            let mut b = scheme.bytes();
            b.next().is_some_and(|c| c.is_ascii_alphabetic())
                && b.all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
        }
        None => false,
    }
}

/// Runs the rules for an object of type `type_name` located at `path`.
pub fn check(type_name: &str, path: &str, obj: &Map<String, Value>, issues: &mut Vec<Issue>) {
    match type_name {
        "Coding" => coding(path, obj, issues),
        "Attachment" => attachment(path, obj, issues),
        "Bundle" => bundle(path, obj, issues),
        "SearchParameter" => search_parameter(path, obj, issues),
        _ => {}
    }
}

fn coding(path: &str, obj: &Map<String, Value>, issues: &mut Vec<Issue>) {
    if let Some(system) = obj.get("system").and_then(Value::as_str) {
        if !is_absolute(system) {
            let msg = format!("Coding.system must be an absolute URI, not '{system}'");
            err(issues, format!("{path}.system"), msg);
        }
    }
}

fn base64_len(data: &str) -> usize {
    let chars: Vec<u8> = data.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let pad = chars.iter().rev().take_while(|&&b| b == b'=').count();
    (chars.len() / 4 * 3).saturating_sub(pad)
}

fn attachment(path: &str, obj: &Map<String, Value>, issues: &mut Vec<Issue>) {
    let (Some(data), Some(size)) = (
        obj.get("data").and_then(Value::as_str),
        obj.get("size").and_then(Value::as_u64),
    ) else {
        return;
    };
    let actual = base64_len(data);
    if actual as u64 != size {
        let msg = format!("stated attachment size {size} does not match the data size {actual}");
        err(issues, format!("{path}.size"), msg);
    }
}

fn bundle(path: &str, obj: &Map<String, Value>, issues: &mut Vec<Issue>) {
    let searchset = obj.get("type").and_then(Value::as_str) == Some("searchset");
    if let Some(links) = obj.get("link").and_then(Value::as_array) {
        for (i, link) in links.iter().enumerate() {
            let rel = link.get("relation").and_then(Value::as_str);
            let earlier = links[..i]
                .iter()
                .any(|l| rel.is_some() && l.get("relation").and_then(Value::as_str) == rel);
            if earlier {
                let msg = format!(
                    "the link relation '{}' may only occur once",
                    rel.unwrap_or("")
                );
                err(issues, format!("{path}.link[{i}]"), msg);
            }
        }
    }
    let Some(entries) = obj.get("entry").and_then(Value::as_array) else {
        return;
    };
    for (i, entry) in entries.iter().enumerate() {
        if let Some(full) = entry.get("fullUrl").and_then(Value::as_str) {
            if !is_absolute(full) {
                let msg = format!("fullUrl must be an absolute URL, not '{full}'");
                err(issues, format!("{path}.entry[{i}].fullUrl"), msg);
            }
        }
        let is_match = entry.pointer("/search/mode").and_then(Value::as_str) == Some("match");
        if searchset && is_match {
            if let Some(res) = entry.get("resource") {
                if res.get("id").is_none() {
                    let msg = "search results must have ids".to_string();
                    err(issues, format!("{path}.entry[{i}].resource"), msg);
                }
            }
        }
    }
}

fn search_parameter(path: &str, obj: &Map<String, Value>, issues: &mut Vec<Issue>) {
    if obj.get("type").and_then(Value::as_str) != Some("composite") {
        return;
    }
    let n = obj
        .get("component")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    if n < 2 {
        let msg =
            format!("a composite SearchParameter must define two or more components, found {n}");
        err(issues, path.to_string(), msg);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_uris() {
        assert!(is_absolute("http://loinc.org"));
        assert!(is_absolute("urn:oid:1.2"));
        assert!(!is_absolute("ValueSet/x"));
        assert!(!is_absolute("Patient/1"));
    }

    #[test]
    fn base64_sizes() {
        assert_eq!(base64_len("aGVsbG8="), 5);
        assert_eq!(base64_len("aGVs bG8h"), 6);
    }
}
