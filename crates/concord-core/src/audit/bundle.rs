//! One AuditEvent per entry of a batch or transaction: the request Bundle
//! gives each entry's method, URL and resource; the response Bundle its
//! status and location.

use serde_json::Value;

use super::patients::patients_of;
use super::record::{Action, AuditRecord, Category};

fn entries(bundle: &[u8]) -> Vec<Value> {
    serde_json::from_slice::<Value>(bundle)
        .ok()
        .and_then(|b| b.get("entry").and_then(Value::as_array).cloned())
        .unwrap_or_default()
}

/// `Type/id[/_history/v]` from a location or URL (absolute or relative).
fn resource_path(url: &str) -> Option<String> {
    let path = url.split(['?', '#']).next().unwrap_or("");
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let start = parts
        .iter()
        .position(|p| p.chars().next().is_some_and(|c| c.is_ascii_uppercase()))?;
    let rest = &parts[start..];
    (rest.len() >= 2 && !rest[1].starts_with('$')).then(|| rest.join("/"))
}

/// `batch` or `transaction`, from the request Bundle's type.
pub fn bundle_kind(request: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(request).ok()?;
    match v.get("type").and_then(Value::as_str)? {
        k @ ("batch" | "transaction") => Some(k.to_string()),
        _ => None,
    }
}

/// The records of each entry, agent and request id taken from the Bundle's.
pub fn entry_records(parent: &AuditRecord, request: &[u8], response: &[u8]) -> Vec<AuditRecord> {
    let requests = entries(request);
    let responses = entries(response);
    let mut out = Vec::with_capacity(requests.len());
    for (i, entry) in requests.iter().enumerate() {
        let req = entry.get("request");
        let method = req
            .and_then(|r| r.get("method"))
            .and_then(Value::as_str)
            .unwrap_or("");
        let url = req
            .and_then(|r| r.get("url"))
            .and_then(Value::as_str)
            .unwrap_or("");
        let answer = responses.get(i).and_then(|e| e.get("response"));
        let status = answer
            .and_then(|r| r.get("status"))
            .and_then(Value::as_str)
            .and_then(|s| s.split_whitespace().next())
            .and_then(|s| s.parse().ok())
            .unwrap_or(if parent.status < 300 {
                200
            } else {
                parent.status
            });
        let location = answer
            .and_then(|r| r.get("location"))
            .and_then(Value::as_str);
        let is_search = url.contains('?') || resource_path(url).is_none();
        let (interaction, action) = match method {
            "POST" => ("create", Action::Create),
            "PUT" => ("update", Action::Update),
            "PATCH" => ("patch", Action::Update),
            "DELETE" => ("delete", Action::Delete),
            _ if url.contains('$') => ("operation", Action::Execute),
            _ if is_search => ("search-type", Action::Read),
            _ => ("read", Action::Read),
        };
        let mut patients = entry.get("resource").map(patients_of).unwrap_or_default();
        if let Some(r) = answer
            .and_then(|_| responses.get(i))
            .and_then(|e| e.get("resource"))
        {
            patients.extend(patients_of(r));
            patients.sort();
            patients.dedup();
        }
        let resource = location
            .and_then(resource_path)
            .or_else(|| (!is_search).then(|| resource_path(url)).flatten());
        out.push(AuditRecord {
            category: Category::Rest,
            interaction: interaction.to_string(),
            action,
            status,
            resource,
            query: (method == "GET" && is_search).then(|| url.to_string()),
            operation: None,
            patients,
            ..parent.clone()
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_from_urls() {
        assert_eq!(resource_path("Patient/1"), Some("Patient/1".into()));
        assert_eq!(
            resource_path("http://x/fhir/Patient/1/_history/2"),
            Some("Patient/1/_history/2".into())
        );
        assert_eq!(resource_path("Patient?name=x"), None);
        assert_eq!(resource_path("Patient"), None);
    }
}
