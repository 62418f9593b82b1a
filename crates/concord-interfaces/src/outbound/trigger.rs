//! Which resources an endpoint receives, and the message built for one
//! (pure: no IO).

use concord_hl7v2::outbound::{oml_o21, oml_o21_change, vxu_v04, BuildError, Header};
use serde_json::Value;

use crate::config::{EndpointConfig, EndpointKind};

/// `meta.source` prefix of resources written by the inbound interface:
/// they came from another system and are not sent back to it.
pub const INBOUND_SOURCE_PREFIX: &str = "urn:concord:hl7v2:";

/// The resource types any endpoint kind reacts to.
pub fn watched_type(resource_type: &str) -> bool {
    matches!(resource_type, "ServiceRequest" | "Immunization")
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

fn from_inbound(resource: &Value) -> bool {
    str_at(resource, "/meta/source").is_some_and(|s| s.starts_with(INBOUND_SOURCE_PREFIX))
}

/// A ServiceRequest's category says laboratory (SNOMED 108252007
/// "Laboratory procedure", the US Core category, or the code/text
/// `laboratory`).
pub fn is_lab_order(sr: &Value) -> bool {
    let Some(categories) = sr.get("category").and_then(Value::as_array) else {
        return false;
    };
    categories.iter().any(|c| {
        let text_says = str_at(c, "/text").is_some_and(|t| t.eq_ignore_ascii_case("laboratory"));
        let coded = c
            .get("coding")
            .and_then(Value::as_array)
            .is_some_and(|codings| {
                codings.iter().any(|k| {
                    matches!(
                        str_at(k, "/code"),
                        Some("108252007") | Some("laboratory") | Some("LAB")
                    )
                })
            });
        text_says || coded
    })
}

/// Whether `endpoint` is sent `resource` (its current version). `first_version`
/// says the change was the resource's creation (VXU goes out for new
/// Immunizations only).
pub fn wants(endpoint: &EndpointConfig, resource: &Value, first_version: bool) -> bool {
    if from_inbound(resource) {
        return false;
    }
    let rtype = str_at(resource, "/resourceType");
    match endpoint.kind {
        EndpointKind::Lab => {
            rtype == Some("ServiceRequest")
                && str_at(resource, "/status") == Some("active")
                && str_at(resource, "/intent") == Some("order")
                && (endpoint.all_orders || is_lab_order(resource))
        }
        EndpointKind::Registry => {
            rtype == Some("Immunization")
                && first_version
                && matches!(str_at(resource, "/status"), Some("completed" | "not-done"))
        }
    }
}

/// Whether a lab order sent to `endpoint` earlier is now cancelled
/// (`revoked` or `entered-in-error`): an OML^O21 with ORC-1 `CA` follows.
pub fn wants_cancel(endpoint: &EndpointConfig, resource: &Value) -> bool {
    endpoint.kind == EndpointKind::Lab
        && !from_inbound(resource)
        && str_at(resource, "/resourceType") == Some("ServiceRequest")
        && matches!(
            str_at(resource, "/status"),
            Some("revoked" | "entered-in-error")
        )
}

/// The reference of the patient a resource is about (`Patient/123`).
pub fn patient_reference(resource: &Value) -> Option<&str> {
    let r = str_at(resource, "/subject/reference")
        .or_else(|| str_at(resource, "/patient/reference"))?;
    r.starts_with("Patient/").then_some(r)
}

/// What an outbound message says of its resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// The resource as it stands: a new order or immunization, or the
    /// cancellation of a revoked order (`message_type` of its record:
    /// `OML^O21`, `VXU^V04`, `OML^O21 cancel`).
    Current,
    /// A change to a lab order sent before (ORC-1 `XO`; `OML^O21 change`).
    Change,
}

/// The `message_type` of a change record.
pub const CHANGE_MESSAGE_TYPE: &str = "OML^O21 change";

/// The message type and text for `resource`.
pub fn build(
    endpoint: &EndpointConfig,
    resource: &Value,
    patient: &Value,
    control_id: &str,
    timestamp: &str,
    purpose: Purpose,
) -> Result<(&'static str, String), BuildError> {
    let header = Header {
        sending_application: endpoint.sending_application.clone(),
        sending_facility: endpoint.sending_facility.clone(),
        receiving_application: endpoint.receiving_application.clone(),
        receiving_facility: endpoint.receiving_facility.clone(),
        control_id: control_id.to_string(),
        timestamp: timestamp.to_string(),
        processing_id: endpoint.processing_id.clone(),
    };
    match (endpoint.kind, purpose) {
        (EndpointKind::Lab, Purpose::Current) => {
            Ok(("OML^O21", oml_o21(resource, patient, &header)?))
        }
        (EndpointKind::Lab, Purpose::Change) => {
            Ok(("OML^O21", oml_o21_change(resource, patient, &header)?))
        }
        (EndpointKind::Registry, _) => Ok(("VXU^V04", vxu_v04(resource, patient, &header)?)),
    }
}

/// What the receiver is told of the order itself: the segments other than
/// MSH (control id, time) and PID (the patient's details, which change
/// apart from the order), with ORC-1 (the order control) left out. Two
/// messages with the same body ask the same of the lab.
pub fn order_body(message: &str) -> String {
    message
        .split('\r')
        .filter(|seg| !seg.is_empty() && !seg.starts_with("MSH") && !seg.starts_with("PID"))
        .map(|seg| match seg.strip_prefix("ORC|") {
            Some(rest) => rest
                .split_once('|')
                .map_or("ORC", |(_, after)| after)
                .to_string(),
            None => seg.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\r")
}

/// Now as an HL7 DTM in UTC (`20260101120000+0000`).
pub fn hl7_now() -> String {
    let t = time::OffsetDateTime::now_utc();
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}+0000",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lab() -> EndpointConfig {
        crate::config::InterfacesConfig::from_json(
            r#"{"endpoints": [{"name": "lab", "address": "h:1", "kind": "lab"}]}"#,
        )
        .unwrap()
        .endpoints
        .remove(0)
    }

    #[test]
    fn signed_lab_orders_only() {
        let sr = json!({"resourceType": "ServiceRequest", "status": "active", "intent": "order",
            "category": [{"coding": [{"system": "http://snomed.info/sct", "code": "108252007"}]}]});
        assert!(wants(&lab(), &sr, false));
        let mut draft = sr.clone();
        draft["status"] = json!("draft");
        assert!(!wants(&lab(), &draft, true));
        let mut filler = sr.clone();
        filler["intent"] = json!("filler-order");
        assert!(!wants(&lab(), &filler, true));
        let mut imaging = sr.clone();
        imaging["category"] = json!([{"text": "imaging"}]);
        assert!(!wants(&lab(), &imaging, true));
        let mut all = lab();
        all.all_orders = true;
        assert!(wants(&all, &imaging, true));
        let mut echoed = sr.clone();
        echoed["meta"] = json!({"source": "urn:concord:hl7v2:LAB"});
        assert!(!wants(&lab(), &echoed, true));
    }

    #[test]
    fn the_order_body_leaves_out_header_patient_and_order_control() {
        let patient = json!({"resourceType": "Patient", "id": "p",
            "identifier": [{"system": "urn:oid:1.2", "value": "M1"}], "name": [{"family": "Doe"}]});
        let sr = json!({"resourceType": "ServiceRequest", "id": "s", "status": "active",
            "intent": "order", "code": {"coding": [{"system": "http://loinc.org", "code": "2345-7"}]},
            "authoredOn": "2026-11-20T10:00:00Z", "priority": "routine"});
        let sent = build(
            &lab(),
            &sr,
            &patient,
            "C1",
            "20261120100000+0000",
            Purpose::Current,
        )
        .unwrap()
        .1;
        let body = order_body(&sent);
        assert!(
            body.starts_with("s^") && body.contains("\rTQ1|") && body.contains("\rOBR|"),
            "{body}"
        );
        // Another control id, time, patient name or order control: same body.
        let mut renamed = patient.clone();
        renamed["name"] = json!([{"family": "Roe"}]);
        let (_, again) = build(
            &lab(),
            &sr,
            &renamed,
            "C2",
            "20261121100000+0000",
            Purpose::Change,
        )
        .unwrap();
        assert!(again.contains("\rORC|XO|"), "{again}");
        assert_eq!(order_body(&again), body);
        // Another priority or code: another body.
        for (field, value) in [
            ("priority", json!("stat")),
            (
                "code",
                json!({"coding": [{"system": "http://loinc.org", "code": "718-7"}]}),
            ),
        ] {
            let mut changed = sr.clone();
            changed[field] = value;
            let (_, text) = build(
                &lab(),
                &changed,
                &patient,
                "C1",
                "20261120100000+0000",
                Purpose::Change,
            )
            .unwrap();
            assert_ne!(order_body(&text), body, "{field}");
        }
    }
}
