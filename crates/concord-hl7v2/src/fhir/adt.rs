//! ADT A01/A03/A04/A08/A11/A13/A28/A31 → Patient, Encounter, Coverage
//! (IN1), RelatedPerson (NK1), AllergyIntolerance (AL1), Condition (DG1);
//! A40 → the surviving Patient with a `replaces` link (the caller marks the
//! prior record `replaced-by`, see [`super::Merge`]).

use serde_json::{json, Map, Value};

use super::bundle::{deterministic_id, Builder};
use super::datatypes::{cwe, cx, token, xpn_all};
use super::patient::{self, encounter, related_person};
use super::values::{code, date, text};
use super::{finish, Ctx, MapError, Mapped, Merge, PatientKey};
use crate::ack::ErrorCode;
use crate::message::SegmentView;

pub fn map(ctx: &Ctx<'_>) -> Result<Mapped, MapError> {
    let supported = [
        "A01", "A03", "A04", "A08", "A11", "A13", "A28", "A31", "A40",
    ];
    if !supported.contains(&ctx.event.as_str()) {
        return Err(MapError::new(
            "MSH",
            Some(9),
            ErrorCode::UnsupportedEventCode,
            format!("ADT event {} is not mapped", ctx.event),
        ));
    }
    let (pid, key) = patient::key(ctx)?;
    let mut b = Builder::new();
    let mut resource = patient::patient(ctx, &pid);
    let mut merge = None;
    if ctx.event == "A40" {
        let mrg = ctx.seg("MRG").ok_or_else(|| {
            MapError::new(
                "MRG",
                None,
                ErrorCode::SegmentSequenceError,
                "A40 needs an MRG segment",
            )
        })?;
        let prior = cx(&mrg, "1", &ctx.local_system("patient"))
            .as_ref()
            .and_then(token)
            .map(|(system, value)| PatientKey { system, value })
            .ok_or_else(|| MapError::missing("MRG", 1, "prior patient identifier"))?;
        if prior == key {
            return Err(MapError::new(
                "MRG",
                Some(1),
                ErrorCode::DuplicateKeyIdentifier,
                "MRG-1 names the surviving patient",
            ));
        }
        if let Some(obj) = resource.as_object_mut() {
            obj.insert(
                "link".into(),
                json!([{"other": {"reference": prior.reference()}, "type": "replaces"}]),
            );
        }
        merge = Some(Merge {
            prior,
            survivor: key.clone(),
        });
    }
    let patient_ref = b.put_conditional("Patient", &key.query(), &key.new_patient_id(), resource);
    if ctx.event == "A40" {
        return Ok(Mapped {
            bundle: finish(ctx, b),
            patient: Some(key),
            registers_patient: true,
            merge,
        });
    }
    for nk1 in ctx.msg.views("NK1") {
        if let Some((id, r)) = related_person(&nk1, &key, &patient_ref) {
            b.put("RelatedPerson", &id, r);
        }
    }
    // A28/A31 carry person information only; their PV1 is a placeholder.
    let mut encounter_ref = None;
    if !matches!(ctx.event.as_str(), "A28" | "A31") {
        if let Some(pv1) = ctx.seg("PV1") {
            let enc = encounter(ctx, &pv1, &key, &patient_ref);
            encounter_ref = Some(match &enc.query {
                Some(q) => b.put_conditional("Encounter", q, &enc.id, enc.resource),
                None => b.put("Encounter", &enc.id, enc.resource),
            });
        }
    }
    for al1 in ctx.msg.views("AL1") {
        if let Some((id, r)) = allergy(&al1, &key, &patient_ref) {
            b.put("AllergyIntolerance", &id, r);
        }
    }
    for dg1 in ctx.msg.views("DG1") {
        if let Some((id, r)) = condition(ctx, &dg1, &key, &patient_ref, encounter_ref.as_deref()) {
            b.put("Condition", &id, r);
        }
    }
    for in1 in ctx.msg.views("IN1") {
        if let Some((id, r)) = coverage(ctx, &in1, &key, &patient_ref) {
            b.put("Coverage", &id, r);
        }
    }
    Ok(Mapped {
        bundle: finish(ctx, b),
        patient: Some(key),
        registers_patient: true,
        merge,
    })
}

/// AL1 → AllergyIntolerance. Allergen type: HL7 table 0127; severity:
/// table 0128.
fn allergy(al1: &SegmentView<'_>, key: &PatientKey, patient_ref: &str) -> Option<(String, Value)> {
    let code = cwe(al1, "3")?;
    let mut a = Map::new();
    a.insert("resourceType".into(), json!("AllergyIntolerance"));
    a.insert(
        "clinicalStatus".into(),
        json!({"coding": [{"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "code": "active"}]}),
    );
    let category = match text(al1, "2-1").as_deref() {
        Some("DA" | "MA") => Some("medication"),
        Some("FA") => Some("food"),
        Some("EA" | "AA" | "PA" | "LA") => Some("environment"),
        _ => None,
    };
    if let Some(c) = category {
        a.insert("category".into(), json!([c]));
    }
    match text(al1, "4-1").as_deref() {
        Some("SV") => {
            a.insert("criticality".into(), json!("high"));
        }
        Some("MI" | "MO") => {
            a.insert("criticality".into(), json!("low"));
        }
        _ => {}
    }
    a.insert("code".into(), code.clone());
    a.insert("patient".into(), json!({"reference": patient_ref}));
    if let Some(d) = date(text(al1, "6")) {
        a.insert("onsetDateTime".into(), json!(d));
    }
    let reactions: Vec<Value> = (1..=super::values::repetitions(al1, 5))
        .filter_map(|r| text(al1, &format!("5({r})")))
        .map(|t| json!({"text": t}))
        .collect();
    if !reactions.is_empty() {
        a.insert("reaction".into(), json!([{"manifestation": reactions}]));
    }
    let code_key = code
        .pointer("/coding/0/code")
        .or_else(|| code.get("text"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let id = deterministic_id(&["AllergyIntolerance", &key.system, &key.value, code_key]);
    Some((id, Value::Object(a)))
}

/// DG1 → Condition (an encounter diagnosis).
fn condition(
    ctx: &Ctx<'_>,
    dg1: &SegmentView<'_>,
    key: &PatientKey,
    patient_ref: &str,
    encounter_ref: Option<&str>,
) -> Option<(String, Value)> {
    let code = cwe(dg1, "3").or_else(|| text(dg1, "4").map(|t| json!({"text": t})))?;
    let mut c = Map::new();
    c.insert("resourceType".into(), json!("Condition"));
    c.insert(
        "category".into(),
        json!([{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category", "code": "encounter-diagnosis"}]}]),
    );
    c.insert("code".into(), code.clone());
    c.insert("subject".into(), json!({"reference": patient_ref}));
    if let Some(e) = encounter_ref {
        c.insert("encounter".into(), json!({"reference": e}));
    }
    if let Some(d) = ctx.date_time(text(dg1, "5-1")) {
        c.insert("onsetDateTime".into(), json!(d));
    }
    let code_key = code
        .pointer("/coding/0/code")
        .or_else(|| code.get("text"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let id = deterministic_id(&[
        "Condition",
        &key.system,
        &key.value,
        code_key,
        encounter_ref.unwrap_or(""),
    ]);
    Some((id, Value::Object(c)))
}

/// IN1 → Coverage.
fn coverage(
    ctx: &Ctx<'_>,
    in1: &SegmentView<'_>,
    key: &PatientKey,
    patient_ref: &str,
) -> Option<(String, Value)> {
    let plan = cwe(in1, "2");
    let company = text(in1, "4-1");
    let company_id = cx(in1, "3", &ctx.local_system("insurer"));
    if plan.is_none() && company.is_none() && company_id.is_none() {
        return None;
    }
    let mut c = Map::new();
    c.insert("resourceType".into(), json!("Coverage"));
    let policy = text(in1, "36");
    if let Some(p) = &policy {
        c.insert(
            "identifier".into(),
            json!([{"system": ctx.local_system("policy"), "value": p}]),
        );
    }
    c.insert("status".into(), json!("active"));
    if let Some(t) = code(in1, "15-1") {
        c.insert(
            "type".into(),
            json!({"coding": [{"system": super::tables::v2_table("0086"), "code": t}]}),
        );
    }
    let subscriber_names = xpn_all(in1, 16);
    if let Some(n) = subscriber_names
        .first()
        .and_then(|n| n.get("family"))
        .and_then(Value::as_str)
    {
        c.insert("subscriber".into(), json!({"display": n}));
    }
    c.insert("beneficiary".into(), json!({"reference": patient_ref}));
    if let Some(rel) = text(in1, "17-1") {
        // HL7 table 0063 relationship; "SEL" is the patient themself.
        let code = if rel == "SEL" { "self" } else { "other" };
        c.insert(
            "relationship".into(),
            json!({"coding": [{"system": "http://terminology.hl7.org/CodeSystem/subscriber-relationship", "code": code}]}),
        );
    }
    let start = date(text(in1, "12"));
    let end = date(text(in1, "13"));
    let mut period = Map::new();
    if let Some(s) = &start {
        period.insert("start".into(), json!(s));
    }
    if let Some(e) = &end {
        if start
            .as_deref()
            .is_none_or(|s| super::values::not_after(s, e))
        {
            period.insert("end".into(), json!(e));
        }
    }
    if !period.is_empty() {
        c.insert("period".into(), Value::Object(period));
    }
    let mut payor = Map::new();
    if let Some(i) = &company_id {
        payor.insert("identifier".into(), i.clone());
    }
    payor.insert(
        "display".into(),
        json!(company
            .clone()
            .or_else(|| plan
                .as_ref()
                .and_then(|p| p.get("text"))
                .and_then(Value::as_str)
                .map(str::to_string))
            .unwrap_or_else(|| "unknown payor".into())),
    );
    c.insert("payor".into(), json!([Value::Object(payor)]));
    if let Some(p) = &plan {
        if let Some(code) = p.pointer("/coding/0/code").and_then(Value::as_str) {
            c.insert(
                "class".into(),
                json!([{
                    "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/coverage-class", "code": "plan"}]},
                    "value": code,
                    "name": p.get("text").and_then(Value::as_str).unwrap_or(code)
                }]),
            );
        }
    }
    let plan_key = plan
        .as_ref()
        .and_then(|p| p.pointer("/coding/0/code"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let id = deterministic_id(&[
        "Coverage",
        &key.system,
        &key.value,
        plan_key,
        company.as_deref().unwrap_or(""),
        policy.as_deref().unwrap_or(""),
    ]);
    Some((id, Value::Object(c)))
}
