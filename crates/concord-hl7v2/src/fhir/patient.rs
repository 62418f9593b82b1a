//! PID → Patient (and the key it is matched on), NK1 → RelatedPerson,
//! PV1 → Encounter.

use serde_json::{json, Map, Value};

use super::bundle::{deterministic_id, identifier_query};
use super::datatypes::{coded, cwe, cx, token, xad_all, xpn_all, xtn_all};
use super::values::{date, repetitions, text};
use super::{tables, Ctx, MapError, PatientKey};
use crate::message::SegmentView;

/// Every PID-3 identifier (PID-2 and PID-4 too, as older versions send
/// them there; PID-19, PID-20 and a patient's DB1-3 after them), and the
/// key: the first `MR` identifier of PID-3, else the first.
pub fn identifiers(ctx: &Ctx<'_>, pid: &SegmentView<'_>) -> (Vec<Value>, Option<PatientKey>) {
    let fallback = ctx.local_system("patient");
    let mut ids: Vec<Value> = (1..=repetitions(pid, 3))
        .filter_map(|r| cx(pid, &format!("3({r})"), &fallback))
        .collect();
    let primary = ids
        .iter()
        .find(|i| i.pointer("/type/coding/0/code").and_then(Value::as_str) == Some("MR"))
        .or_else(|| ids.first())
        .and_then(token)
        .map(|(system, value)| PatientKey { system, value });
    for n in [2, 4] {
        for r in 1..=repetitions(pid, n) {
            if let Some(i) = cx(pid, &format!("{n}({r})"), &fallback) {
                if !ids.contains(&i) {
                    ids.push(i);
                }
            }
        }
    }
    // PID-20: driver's licence (DLN: number ^ issuing state ^ expiry).
    if let Some(dl) = text(pid, "20-1") {
        let system = text(pid, "20-2")
            .map(|st| {
                format!(
                    "urn:concord:hl7v2:drivers-license:{}",
                    super::datatypes::uri_segment(&st)
                )
            })
            .unwrap_or_else(|| ctx.local_system("drivers-license"));
        ids.push(json!({
            "type": {"coding": [{"system": tables::v2_table("0203"), "code": "DL"}]},
            "system": system,
            "value": dl
        }));
    }
    // PID-19: SSN (v2.3–2.6).
    if let Some(ssn) = text(pid, "19") {
        let i = json!({"system": "http://hl7.org/fhir/sid/us-ssn", "value": ssn});
        if !ids.iter().any(|x| x.get("value") == i.get("value")) {
            ids.push(i);
        }
    }
    // DB1-3: the disabled person's identifier, when DB1-2 (table 0334)
    // says that person is the patient (`PT`); GT/IN/AP name the guarantor,
    // the insured or another party.
    for db1 in ctx.msg.views("DB1") {
        if text(&db1, "2").as_deref() == Some("PT") {
            if let Some(i) = cx(&db1, "3", &fallback) {
                if !ids.contains(&i) {
                    ids.push(i);
                }
            }
        }
    }
    (ids, primary)
}

/// The patient key of the message's PID, or an error naming PID-3.
pub fn key<'a>(ctx: &Ctx<'a>) -> Result<(SegmentView<'a>, PatientKey), MapError> {
    let pid = ctx.seg("PID").ok_or_else(|| {
        MapError::new(
            "PID",
            None,
            crate::ack::ErrorCode::SegmentSequenceError,
            "PID segment is required",
        )
    })?;
    let (_, key) = identifiers(ctx, &pid);
    let key = key.ok_or_else(|| MapError::missing("PID", 3, "patient identifier list"))?;
    Ok((pid, key))
}

/// PID → Patient.
pub fn patient(ctx: &Ctx<'_>, pid: &SegmentView<'_>) -> Value {
    let (ids, _) = identifiers(ctx, pid);
    let mut p = Map::new();
    p.insert("resourceType".into(), json!("Patient"));
    if !ids.is_empty() {
        p.insert("identifier".into(), Value::Array(ids));
    }
    p.insert("active".into(), json!(true));
    let mut names = xpn_all(pid, 5);
    // PID-9: alias names.
    names.extend(xpn_all(pid, 9));
    if !names.is_empty() {
        p.insert("name".into(), Value::Array(names));
    }
    let telecom = xtn_all(pid, &[13, 14]);
    if !telecom.is_empty() {
        p.insert("telecom".into(), Value::Array(telecom));
    }
    if let Some(g) = text(pid, "8").as_deref().and_then(tables::gender) {
        p.insert("gender".into(), json!(g));
    }
    if let Some(b) = date(text(pid, "7-1")) {
        p.insert("birthDate".into(), json!(b));
    }
    match text(pid, "30").as_deref() {
        Some("Y") => {
            match ctx.date_time(text(pid, "29-1")) {
                Some(w) => p.insert("deceasedDateTime".into(), json!(w)),
                None => p.insert("deceasedBoolean".into(), json!(true)),
            };
        }
        Some("N") => {
            p.insert("deceasedBoolean".into(), json!(false));
        }
        _ => {}
    }
    let addr = xad_all(pid, 11);
    if !addr.is_empty() {
        p.insert("address".into(), Value::Array(addr));
    }
    if let Some(ms) = text(pid, "16-1") {
        // HL7 table 0002 codes are the v3 MaritalStatus codes for A, D, I, L,
        // M, P, S, T, U, W (FHIR R4 marital-status value set).
        let known = ["A", "D", "I", "L", "M", "P", "S", "T", "U", "W"];
        if known.contains(&ms.as_str()) {
            p.insert(
                "maritalStatus".into(),
                json!({"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus", "code": ms}]}),
            );
        }
    }
    match text(pid, "24").as_deref() {
        Some("Y") => {
            p.insert("multipleBirthBoolean".into(), json!(true));
        }
        Some("N") => {
            p.insert("multipleBirthBoolean".into(), json!(false));
        }
        _ => {}
    }
    if let Some(lang) = cwe(pid, "15") {
        p.insert("communication".into(), json!([{"language": lang}]));
    }
    Value::Object(p)
}

/// NK1 → RelatedPerson of `patient_ref`.
pub fn related_person(
    nk1: &SegmentView<'_>,
    key: &PatientKey,
    patient_ref: &str,
) -> Option<(String, Value)> {
    let names = xpn_all(nk1, 2);
    let relationship = cwe(nk1, "3");
    let mut r = Map::new();
    r.insert("resourceType".into(), json!("RelatedPerson"));
    r.insert("active".into(), json!(true));
    r.insert("patient".into(), json!({"reference": patient_ref}));
    if let Some(rel) = &relationship {
        r.insert("relationship".into(), json!([rel]));
    }
    if !names.is_empty() {
        r.insert("name".into(), Value::Array(names.clone()));
    }
    let telecom = xtn_all(nk1, &[5, 6]);
    if !telecom.is_empty() {
        r.insert("telecom".into(), Value::Array(telecom));
    }
    let addr = xad_all(nk1, 4);
    if !addr.is_empty() {
        r.insert("address".into(), Value::Array(addr));
    }
    if names.is_empty() && relationship.is_none() {
        return None;
    }
    let set_id = text(nk1, "1").unwrap_or_default();
    let name_key = names
        .first()
        .and_then(|n| n.get("family"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let id = deterministic_id(&["RelatedPerson", &key.system, &key.value, &set_id, name_key]);
    Some((id, Value::Object(r)))
}

/// The encounter's status for an ADT event.
fn encounter_status(event: &str, pv1: &SegmentView<'_>) -> &'static str {
    match event {
        "A03" => "finished",
        "A11" => "cancelled",
        "A13" | "A01" => "in-progress",
        "A04" => "arrived",
        _ if text(pv1, "45").is_some() => "finished",
        "A08" => "in-progress",
        _ => "unknown",
    }
}

/// PV1 → Encounter: `(request query or id, resource)`. The Encounter is
/// matched on the visit number (PV1-19) when there is one.
pub struct EncounterOut {
    pub id: String,
    pub query: Option<String>,
    pub resource: Value,
}

pub fn encounter(
    ctx: &Ctx<'_>,
    pv1: &SegmentView<'_>,
    key: &PatientKey,
    patient_ref: &str,
) -> EncounterOut {
    let mut e = Map::new();
    e.insert("resourceType".into(), json!("Encounter"));
    let visit = cx(pv1, "19", &ctx.local_system("visit"));
    if let Some(v) = &visit {
        e.insert("identifier".into(), json!([v]));
    }
    e.insert("status".into(), json!(encounter_status(&ctx.event, pv1)));
    let class = super::values::code(pv1, "2");
    let class_coding = match class.as_deref().and_then(tables::encounter_class) {
        Some((code, display)) => json!({
            "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
            "code": code,
            "display": display
        }),
        None => match &class {
            Some(c) => json!({"system": tables::v2_table("0004"), "code": c}),
            None => json!({
                "system": "http://terminology.hl7.org/CodeSystem/v3-NullFlavor",
                "code": "UNK"
            }),
        },
    };
    e.insert("class".into(), class_coding);
    if let Some(t) = super::values::code(pv1, "4") {
        e.insert("type".into(), json!([coded(&t, "0007")]));
    }
    if let Some(s) = super::values::code(pv1, "10") {
        e.insert("serviceType".into(), coded(&s, "0069"));
    }
    e.insert("subject".into(), json!({"reference": patient_ref}));
    let start = ctx.date_time(text(pv1, "44-1"));
    let end = ctx.date_time(text(pv1, "45-1"));
    let mut period = Map::new();
    if let Some(s) = &start {
        period.insert("start".into(), json!(s));
    }
    if let Some(x) = &end {
        // per-1: start ≤ end; only keep the end when it is not before the start.
        if start
            .as_deref()
            .is_none_or(|s| super::values::not_after(s, x))
        {
            period.insert("end".into(), json!(x));
        }
    }
    if !period.is_empty() {
        e.insert("period".into(), Value::Object(period));
    }
    if let Some(loc) = text(pv1, "3-1") {
        let parts: Vec<String> = [1, 2, 3]
            .iter()
            .filter_map(|c| text(pv1, &format!("3-{c}-1")))
            .collect();
        let display = if parts.is_empty() {
            loc
        } else {
            parts.join(" ")
        };
        e.insert(
            "location".into(),
            json!([{"location": {"display": display}}]),
        );
    }
    let (query, id) = match visit.as_ref().and_then(token) {
        Some((s, v)) => (
            Some(identifier_query(&s, &v)),
            deterministic_id(&["Encounter", &s, &v]),
        ),
        None => (
            None,
            deterministic_id(&[
                "Encounter",
                &key.system,
                &key.value,
                start.as_deref().unwrap_or(""),
                &ctx.sender,
            ]),
        ),
    };
    EncounterOut {
        id,
        query,
        resource: Value::Object(e),
    }
}
