//! Reference resolution inside a Bundle (FHIR R4 §2.36.4, "Resolving
//! references in Bundles"): a reference that resolves to more than one
//! entry is ambiguous, and in a document a versioned reference to a resource
//! that the document holds must match one of its versions.
//!
//! The walker records each `Reference.reference` met inside a Bundle (with
//! its location); the Bundle is resolved once, after its walk, with one map
//! from fullUrl to entries. History bundles (which hold several versions of
//! a resource by design) are not checked.

use concord_fhir::{is_resource_type, Issue, IssueType};
use serde_json::{Map, Value};
use std::collections::HashMap;

pub struct BundleFrame {
    /// The Bundle's own location (`Bundle`, `Bundle.entry[0].resource`).
    prefix: String,
    /// (location of the Reference, its `reference` value).
    refs: Vec<(String, String)>,
}

struct Entry<'a> {
    version: Option<&'a str>,
}

impl BundleFrame {
    pub fn new(prefix: String) -> Self {
        BundleFrame {
            prefix,
            refs: Vec::new(),
        }
    }

    pub fn add(&mut self, path: &str, reference: &str) {
        if !reference.starts_with('#') {
            self.refs.push((path.to_string(), reference.to_string()));
        }
    }

    /// The entry index a location inside this Bundle belongs to.
    fn entry_index(&self, path: &str) -> Option<usize> {
        let rest = path.strip_prefix(&self.prefix)?.strip_prefix(".entry[")?;
        rest.split_once(']')?.0.parse().ok()
    }

    pub fn resolve(self, bundle: &Map<String, Value>, issues: &mut Vec<Issue>) {
        if self.refs.is_empty() {
            return;
        }
        let kind = bundle.get("type").and_then(Value::as_str).unwrap_or("");
        if kind == "history" {
            return;
        }
        let entries: &[Value] = bundle
            .get("entry")
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice);
        let mut by_url: HashMap<&str, Vec<Entry>> = HashMap::new();
        for e in entries {
            let Some(full) = e.get("fullUrl").and_then(Value::as_str) else {
                continue;
            };
            let version = e
                .pointer("/resource/meta/versionId")
                .and_then(Value::as_str);
            by_url.entry(full).or_default().push(Entry { version });
        }
        for (at, reference) in &self.refs {
            let Some(i) = self.entry_index(at) else {
                continue;
            };
            let source = entries
                .get(i)
                .and_then(|e| e.get("fullUrl"))
                .and_then(Value::as_str);
            let (target, version) = match reference.split_once("/_history/") {
                Some((t, v)) => (t, Some(v)),
                None => (reference.as_str(), None),
            };
            let Some(url) = target_url(source, target) else {
                continue;
            };
            let Some(found) = by_url.get(url.as_str()) else {
                continue;
            };
            match version {
                None if found.len() > 1 => {
                    let msg = format!(
                        "multiple matches in the bundle for the reference {reference} ({} entries have the fullUrl {url}); use a versioned reference",
                        found.len()
                    );
                    issues.push(Issue::error(IssueType::Invalid, msg).at(at.clone()));
                }
                Some(v) if kind == "document" && !found.iter().any(|e| e.version == Some(v)) => {
                    let msg = format!(
                        "the reference {reference} is not in the document: it holds {url}, but not version {v}"
                    );
                    issues.push(Issue::error(IssueType::NotFound, msg).at(at.clone()));
                }
                _ => {}
            }
        }
    }
}

/// The full URL a reference points to, from the fullUrl of the entry that
/// holds it: absolute references as written; `Type/id` relative to a
/// RESTful fullUrl (`[base]/Type/id`). `None` when it cannot be resolved
/// locally (relative reference from a `urn:` or missing fullUrl).
fn target_url(source: Option<&str>, target: &str) -> Option<String> {
    if target.contains("://") || target.starts_with("urn:") {
        return Some(target.to_string());
    }
    let (ty, id) = target.split_once('/')?;
    if !is_resource_type(ty) || id.contains('/') {
        return None;
    }
    let source = source?;
    if !(source.starts_with("http://") || source.starts_with("https://")) {
        return None;
    }
    // Strip `/Type/id` (and a `/_history/n`) from the holder's fullUrl.
    let source = source.split("/_history/").next().unwrap_or(source);
    let mut parts = source.rsplitn(3, '/');
    let (_id, src_ty, base) = (parts.next()?, parts.next()?, parts.next()?);
    if !is_resource_type(src_ty) {
        return None;
    }
    Some(format!("{base}/{target}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_urls() {
        let src = Some("http://x.org/fhir/Composition/1");
        assert_eq!(
            target_url(src, "Patient/2").as_deref(),
            Some("http://x.org/fhir/Patient/2")
        );
        assert_eq!(target_url(Some("urn:uuid:1"), "Patient/2"), None);
        assert_eq!(
            target_url(None, "urn:uuid:abc").as_deref(),
            Some("urn:uuid:abc")
        );
        assert_eq!(target_url(src, "Nope/2"), None);
    }
}
