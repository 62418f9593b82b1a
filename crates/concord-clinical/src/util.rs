//! Small helpers shared by the builders.

use crate::error::{ClinicalError, Result};
use serde_json::{json, Value};

/// `Type/id` with a known type and a FHIR id (1–64 of `[A-Za-z0-9.-]`).
pub(crate) fn check_reference(field: &'static str, value: &str, types: &[&str]) -> Result<()> {
    let (ty, id) = value.split_once('/').ok_or_else(|| {
        ClinicalError::new(field, format!("expected a reference like {}/123", types[0]))
    })?;
    if !types.contains(&ty) {
        return Err(ClinicalError::new(
            field,
            format!("must refer to one of: {}", types.join(", ")),
        ));
    }
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    if ok {
        Ok(())
    } else {
        Err(ClinicalError::new(field, "the id is not a valid FHIR id"))
    }
}

pub(crate) fn reference(value: &str) -> Value {
    json!({ "reference": value })
}

/// Trimmed, non-empty text.
pub(crate) fn required_text(field: &'static str, value: &str) -> Result<String> {
    let t = value.trim();
    if t.is_empty() {
        Err(ClinicalError::new(field, "is required"))
    } else {
        Ok(t.to_string())
    }
}

/// Escapes text for the XHTML narrative `div`.
pub(crate) fn xhtml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters other than tab/newline are not allowed in XML.
            c if c.is_control() && c != '\n' && c != '\t' && c != '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// A narrative: each line of `text` becomes a paragraph.
pub(crate) fn narrative(text: &str) -> Value {
    let mut div = String::from("<div xmlns=\"http://www.w3.org/1999/xhtml\">");
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        div.push_str("<p>");
        div.push_str(&xhtml_escape(line));
        div.push_str("</p>");
    }
    div.push_str("</div>");
    json!({ "status": "generated", "div": div })
}

/// A FHIR `instant`/`dateTime` check: the shape `YYYY-MM-DDThh:mm:ss(.sss)(Z|±hh:mm)`.
pub(crate) fn check_datetime(field: &'static str, value: &str) -> Result<time::OffsetDateTime> {
    time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339).map_err(
        |_| ClinicalError::new(field, "expected a date and time like 2026-03-01T09:30:00Z"),
    )
}

pub(crate) fn format_datetime(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
pub(crate) mod test_support {
    use serde_json::Value;

    /// Panics with the validator's messages when `resource` fails validation.
    pub fn assert_valid(resource: &Value) {
        let issues = concord_validation::validate_resource(resource);
        let failures: Vec<_> = issues.iter().filter(|i| i.severity.is_failure()).collect();
        assert!(
            failures.is_empty(),
            "{} invalid: {failures:?}\n{resource:#}",
            resource["resourceType"]
        );
    }
}
