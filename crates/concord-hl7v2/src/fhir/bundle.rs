//! The transaction Bundle a message becomes: deterministic ids, entries
//! with conditional create/update on identifiers, and the Provenance that
//! points at the stored message.

use std::collections::HashMap;

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

/// A deterministic id in UUID form (SHA-256 of the parts), so the same
/// fact in a corrected or re-sent message lands on the same resource and
/// the same `urn:uuid:` full URL.
pub fn deterministic_id(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0x1f]);
    }
    let d = h.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    b[6] = (b[6] & 0x0f) | 0x80; // version 8: custom (RFC 9562)
    b[8] = (b[8] & 0x3f) | 0x80; // RFC variant
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// Percent-encodes a search value (keeps `:` `/` `.` readable).
pub fn query_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b':' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `identifier=system|value`, encoded.
pub fn identifier_query(system: &str, value: &str) -> String {
    format!("identifier={}|{}", query_value(system), query_value(value))
}

/// Collects the entries of one transaction.
#[derive(Default)]
pub struct Builder {
    entries: Vec<Value>,
    targets: Vec<String>,
    conditional_creates: HashMap<String, String>,
}

impl Builder {
    pub fn new() -> Builder {
        Builder::default()
    }

    fn push(&mut self, id: &str, mut resource: Value, request: Value) -> String {
        let full = format!("urn:uuid:{id}");
        if let Some(obj) = resource.as_object_mut() {
            obj.insert("id".into(), json!(id));
        }
        self.entries.push(entry(&full, resource, request));
        self.targets.push(full.clone());
        full
    }

    /// `PUT Type/id`: creates the resource or makes a new version of it.
    pub fn put(&mut self, resource_type: &str, id: &str, resource: Value) -> String {
        let url = format!("{resource_type}/{id}");
        self.push(id, resource, json!({"method": "PUT", "url": url}))
    }

    /// `PUT Type?query`: updates the one match, or creates with `id`.
    pub fn put_conditional(
        &mut self,
        resource_type: &str,
        query: &str,
        id: &str,
        resource: Value,
    ) -> String {
        let url = format!("{resource_type}?{query}");
        self.push(id, resource, json!({"method": "PUT", "url": url}))
    }

    /// `POST Type` with `ifNoneExist`: links to the match, or creates.
    /// The same query twice in one message gives one entry.
    pub fn create_if_none(&mut self, resource_type: &str, query: &str, resource: Value) -> String {
        let key = format!("{resource_type}?{query}");
        if let Some(full) = self.conditional_creates.get(&key) {
            return full.clone();
        }
        let id = deterministic_id(&["create", &key]);
        let full = format!("urn:uuid:{id}");
        let mut resource = resource;
        if let Some(obj) = resource.as_object_mut() {
            obj.remove("id");
        }
        self.entries.push(entry(
            &full,
            resource,
            json!({"method": "POST", "url": resource_type, "ifNoneExist": query}),
        ));
        self.targets.push(full.clone());
        self.conditional_creates.insert(key, full.clone());
        full
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The transaction, with a Provenance (`activity` "update", agent the
    /// sending application, entity the stored message) over every entry.
    pub fn finish(
        mut self,
        provenance_id: &str,
        message_reference: &str,
        recorded: &str,
        sender: &str,
    ) -> Value {
        if !self.targets.is_empty() {
            let targets: Vec<Value> = self
                .targets
                .iter()
                .map(|t| json!({"reference": t}))
                .collect();
            let provenance = json!({
                "resourceType": "Provenance",
                "target": targets,
                "recorded": recorded,
                "activity": {"coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/v3-DataOperation",
                    "code": "UPDATE"
                }]},
                "agent": [{
                    "type": {"coding": [{
                        "system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                        "code": "assembler"
                    }]},
                    "who": {"display": format!("HL7 v2 interface: {sender}")}
                }],
                "entity": [{"role": "source", "what": {"reference": message_reference}}]
            });
            let url = format!("Provenance/{provenance_id}");
            self.push(
                provenance_id,
                provenance,
                json!({"method": "PUT", "url": url}),
            );
        }
        transaction(self.entries)
    }
}

/// A Bundle entry. Built by moving its parts in: `json!` would copy
/// `resource` by serializing it (`serde_json::to_value`); with the copy of
/// the whole Bundle in [`Builder::finish`] that was about a third of the
/// mapping's time.
pub fn entry(full_url: &str, resource: Value, request: Value) -> Value {
    let mut e = Map::with_capacity(3);
    e.insert("fullUrl".into(), Value::String(full_url.to_string()));
    e.insert("resource".into(), resource);
    e.insert("request".into(), request);
    Value::Object(e)
}

/// A transaction Bundle of `entries` (moved in, not copied).
pub fn transaction(entries: Vec<Value>) -> Value {
    let mut b = Map::with_capacity(3);
    b.insert("resourceType".into(), json!("Bundle"));
    b.insert("type".into(), json!("transaction"));
    b.insert("entry".into(), Value::Array(entries));
    Value::Object(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_uuid_shaped_and_distinct() {
        let a = deterministic_id(&["Observation", "x", "1"]);
        assert_eq!(a, deterministic_id(&["Observation", "x", "1"]));
        assert_ne!(a, deterministic_id(&["Observation", "x1", ""]));
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "8");
    }

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(
            identifier_query("urn:oid:1.2", "A&B=C|D"),
            "identifier=urn:oid:1.2|A%26B%3DC%7CD"
        );
    }
}
