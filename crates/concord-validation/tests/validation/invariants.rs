//! FHIRPath invariants on write: one case per behaviour, asserting the key,
//! severity and expression path.

use concord_fhir::{Issue, IssueType, Severity};
use concord_validation::invariants::{
    uncompiled_invariants, FhirPathInvariants, CORRECTED_INVARIANTS, STRUCTURAL_INVARIANTS,
    VACUOUS_WITHOUT,
};
use concord_validation::validate_resource;
use serde_json::{json, Value};

fn narrative() -> Value {
    json!({"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"})
}

/// (severity, key, path) of every invariant issue.
fn invariant_issues(resource: &Value) -> Vec<(Severity, String, String)> {
    validate_resource(resource)
        .into_iter()
        .filter(|i| i.code == IssueType::Invariant)
        .map(|i: Issue| {
            let key = i.diagnostics.split(':').next().unwrap_or("").to_string();
            (i.severity, key, i.expression.join(","))
        })
        .collect()
}

fn only_error(resource: Value, key: &str, path: &str) {
    let all = validate_resource(&resource);
    let errors: Vec<&Issue> = all.iter().filter(|i| i.severity.is_failure()).collect();
    assert_eq!(errors.len(), 1, "{all:?}");
    let e = errors[0];
    assert_eq!(e.code, IssueType::Invariant);
    assert!(
        e.diagnostics.starts_with(&format!("{key}: ")),
        "{}",
        e.diagnostics
    );
    assert_eq!(e.expression, vec![path.to_string()]);
}

#[test]
fn period_start_after_end_violates_per_1() {
    let enc = |start: &str, end: &str| {
        json!({"resourceType": "Encounter", "text": narrative(), "status": "finished",
               "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
               "period": {"start": start, "end": end}})
    };
    only_error(enc("2020-02-01", "2020-01-01"), "per-1", "Encounter.period");
    assert!(invariant_issues(&enc("2020-01-01", "2020-02-01")).is_empty());
    // Different precisions on the same day cannot be compared: FHIRPath
    // answers empty ("unknown"), and only `true` satisfies an invariant
    // (as in the reference validator: its case `encounter-period`).
    only_error(
        enc("2023-06-21", "2023-06-21T06:20:00Z"),
        "per-1",
        "Encounter.period",
    );
    // ... but a different day decides it.
    assert!(invariant_issues(&enc("2020-01-01", "2020-01-02T06:20:00Z")).is_empty());
    let msg = validate_resource(&enc("2020-02-01", "2020-01-01"))
        .into_iter()
        .find(|i| i.severity == Severity::Error)
        .map(|i| i.diagnostics)
        .unwrap_or_default();
    // key, human text and the expression evaluated
    assert!(msg.starts_with("per-1: If present, start SHALL have a lower value than end"));
    assert!(msg.contains("start <= end"), "{msg}");
}

#[test]
fn patient_contact_without_details_violates_pat_1() {
    let p = json!({"resourceType": "Patient", "text": narrative(),
        "contact": [{"name": {"family": "A"}}, {"gender": "female"}]});
    only_error(p, "pat-1", "Patient.contact[1]");
}

#[test]
fn observation_data_absent_reason_with_value_violates_obs_6() {
    let o = json!({"resourceType": "Observation", "text": narrative(), "status": "final",
        "code": {"text": "t"}, "valueString": "x",
        "dataAbsentReason": {"text": "unknown"}});
    only_error(o, "obs-6", "Observation");
    // obs-3 on a backbone element, with its index
    let o = json!({"resourceType": "Observation", "text": narrative(), "status": "final",
        "code": {"text": "t"}, "referenceRange": [{"text": "normal"}, {"appliesTo": [{"text": "x"}]}]});
    only_error(o, "obs-3", "Observation.referenceRange[1]");
}

#[test]
fn warning_invariant_is_stored_with_a_warning() {
    // dom-6 (warning): no narrative. No error, so the write succeeds.
    let p = json!({"resourceType": "Patient", "name": [{"family": "F"}]});
    assert_eq!(
        invariant_issues(&p),
        vec![(
            Severity::Warning,
            "dom-6".to_string(),
            "Patient".to_string()
        )]
    );
    let issues = validate_resource(&p);
    assert!(!concord_fhir::outcome::has_failures(&issues));
}

#[test]
fn contained_resource_invariants_use_the_contained_resource() {
    let report = |contained_obs: Value, extra: Value| {
        let mut r = json!({"resourceType": "DiagnosticReport", "text": narrative(),
            "status": "final", "code": {"text": "t"},
            "contained": [contained_obs], "result": [{"reference": "#o"}]});
        if let (Some(r), Some(extra)) = (r.as_object_mut(), extra.as_object()) {
            for (k, v) in extra {
                r.insert(k.clone(), v.clone());
            }
        }
        r
    };
    let obs = json!({"resourceType": "Observation", "id": "o", "status": "final",
        "code": {"text": "t"}, "valueString": "x", "dataAbsentReason": {"text": "u"}});
    only_error(
        report(obs, json!({})),
        "obs-6",
        "DiagnosticReport.contained[0]",
    );
    // %rootResource is the container: a contained resource's `#id`
    // reference resolves among the container's contained resources (ref-1).
    let org = json!({"resourceType": "Organization", "id": "org", "name": "Lab"});
    let obs = json!({"resourceType": "Observation", "id": "o", "status": "final",
        "code": {"text": "t"}, "performer": [{"reference": "#org"}]});
    let mut ok = report(obs.clone(), json!({}));
    ok["contained"] = json!([obs, org]);
    assert!(
        invariant_issues(&ok).is_empty(),
        "{:?}",
        invariant_issues(&ok)
    );
    let bad = json!({"resourceType": "Observation", "id": "o", "status": "final",
        "code": {"text": "t"}, "performer": [{"reference": "#nothing"}]});
    only_error(
        report(bad, json!({})),
        "ref-1",
        "DiagnosticReport.contained[0].performer[0]",
    );
    // dom-3: a contained resource nothing refers to
    let lonely = json!({"resourceType": "DiagnosticReport", "text": narrative(),
        "status": "final", "code": {"text": "t"},
        "contained": [{"resourceType": "Organization", "id": "x", "name": "n"}]});
    only_error(lonely, "dom-3", "DiagnosticReport");
}

#[test]
fn bundle_entries_are_their_own_resource() {
    // In a Bundle, %resource and %rootResource are the entry's resource:
    // `#org` resolves in the entry's own contained resources.
    let b = json!({"resourceType": "Bundle", "type": "collection", "entry": [{
        "fullUrl": "urn:uuid:7b4d4bba-2b39-4e83-9b8f-5a0f1c3a1a11",
        "resource": {"resourceType": "Patient", "text": narrative(),
            "contained": [{"resourceType": "Organization", "id": "org", "name": "n"}],
            "managingOrganization": {"reference": "#org"},
            "contact": [{"gender": "male"}]}}]});
    assert_eq!(
        invariant_issues(&b),
        vec![(
            Severity::Error,
            "pat-1".to_string(),
            "Bundle.entry[0].resource.contact[0]".to_string()
        )]
    );
}

#[test]
fn element_and_datatype_constraints() {
    // Declared on the element holding a datatype (Organization.telecom).
    let org = json!({"resourceType": "Organization", "text": narrative(), "name": "n",
        "telecom": [{"system": "phone", "value": "1", "use": "home"}]});
    only_error(org, "org-3", "Organization.telecom[0]");
    // ext-1 on an extension with both a value and extensions
    let p = json!({"resourceType": "Patient", "text": narrative(), "extension": [{
        "url": "http://example.org/x", "valueString": "v",
        "extension": [{"url": "y", "valueString": "w"}]}]});
    only_error(p, "ext-1", "Patient.extension[0]");
    // contentReference: que-* on nested Questionnaire items (que-7 uses the
    // corrected `answer is boolean`)
    let q = || {
        json!({"resourceType": "Questionnaire", "text": narrative(), "status": "draft",
            "item": [{"linkId": "1", "type": "group", "item": [
                {"linkId": "1.1", "type": "boolean"},
                {"linkId": "1.2", "type": "string",
                 "enableWhen": [{"question": "1.1", "operator": "exists", "answerBoolean": true}]},
                {"linkId": "1.3", "type": "string",
                 "enableWhen": [{"question": "1.1", "operator": "exists", "answerString": "x"}]}]}]})
    };
    only_error(q(), "que-7", "Questionnaire.item[0].item[2].enableWhen[0]");
    // A primitive element's own constraint: ElementDefinition.max (eld-3)
    let sd = json!({"resourceType": "StructureDefinition", "text": narrative(),
        "url": "http://example.org/sd", "name": "N", "status": "draft", "kind": "logical",
        "abstract": true, "type": "http://example.org/sd",
        "differential": {"element": [{"id": "N", "path": "N", "max": "-1"}]}});
    only_error(
        sd,
        "eld-3",
        "StructureDefinition.differential.element[0].max",
    );
}

#[test]
fn skipped_invariants_are_exactly_these() {
    // Every R4 expression compiles.
    assert_eq!(uncompiled_invariants(), Vec::<(&str, String)>::new());
    assert_eq!(STRUCTURAL_INVARIANTS, ["ele-1", "txt-1", "txt-2"]);
    let corrected: Vec<&str> = CORRECTED_INVARIANTS.iter().map(|(k, _)| *k).collect();
    assert_eq!(
        corrected,
        ["ref-1", "ras-2", "bdl-8", "que-12", "que-7", "dom-3"]
    );
}

#[test]
fn guarded_invariants_hold_on_absent_elements() {
    // ref-1 on references without `reference`, and on `#` (the container);
    // bdl-8 on an entry without fullUrl; ras-2 on a prediction without
    // probability; the name pattern on a canonical resource without name.
    let p = json!({"resourceType": "Patient", "text": narrative(),
        "generalPractitioner": [{"display": "Dr A"}, {"identifier": {"value": "1"}}],
        "managingOrganization": {"reference": "#o"},
        "contained": [{"resourceType": "Organization", "id": "o", "name": "O",
            "endpoint": [{"reference": "#"}]}]});
    assert!(
        invariant_issues(&p).is_empty(),
        "{:?}",
        invariant_issues(&p)
    );
    let b = json!({"resourceType": "Bundle", "type": "collection",
        "entry": [{"resource": {"resourceType": "Basic", "text": narrative(), "code": {"text": "x"}}}]});
    assert!(
        invariant_issues(&b).is_empty(),
        "{:?}",
        invariant_issues(&b)
    );
    let r = json!({"resourceType": "RiskAssessment", "text": narrative(), "status": "final",
        "subject": {"reference": "Patient/1"}, "prediction": [{"outcome": {"text": "x"}}]});
    assert!(
        invariant_issues(&r).is_empty(),
        "{:?}",
        invariant_issues(&r)
    );
    let vs = json!({"resourceType": "ValueSet", "text": narrative(), "status": "draft"});
    assert!(
        invariant_issues(&vs).is_empty(),
        "{:?}",
        invariant_issues(&vs)
    );
    // ... and still fire when the element is there.
    let vs = json!({"resourceType": "ValueSet", "text": narrative(), "status": "draft", "name": "lower"});
    assert_eq!(
        invariant_issues(&vs),
        [(
            Severity::Warning,
            "vsd-0".to_string(),
            "ValueSet".to_string()
        )]
    );
    let mut r = r;
    r["prediction"][0]["probabilityDecimal"] = json!(101);
    only_error(r, "ras-2", "RiskAssessment.prediction[0]");
    let p = json!({"resourceType": "Patient", "text": narrative(),
        "managingOrganization": {"reference": "#nope"}});
    only_error(p, "ref-1", "Patient.managingOrganization");
}

#[test]
fn vacuous_invariants_hold_without_their_property() {
    // Evaluated for real (a recording checker sees every evaluation) on
    // resources without the property: they hold.
    let defs = concord_fhir::definitions::definitions();
    for (key, prop) in VACUOUS_WITHOUT {
        let c = defs
            .type_names()
            .filter_map(|t| defs.type_def(t))
            .flat_map(|t| t.root_constraints())
            .find(|c| c.key == *key)
            .unwrap_or_else(|| panic!("{key} missing"));
        let expr = CORRECTED_INVARIANTS
            .iter()
            .find(|(k, _)| k == key)
            .map_or(c.expression.as_str(), |(_, e)| e);
        let compiled = concord_fhirpath::compile(expr).unwrap();
        for r in [
            json!({"resourceType": "Patient"}),
            json!({"resourceType": "Patient", "id": "a", "text": narrative(),
                   "meta": {"versionId": "1", "security": [{"code": "R"}]},
                   "managingOrganization": {"reference": "#x"}}),
        ] {
            assert!(r.get(prop).is_none());
            let out = compiled.evaluate(&r).unwrap();
            assert!(
                matches!(out.as_slice(), [concord_fhirpath::Item::Boolean(true)]),
                "{key} on {r}: {out:?}"
            );
        }
    }
    let _ = FhirPathInvariants::new();
}
