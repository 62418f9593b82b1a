//! Consent (scope `patient-privacy`) enforced by the read guard: denials of
//! an organization, of an app, and of a sensitive label, with the care
//! team's treatment access kept.

use serde_json::{json, Value};

use super::common::*;

const ACT_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";

fn consent(id: &str, patient: &str, provision: Value) -> Value {
    json!({"resourceType": "Consent", "id": id, "status": "active",
        "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope",
                              "code": "patient-privacy"}]},
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
        "patient": {"reference": format!("Patient/{patient}")},
        "policyRule": {"coding": [{"system": ACT_CODE, "code": "OPTOUT"}]},
        "provision": provision})
}

fn actor(reference: Value) -> Value {
    json!({"role": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                                "code": "IRCP"}]},
           "reference": reference})
}

async fn seed(w: &World) {
    for org in ["o1", "o2"] {
        w.seed(json!({"resourceType": "Organization", "id": org, "name": org}))
            .await;
    }
    for (who, org) in [("bill1", "o1"), ("bill2", "o2")] {
        w.seed(json!({"resourceType": "Practitioner", "id": who}))
            .await;
        w.seed(
            json!({"resourceType": "PractitionerRole", "id": format!("role-{who}"),
            "practitioner": {"reference": format!("Practitioner/{who}")},
            "organization": {"reference": format!("Organization/{org}")}}),
        )
        .await;
    }
    for p in ["p1", "p2", "p3"] {
        w.seed(json!({"resourceType": "Patient", "id": p,
            "generalPractitioner": [{"reference": "Practitioner/doc"}]}))
            .await;
        w.seed(
            json!({"resourceType": "Observation", "id": format!("o-{p}"), "status": "final",
            "code": {"text": "weight"}, "subject": {"reference": format!("Patient/{p}")}}),
        )
        .await;
    }
    w.seed(
        json!({"resourceType": "Condition", "id": "c-psy", "code": {"text": "depression"},
        "meta": {"security": [{"system": ACT_CODE, "code": "PSY"}]},
        "subject": {"reference": "Patient/p3"}}),
    )
    .await;
    w.seed(
        json!({"resourceType": "Condition", "id": "c-flu", "code": {"text": "influenza"},
        "subject": {"reference": "Patient/p3"}}),
    )
    .await;
    // p1: nothing to organization o2. p2: nothing to the app "snoop".
    // p3: nothing labelled PSY to anyone (but the care team).
    w.seed(consent(
        "k1",
        "p1",
        json!({"type": "deny",
        "actor": [actor(json!({"reference": "Organization/o2"}))]}),
    ))
    .await;
    w.seed(consent("k2", "p2", json!({"type": "permit", "provision": [{"type": "deny",
        "actor": [actor(json!({"identifier": {"system": "urn:concord:oauth-client", "value": "snoop"}}))]}]})))
        .await;
    w.seed(consent(
        "k3",
        "p3",
        json!({"type": "deny",
        "securityLabel": [{"system": ACT_CODE, "code": "PSY"}]}),
    ))
    .await;
}

async fn billing(w: &World, who: &str, client: &str) -> String {
    let mut c = user_claims(w, who, "staff", Some("billing"), &[], "user/*.rs");
    c.fhir_user = Some(format!("Practitioner/{who}"));
    c.client_id = Some(client.into());
    mint(w, &c).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consent_denials_are_honoured_for_whom_they_name() {
    let w = World::new().await;
    seed(&w).await;
    let bill1 = billing(&w, "bill1", "test-app").await;
    let bill2 = billing(&w, "bill2", "test-app").await;
    let snoop = billing(&w, "bill1", "snoop").await;
    // Organization: o2's staff cannot see p1; o1's can.
    assert_eq!(get(&w, "/Observation/o-p1", &bill2).await.status(), 404);
    assert_eq!(get(&w, "/Patient/p1", &bill2).await.status(), 404);
    assert_eq!(get(&w, "/Observation/o-p2", &bill2).await.status(), 200);
    assert_eq!(get(&w, "/Observation/o-p1", &bill1).await.status(), 200);
    let b = json(get(&w, "/Observation?_total=accurate", &bill2).await).await;
    assert_eq!(
        ids_of(&b, "match"),
        vec!["Observation/o-p2", "Observation/o-p3"]
    );
    assert_eq!(b["total"], 2);
    // App: the same user through "snoop" cannot see p2.
    assert_eq!(get(&w, "/Observation/o-p2", &snoop).await.status(), 404);
    assert_eq!(get(&w, "/Observation/o-p2", &bill1).await.status(), 200);
    // Label: PSY-labelled data of p3 is hidden from everyone else…
    assert_eq!(get(&w, "/Condition/c-psy", &bill1).await.status(), 404);
    assert_eq!(get(&w, "/Condition/c-flu", &bill1).await.status(), 200);
    let b = json(get(&w, "/Condition?patient=p3&_total=accurate", &bill1).await).await;
    assert_eq!(ids_of(&b, "match"), vec!["Condition/c-flu"]);
    assert_eq!(b["total"], 1);
    let b = json(get(&w, "/Patient?_id=p3&_revinclude=Condition:subject", &bill1).await).await;
    assert_eq!(ids_of(&b, "include"), vec!["Condition/c-flu"]);
    // …but not from the care team (treatment) or the patient.
    let doc = staff_token(&w, "doc", "physician").await;
    assert_eq!(get(&w, "/Condition/c-psy", &doc).await.status(), 200);
    let b = json(get(&w, "/Condition?patient=p3", &doc).await).await;
    assert_eq!(ids_of(&b, "match").len(), 2);
    let own = patient_token(&w, "carol", "p3").await;
    assert_eq!(get(&w, "/Condition/c-psy", &own).await.status(), 200);
    // Consent restricts disclosure, not the care team's writes.
    let r = send(
        &w,
        reqwest::Method::PUT,
        "/Condition/c-psy",
        &doc,
        Some(&json!({"resourceType": "Condition", "id": "c-psy", "code": {"text": "depression, remission"},
            "meta": {"security": [{"system": ACT_CODE, "code": "PSY"}]},
            "subject": {"reference": "Patient/p3"}})),
    )
    .await;
    assert_eq!(r.status(), 200);
}
