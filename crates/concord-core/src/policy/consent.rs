//! FHIR `Consent` (scope `patient-privacy`) as the read guard applies it.
//!
//! An active Consent whose `provision` (or a nested provision) has
//! `type = deny` refuses the disclosure of the patient's data to every
//! actor it names — an `Organization` (the caller's organizations: those of
//! the user's `PractitionerRole`s), an app (`Device/{client_id}`, or a
//! reference by identifier with system [`CLIENT_SYSTEM`] and the client id
//! as value), a `Practitioner` (the user's `fhirUser`) — or to everyone
//! when it names no actor. With `securityLabel`s the denial covers only
//! resources carrying one of those labels in `meta.security`; without,
//! everything in the patient's compartment. The patient (and their
//! proxies), their care team and break-the-glass access are exempt.

use serde_json::Value;

/// The identifier system naming an OAuth client id in `provision.actor`.
pub const CLIENT_SYSTEM: &str = "urn:concord:oauth-client";

/// Who a provision names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsentActor {
    /// `Organization/{id}`.
    Organization(String),
    /// An app by client id.
    Client(String),
    /// A user's FHIR reference, e.g. `Practitioner/12`.
    Person(String),
}

/// One deny provision of a patient's consent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    pub patient: String,
    /// Empty: everyone (but the exempt).
    pub actors: Vec<ConsentActor>,
    /// `(system, code)` labels; empty: all the patient's data.
    pub labels: Vec<(Option<String>, String)>,
}

/// A denial that binds the current caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentRule {
    pub patient: String,
    pub labels: Vec<(Option<String>, String)>,
}

impl ConsentRule {
    /// Whether `resource` falls under the rule (carries a denied label, or
    /// any resource when the rule has no labels).
    pub fn covers(&self, resource: &Value) -> bool {
        if self.labels.is_empty() {
            return true;
        }
        let Some(security) = resource
            .get("meta")
            .and_then(|m| m.get("security"))
            .and_then(Value::as_array)
        else {
            return false;
        };
        security.iter().any(|c| {
            let code = c.get("code").and_then(Value::as_str);
            let system = c.get("system").and_then(Value::as_str);
            self.labels.iter().any(|(s, want)| {
                code == Some(want.as_str()) && s.as_deref().is_none_or(|s| system == Some(s))
            })
        })
    }

    /// The labels as `_security` search parameters.
    pub fn label_params(&self) -> Vec<(String, String)> {
        self.labels
            .iter()
            .map(|(system, code)| {
                let value = match system {
                    Some(s) => format!("{s}|{code}"),
                    None => code.clone(),
                };
                ("_security".to_string(), value)
            })
            .collect()
    }
}

fn actor_of(reference: &Value) -> Option<ConsentActor> {
    if let Some(r) = reference.get("reference").and_then(Value::as_str) {
        let (rtype, id) = r.split_once('/')?;
        return Some(match rtype {
            "Organization" => ConsentActor::Organization(id.to_string()),
            "Device" => ConsentActor::Client(id.to_string()),
            _ => ConsentActor::Person(r.to_string()),
        });
    }
    let identifier = reference.get("identifier")?;
    (identifier.get("system").and_then(Value::as_str) == Some(CLIENT_SYSTEM))
        .then(|| identifier.get("value").and_then(Value::as_str))
        .flatten()
        .map(|v| ConsentActor::Client(v.to_string()))
}

fn collect(provision: &Value, patient: &str, out: &mut Vec<Denial>) {
    if provision.get("type").and_then(Value::as_str) == Some("deny") {
        let actors = provision
            .get("actor")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(|a| a.get("reference").and_then(actor_of))
                    .collect()
            })
            .unwrap_or_default();
        let labels = provision
            .get("securityLabel")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(|c| {
                        let code = c.get("code").and_then(Value::as_str)?;
                        let system = c.get("system").and_then(Value::as_str);
                        Some((system.map(str::to_string), code.to_string()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.push(Denial {
            patient: patient.to_string(),
            actors,
            labels,
        });
    }
    if let Some(nested) = provision.get("provision").and_then(Value::as_array) {
        for p in nested {
            collect(p, patient, out);
        }
    }
}

/// The deny provisions of an active `patient-privacy` Consent.
pub fn denials(consent: &Value) -> Vec<Denial> {
    let active = consent.get("status").and_then(Value::as_str) == Some("active");
    let privacy = consent
        .get("scope")
        .and_then(|s| s.get("coding"))
        .and_then(Value::as_array)
        .is_some_and(|codings| {
            codings
                .iter()
                .any(|c| c.get("code").and_then(Value::as_str) == Some("patient-privacy"))
        });
    let patient = consent
        .get("patient")
        .and_then(|p| p.get("reference"))
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("Patient/"));
    let (true, true, Some(patient)) = (active, privacy, patient) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let Some(p) = consent.get("provision") {
        collect(p, patient, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn deny_provisions_and_labels() {
        let c = json!({"resourceType": "Consent", "status": "active",
        "scope": {"coding": [{"code": "patient-privacy"}]},
        "patient": {"reference": "Patient/p1"},
        "provision": {"type": "permit", "provision": [
            {"type": "deny", "actor": [{"reference": {"reference": "Organization/o2"}}]},
            {"type": "deny", "actor": [{"reference": {"identifier": {"system": CLIENT_SYSTEM, "value": "app9"}}}],
             "securityLabel": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "PSY"}]}
        ]}});
        let d = denials(&c);
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].actors, vec![ConsentActor::Organization("o2".into())]);
        assert_eq!(d[1].actors, vec![ConsentActor::Client("app9".into())]);
        let rule = ConsentRule {
            patient: "p1".into(),
            labels: d[1].labels.clone(),
        };
        let psy = json!({"meta": {"security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "PSY"}]}});
        assert!(rule.covers(&psy));
        assert!(!rule.covers(&json!({"meta": {}})));
        let mut inactive = c.clone();
        inactive["status"] = json!("inactive");
        assert!(denials(&inactive).is_empty());
    }
}
