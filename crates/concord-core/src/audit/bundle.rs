//! One AuditEvent per entry of a batch or transaction: the request Bundle
//! gives each entry's method, URL and resource; the response Bundle its
//! status and location.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::Value;

use super::patients::PatientFields;
use super::record::{Action, AuditRecord, Category};

/// What the trail reads of a request or response Bundle: everything else
/// (the resources' other elements above all) is skipped while parsing.
#[derive(Deserialize, Default)]
struct BundleView {
    #[serde(rename = "type", default)]
    kind: Option<Value>,
    #[serde(default)]
    entry: Vec<EntryView>,
}

#[derive(Deserialize, Default)]
struct EntryView {
    #[serde(rename = "fullUrl", default)]
    full_url: Option<Value>,
    #[serde(default)]
    request: Option<HashMap<String, Value>>,
    #[serde(default)]
    response: Option<HashMap<String, Value>>,
    #[serde(default)]
    resource: Option<PatientFields>,
}

fn text<'a>(part: Option<&'a HashMap<String, Value>>, key: &str) -> Option<&'a str> {
    part.and_then(|m| m.get(key)).and_then(Value::as_str)
}

fn view(bytes: &[u8]) -> BundleView {
    serde_json::from_slice(bytes).unwrap_or_default()
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

/// The Bundle's kind (`batch` or `transaction`, from the request's type)
/// and the records of each entry, agent and request id taken from the
/// Bundle's. The request and the response are each parsed once; a
/// transaction's `urn:uuid:` references to a Patient it creates count as
/// that patient (its id from the response's location).
pub fn entry_records(
    parent: &AuditRecord,
    request: &[u8],
    response: &[u8],
) -> (Option<String>, Vec<AuditRecord>) {
    let requests = view(request);
    let responses = view(response);
    let kind = match requests.kind.as_ref().and_then(Value::as_str) {
        Some(k @ ("batch" | "transaction")) => Some(k.to_string()),
        _ => None,
    };
    // fullUrl → id of each Patient the Bundle created or updated.
    let created: HashMap<&str, String> = requests
        .entry
        .iter()
        .zip(&responses.entry)
        .filter_map(|(req, res)| {
            let full_url = req.full_url.as_ref()?.as_str()?;
            let location = text(res.response.as_ref(), "location")?;
            let path = resource_path(location)?;
            let id = path.strip_prefix("Patient/")?.split('/').next()?;
            Some((full_url, id.to_string()))
        })
        .collect();
    let resolve = |reference: &str| created.get(reference).cloned();
    let mut out = Vec::with_capacity(requests.entry.len());
    for (i, entry) in requests.entry.iter().enumerate() {
        let req = entry.request.as_ref();
        let method = text(req, "method").unwrap_or("");
        let url = text(req, "url").unwrap_or("");
        let answer = responses.entry.get(i);
        let answer_part = answer.and_then(|e| e.response.as_ref());
        let status = text(answer_part, "status")
            .and_then(|s| s.split_whitespace().next())
            .and_then(|s| s.parse().ok())
            .unwrap_or(if parent.status < 300 {
                200
            } else {
                parent.status
            });
        let location = text(answer_part, "location");
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
        let mut patients = entry
            .resource
            .as_ref()
            .map(|r| r.patients(&resolve))
            .unwrap_or_default();
        if let Some(r) = answer
            .filter(|e| e.response.is_some())
            .and_then(|e| e.resource.as_ref())
        {
            patients.extend(r.patients(&resolve));
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
    (kind, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parent() -> AuditRecord {
        AuditRecord {
            tenant: "t".into(),
            recorded: 0,
            category: Category::Rest,
            interaction: "transaction".into(),
            action: Action::Execute,
            status: 200,
            agent: concord_store::audit_record::Agent {
                who: "operator:test".into(),
                name: None,
                fhir_user: None,
                client_id: None,
                role: None,
            },
            address: None,
            resource: None,
            query: None,
            operation: None,
            patients: Vec::new(),
            request_id: "r1".into(),
            reason: None,
        }
    }

    #[test]
    fn a_transaction_names_each_entry_and_the_patients_it_creates() {
        let request = serde_json::json!({"resourceType": "Bundle", "type": "transaction", "entry": [
            {"fullUrl": "urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a",
             "resource": {"resourceType": "Patient", "name": [{"family": "Chalmers"}]},
             "request": {"method": "POST", "url": "Patient"}},
            {"fullUrl": "urn:uuid:88f151c0-a954-468a-88bd-5ae15c08e059",
             "resource": {"resourceType": "Observation", "status": "final",
                          "subject": {"reference": "urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a"},
                          "performer": [{"reference": "Patient/other"}],
                          "code": {"text": "x"}},
             "request": {"method": "POST", "url": "Observation"}},
            {"request": {"method": "GET", "url": "Patient?name=x"}},
            {"request": {"method": "DELETE", "url": "Condition/c1"}}]});
        let response = serde_json::json!({"resourceType": "Bundle", "type": "transaction-response", "entry": [
            {"response": {"status": "201 Created", "location": "Patient/p7/_history/1"}},
            {"response": {"status": "201 Created", "location": "Observation/o3/_history/1"}},
            {"response": {"status": "200 OK"}},
            {"response": {"status": "204 No Content"}}]});
        let (kind, records) = entry_records(
            &parent(),
            request.to_string().as_bytes(),
            response.to_string().as_bytes(),
        );
        assert_eq!(kind.as_deref(), Some("transaction"));
        let summary: Vec<(&str, u16, Option<&str>, Vec<String>)> = records
            .iter()
            .map(|r| {
                (
                    r.interaction.as_str(),
                    r.status,
                    r.resource.as_deref(),
                    r.patients.clone(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("create", 201, Some("Patient/p7/_history/1"), vec![]),
                (
                    "create",
                    201,
                    Some("Observation/o3/_history/1"),
                    vec!["other".to_string(), "p7".to_string()]
                ),
                ("search-type", 200, None, vec![]),
                ("delete", 204, Some("Condition/c1"), vec![]),
            ]
        );
        assert_eq!(records[2].query.as_deref(), Some("Patient?name=x"));
    }

    #[test]
    fn a_malformed_bundle_gives_no_entry_records() {
        for body in [&b"{not json"[..], b"[]", br#"{"entry": 5}"#] {
            let (kind, records) = entry_records(&parent(), body, b"{}");
            assert!(kind.is_none() && records.is_empty());
        }
        // An entry whose resource is not an object names no patient.
        let odd = br#"{"type": "batch", "entry": [{"resource": 7, "request": {"method": "POST", "url": "Patient"}}]}"#;
        let (kind, records) = entry_records(&parent(), odd, b"{}");
        assert_eq!(kind.as_deref(), Some("batch"));
        assert_eq!(records.len(), 1);
        assert!(records[0].patients.is_empty());
    }

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
