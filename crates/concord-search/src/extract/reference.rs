//! Reference rows: relative `Type/id` (and `Type/id/_history/n`), absolute
//! URLs (kept whole, plus type and id when the URL ends in `Type/id`),
//! canonicals (URL only); contained `#id` references are skipped. A
//! `Reference.identifier` becomes a `CODE:identifier` token row.

use super::{push_unique, str_of, IDENTIFIER_SUFFIX};
use crate::registry::SearchParamDef;
use concord_fhir::is_resource_type;
use concord_store::{IndexRows, ReferenceIndex, TokenIndex};
use serde_json::Value;

/// A parsed reference: (type, id, absolute url).
pub(crate) type Parsed<'a> = (Option<&'a str>, Option<&'a str>, Option<&'a str>);

pub(super) fn add(p: &SearchParamDef, only: Option<&str>, v: &Value, rows: &mut IndexRows) {
    let (text, hint) = match v {
        Value::String(s) => (Some(s.as_str()), None),
        Value::Object(_) => {
            if let Some(ident) = v.get("identifier") {
                if let Some(value) = str_of(ident, "value") {
                    push_unique(
                        &mut rows.tokens,
                        TokenIndex {
                            param: format!("{}{IDENTIFIER_SUFFIX}", p.code),
                            system: str_of(ident, "system").map(str::to_string),
                            code: value.to_string(),
                        },
                    );
                }
            }
            (str_of(v, "reference"), str_of(v, "type"))
        }
        _ => return,
    };
    let Some(text) = text else { return };
    let hint = hint.or(match p.targets {
        [one] => Some(one.as_str()),
        _ => None,
    });
    let Some((ty, id, url)) = parse(text, hint) else {
        return;
    };
    if let Some(only) = only {
        if ty != Some(only) {
            return;
        }
    }
    push_unique(
        &mut rows.references,
        ReferenceIndex {
            param: p.code.to_string(),
            target_type: ty.map(str::to_string),
            target_id: id.map(str::to_string),
            url: url.map(str::to_string),
        },
    );
}

/// Parses a reference string; `None` for contained (`#id`) or empty ones.
pub(crate) fn parse<'a>(text: &'a str, hint: Option<&'a str>) -> Option<Parsed<'a>> {
    if text.is_empty() || text.starts_with('#') {
        return None;
    }
    let absolute = text.contains("://") || text.starts_with("urn:");
    let path = match text.find("/_history/") {
        Some(at) => &text[..at],
        None => text,
    };
    let mut segments = path.rsplit('/');
    let last = segments.next().filter(|s| !s.is_empty());
    let before = segments.next();
    let typed = match (before, last) {
        (Some(t), Some(id)) if is_resource_type(t) && is_id(id) => Some((t, id)),
        _ => None,
    };
    if absolute {
        let (ty, id) = typed.map_or((None, None), |(t, i)| (Some(t), Some(i)));
        return Some((ty, id, Some(text)));
    }
    match typed {
        Some((t, id)) => Some((Some(t), Some(id), None)),
        None if before.is_none() => Some((hint, last, None)),
        None => Some((None, None, Some(text))),
    }
}

/// A FHIR id: 1-64 of `A-Z a-z 0-9 - .`.
fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn parses_reference_forms() {
        assert_eq!(
            parse("Patient/1", None),
            Some((Some("Patient"), Some("1"), None))
        );
        assert_eq!(
            parse("Patient/1/_history/2", None),
            Some((Some("Patient"), Some("1"), None))
        );
        assert_eq!(
            parse("http://x.org/fhir/Patient/1", None),
            Some((
                Some("Patient"),
                Some("1"),
                Some("http://x.org/fhir/Patient/1")
            ))
        );
        assert_eq!(
            parse("http://x.org/ValueSet/a|1.0", None),
            Some((None, None, Some("http://x.org/ValueSet/a|1.0")))
        );
        assert_eq!(parse("#c1", None), None);
        assert_eq!(
            parse("123", Some("Patient")),
            Some((Some("Patient"), Some("123"), None))
        );
        assert_eq!(parse("123", None), Some((None, Some("123"), None)));
    }
}
