//! Search over HTTP, end to end: each parameter type, chains, `_has`,
//! includes, sort, paging, totals, `_summary`/`_elements`, `POST _search`,
//! compartments, `$everything`, handling, and conditional operations with
//! full criteria. (The ≥150-query brute-force conformance set is
//! `search_conformance.rs`.)

use serde_json::{json, Value};

use crate::common::*;

struct Clinic {
    ann: String,
    bob: String,
    zoe: String,
    org: String,
    obs_ann_hr: String,
    obs_ann_bp: String,
    obs_bob_hr: String,
    enc_ann: String,
}

async fn clinic(app: &TestApp) -> Clinic {
    let org = create(
        app,
        &json!({"resourceType": "Organization", "name": "Acme Clinic"}),
    )
    .await;
    let patient = |family: &str, given: &str, birth: &str, gender: &str, mrn: &str| {
        json!({"resourceType": "Patient", "name": [{"family": family, "given": [given]}],
               "birthDate": birth, "gender": gender,
               "identifier": [{"system": "urn:mrn", "value": mrn}],
               "managingOrganization": {"reference": format!("Organization/{org}")}})
    };
    let ann = create(
        app,
        &patient("Ångström", "Ann", "1970-03-04", "female", "A1"),
    )
    .await;
    let bob = create(app, &patient("Baker", "Bob", "1985-11-30", "male", "B2")).await;
    let zoe = create(app, &patient("Zimmer", "Zoe", "2001", "female", "Z3")).await;
    let obs = |pid: &str, code: &str, value: f64, unit: &str, date: &str| {
        json!({"resourceType": "Observation", "status": "final",
               "code": {"coding": [{"system": "http://loinc.org", "code": code}], "text": "vital"},
               "subject": {"reference": format!("Patient/{pid}")},
               "effectiveDateTime": date,
               "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}})
    };
    let obs_ann_hr = create(
        app,
        &obs(&ann, "8867-4", 72.0, "/min", "2024-01-10T10:00:00Z"),
    )
    .await;
    let obs_ann_bp = create(
        app,
        &obs(&ann, "8480-6", 130.0, "mm[Hg]", "2024-02-10T10:00:00Z"),
    )
    .await;
    let obs_bob_hr = create(
        app,
        &obs(&bob, "8867-4", 95.0, "/min", "2023-06-01T08:30:00Z"),
    )
    .await;
    let enc_ann = create(
        app,
        &json!({"resourceType": "Encounter", "status": "finished",
                "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
                "subject": {"reference": format!("Patient/{ann}")},
                "serviceProvider": {"reference": format!("Organization/{org}")}}),
    )
    .await;
    Clinic {
        ann,
        bob,
        zoe,
        org,
        obs_ann_hr,
        obs_ann_bp,
        obs_bob_hr,
        enc_ann,
    }
}

#[tokio::test]
async fn parameter_types_and_modifiers() {
    let app = TestApp::spawn().await;
    let c = clinic(&app).await;
    // string: starts-with, case and accent insensitive; :exact; :contains
    assert_eq!(
        ids(&get(&app, "Patient?name=angs").await),
        vec![c.ann.clone()]
    );
    assert_eq!(
        ids(&get(&app, "Patient?family:exact=Ångström").await),
        vec![c.ann.clone()]
    );
    assert!(ids(&get(&app, "Patient?family:exact=angstrom").await).is_empty());
    assert_eq!(
        ids(&get(&app, "Patient?name:contains=imme").await),
        vec![c.zoe.clone()]
    );
    // token: code, system|code, |code, :not
    assert_eq!(
        ids(&get(&app, "Patient?gender=male").await),
        vec![c.bob.clone()]
    );
    assert_eq!(
        ids(&get(&app, "Patient?identifier=urn:mrn|B2").await),
        vec![c.bob.clone()]
    );
    assert!(ids(&get(&app, "Patient?identifier=|B2").await).is_empty());
    assert_eq!(
        sorted(ids(&get(&app, "Patient?gender:not=male").await)),
        sorted(vec![c.ann.clone(), c.zoe.clone()])
    );
    assert_eq!(
        ids(&get(&app, "Observation?code:text=vit&code=8480-6").await),
        vec![c.obs_ann_bp.clone()]
    );
    // OR (comma) and AND (repeat)
    assert_eq!(
        sorted(ids(&get(&app, "Patient?identifier=A1,Z3").await)),
        sorted(vec![c.ann.clone(), c.zoe.clone()])
    );
    assert_eq!(
        ids(&get(&app, "Patient?gender=female&birthdate=lt1980").await),
        vec![c.ann.clone()]
    );
    // date precision and prefixes
    assert_eq!(
        ids(&get(&app, "Patient?birthdate=1985-11").await),
        vec![c.bob.clone()]
    );
    assert_eq!(
        sorted(ids(&get(&app, "Patient?birthdate=ge1985").await)),
        sorted(vec![c.bob.clone(), c.zoe.clone()])
    );
    assert_eq!(
        ids(&get(&app, "Patient?birthdate=sa2000").await),
        vec![c.zoe.clone()]
    );
    assert_eq!(
        ids(&get(&app, "Observation?date=2024-01").await),
        vec![c.obs_ann_hr.clone()]
    );
    // quantity with and without units; number-style prefixes
    assert_eq!(
        ids(&get(&app, "Observation?value-quantity=gt100").await),
        vec![c.obs_ann_bp.clone()]
    );
    assert_eq!(
        ids(&get(
            &app,
            "Observation?value-quantity=95|http://unitsofmeasure.org|/min"
        )
        .await),
        vec![c.obs_bob_hr.clone()]
    );
    // reference: id, Type/id, absolute URL under the base, :Type, chain
    assert_eq!(
        sorted(ids(
            &get(&app, &format!("Observation?subject={}", c.ann)).await
        )),
        sorted(vec![c.obs_ann_hr.clone(), c.obs_ann_bp.clone()])
    );
    assert_eq!(
        ids(&get(&app, &format!("Observation?patient=Patient/{}", c.bob)).await),
        vec![c.obs_bob_hr.clone()]
    );
    let abs = app.url(&format!("Patient/{}", c.bob));
    assert_eq!(
        ids(&get(&app, &format!("Observation?subject={abs}")).await),
        vec![c.obs_bob_hr.clone()]
    );
    assert_eq!(
        ids(&get(&app, &format!("Observation?subject:Patient={}", c.bob)).await),
        vec![c.obs_bob_hr.clone()]
    );
    assert_eq!(
        ids(&get(&app, "Observation?subject:Patient.name=baker").await),
        vec![c.obs_bob_hr.clone()]
    );
    assert_eq!(
        ids(&get(
            &app,
            "Encounter?subject:Patient.organization:Organization.name=acme"
        )
        .await),
        vec![c.enc_ann.clone()]
    );
    // reverse chaining
    assert_eq!(
        ids(&get(&app, "Patient?_has:Observation:patient:code=8480-6").await),
        vec![c.ann.clone()]
    );
    assert_eq!(
        ids(&get(
            &app,
            "Organization?_has:Patient:organization:_has:Observation:patient:code=8867-4"
        )
        .await),
        vec![c.org.clone()]
    );
    // composite
    assert_eq!(
        ids(&get(
            &app,
            "Observation?code-value-quantity=http://loinc.org|8480-6$130"
        )
        .await),
        vec![c.obs_ann_bp.clone()]
    );
    assert_eq!(
        ids(&get(
            &app,
            "Observation?code-value-quantity=http://loinc.org|8480-6$gt100"
        )
        .await),
        vec![c.obs_ann_bp.clone()]
    );
    assert!(ids(&get(
        &app,
        "Observation?code-value-quantity=http://loinc.org|8480-6$lt100"
    )
    .await)
    .is_empty());
    // :missing, _id, _lastUpdated
    assert_eq!(
        ids(&get(&app, "Patient?birthdate:missing=true").await),
        Vec::<String>::new()
    );
    assert_eq!(
        ids(&get(&app, &format!("Patient?_id={}", c.zoe)).await),
        vec![c.zoe.clone()]
    );
    assert_eq!(
        ids(&get(&app, "Patient?_lastUpdated=gt2020-01-01").await).len(),
        3
    );
}

async fn found(app: &TestApp, q: &str) -> Vec<String> {
    let mut got = ids(&get(app, q).await);
    got.sort();
    got
}

/// Prefixes on a composite over repeating elements hold within one node:
/// systolic 120 and diastolic 80 in one blood pressure must not answer
/// "diastolic above 100" through the systolic value.
#[tokio::test]
async fn composite_prefixes_hold_within_one_component() {
    let app = TestApp::spawn().await;
    let bp = |systolic: f64, diastolic: f64, unit: &str| {
        let component = |code: &str, value: f64| {
            json!({"code": {"coding": [{"system": "http://loinc.org", "code": code}]},
                   "valueQuantity": {"value": value, "unit": unit,
                                     "system": "http://unitsofmeasure.org", "code": unit}})
        };
        json!({"resourceType": "Observation", "status": "final",
               "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]},
               "component": [component("8480-6", systolic), component("8462-4", diastolic)]})
    };
    let normal = create(&app, &bp(120.0, 80.0, "mm[Hg]")).await;
    let high = create(&app, &bp(165.0, 104.0, "mm[Hg]")).await;
    let in_kpa = create(&app, &bp(21.3, 14.0, "kPa")).await;
    let (sys, dia) = ("http://loinc.org|8480-6", "http://loinc.org|8462-4");
    let cases: Vec<(String, Vec<&String>, &str)> = vec![
        (
            format!("component-code-value-quantity={sys}$gt100"),
            vec![&normal, &high],
            "no unit: as written only (21.3 kPa is not above 100)",
        ),
        (
            format!("component-code-value-quantity={dia}$gt100"),
            vec![&high],
            "the systolic value does not answer for the diastolic",
        ),
        (
            format!("component-code-value-quantity={dia}$gt100||mm[Hg]"),
            vec![&high, &in_kpa],
            "14.0 kPa is 105 mm[Hg]: with a unit, values are also compared in Pa",
        ),
        (
            format!("component-code-value-quantity={sys}$120"),
            vec![&normal],
            "equality",
        ),
        (
            format!("component-code-value-quantity={sys}$ne120"),
            vec![&high, &in_kpa],
            "ne",
        ),
        (
            format!("component-code-value-quantity={dia}$le80,{sys}$ge160"),
            vec![&normal, &high, &in_kpa],
            "OR within one node each; 14.0 (no unit given) is at most 80",
        ),
        (
            format!("combo-code-value-quantity={sys}$lt16|http://unitsofmeasure.org|kPa"),
            vec![&normal],
            "120 mm[Hg] is 16.0 kPa",
        ),
    ];
    for (query, want, why) in cases {
        let mut want: Vec<String> = want.into_iter().cloned().collect();
        want.sort();
        assert_eq!(
            found(&app, &format!("Observation?{query}")).await,
            want,
            "{query}: {why}"
        );
    }
}

#[tokio::test]
async fn includes_sort_summary_and_system_search() {
    let app = TestApp::spawn().await;
    let c = clinic(&app).await;
    let r = get(
        &app,
        &format!(
            "Observation?subject={}&_include=Observation:subject&_revinclude=Encounter:subject",
            c.bob
        ),
    )
    .await;
    assert_eq!(ids(&r), vec![c.obs_bob_hr.clone()]);
    let included: Vec<&str> = r.json["entry"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["search"]["mode"] == "include")
        .map(|e| e["resource"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(included, vec![c.bob.as_str()]);
    // _revinclude from patients, and :iterate out to the organization
    let r = get(
        &app,
        &format!(
            "Patient?_id={}&_revinclude=Observation:subject&_include:iterate=Patient:organization",
            c.ann
        ),
    )
    .await;
    let mut inc: Vec<String> = r.json["entry"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["search"]["mode"] == "include")
        .map(|e| e["resource"]["id"].as_str().unwrap().to_string())
        .collect();
    inc.sort();
    assert_eq!(
        inc,
        sorted(vec![
            c.obs_ann_hr.clone(),
            c.obs_ann_bp.clone(),
            c.org.clone()
        ])
    );
    // sort, several keys, descending
    assert_eq!(
        ids(&get(&app, "Patient?_sort=birthdate").await),
        vec![c.ann.clone(), c.bob.clone(), c.zoe.clone()]
    );
    assert_eq!(
        ids(&get(&app, "Patient?_sort=-birthdate").await),
        vec![c.zoe.clone(), c.bob.clone(), c.ann.clone()]
    );
    assert_eq!(
        ids(&get(&app, "Patient?_sort=gender,-family").await),
        vec![c.zoe.clone(), c.ann.clone(), c.bob.clone()]
    );
    // _summary=count, _total, _elements
    let r = get(&app, "Observation?_summary=count").await;
    assert_eq!(r.json["total"], 3);
    assert!(r.json.get("entry").is_none());
    let r = get(&app, "Observation?_count=1&_total=accurate").await;
    assert_eq!(r.json["total"], 3);
    assert_eq!(ids(&r).len(), 1);
    let r = get(&app, &format!("Patient?_elements=birthDate&_id={}", c.ann)).await;
    let res = &r.json["entry"][0]["resource"];
    assert!(
        res.get("birthDate").is_some() && res.get("name").is_none(),
        "{res}"
    );
    assert_eq!(res["meta"]["tag"][0]["code"], "SUBSETTED");
    // system search with _type; POST _search with a form body
    let r = get(&app, "?_type=Patient,Organization&_count=100").await;
    assert_eq!(ids(&r).len(), 4);
    let r = send(
        req(&app, Method::POST, "Patient/_search")
            .header("content-type", "application/x-www-form-urlencoded")
            .body("gender=female&birthdate=ge2000"),
    )
    .await;
    assert_eq!(ids(&r), vec![c.zoe.clone()]);
    let r = send(
        req(&app, Method::POST, "Patient/_search")
            .header("content-type", "application/fhir+json")
            .body("{}"),
    )
    .await;
    r.expect_error(415);
}

#[tokio::test]
async fn compartments_and_everything() {
    let app = TestApp::spawn().await;
    let c = clinic(&app).await;
    let r = get(&app, &format!("Patient/{}/Observation", c.ann)).await;
    assert_eq!(
        sorted(ids(&r)),
        sorted(vec![c.obs_ann_hr.clone(), c.obs_ann_bp.clone()])
    );
    let r = get(&app, &format!("Patient/{}/Observation?code=8867-4", c.ann)).await;
    assert_eq!(ids(&r), vec![c.obs_ann_hr.clone()]);
    get(&app, &format!("Patient/{}/Organization", c.ann))
        .await
        .expect_error(400);
    let r = get(&app, &format!("Patient/{}/$everything", c.ann)).await;
    let mut all = ids(&r);
    all.sort();
    assert_eq!(
        all,
        sorted(vec![
            c.ann.clone(),
            c.obs_ann_hr.clone(),
            c.obs_ann_bp.clone(),
            c.enc_ann.clone()
        ])
    );
    let inc: Vec<&Value> = r.json["entry"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["search"]["mode"] == "include")
        .collect();
    assert_eq!(inc.len(), 1, "the organization comes along");
    assert_eq!(inc[0]["resource"]["id"], c.org.as_str());
    let r = get(
        &app,
        &format!("Patient/{}/$everything?_type=Observation&_count=1", c.ann),
    )
    .await;
    assert_eq!(ids(&r).len(), 1);
    let next = link(&r, "next").expect("a next page");
    let r2 = get_url(&next).await;
    assert_eq!(ids(&r2).len(), 1);
    assert_ne!(ids(&r), ids(&r2));
    get(&app, "Patient/nobody/$everything")
        .await
        .expect_error(404);
}

#[tokio::test]
async fn paging_is_stable_while_data_changes() {
    let app = TestApp::spawn().await;
    for i in 0..25 {
        create(
            &app,
            &json!({"resourceType": "Patient", "name": [{"family": format!("Page{i:02}")}]}),
        )
        .await;
    }
    let mut seen = Vec::new();
    let mut url = app.url("Patient?name=page&_sort=family&_count=10");
    let mut pages = 0;
    loop {
        let r = get_url(&url).await;
        let page = ids(&r);
        assert!(page.len() <= 10);
        seen.extend(page);
        pages += 1;
        if pages == 1 {
            // Writes between pages shift nothing: a new first-sorting
            // patient and a deletion of one already seen.
            create(
                &app,
                &json!({"resourceType": "Patient", "name": [{"family": "Page00a"}]}),
            )
            .await;
            delete(&app, &format!("Patient/{}", seen[0])).await;
        }
        match link(&r, "next") {
            Some(n) => url = n,
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 25, "no gaps, no repeats");
    let mut uniq = seen.clone();
    uniq.sort();
    uniq.dedup();
    assert_eq!(uniq.len(), 25);
    // previous goes back
    let r = get(&app, "Patient?name=page&_sort=family&_count=10").await;
    let next = get_url(&link(&r, "next").unwrap()).await;
    let prev = get_url(&link(&next, "previous").expect("previous")).await;
    assert_eq!(ids(&prev), ids(&r));
    assert!(link(&next, "first").is_some());
    // a damaged cursor is a clear error
    get(&app, "Patient?_cursor=garbage").await.expect_error(400);
}

#[tokio::test]
async fn handling_and_conditional_criteria() {
    let app = TestApp::spawn().await;
    let c = clinic(&app).await;
    // lenient: dropped, reported, left out of self
    let r = get(&app, "Patient?gender=male&nosuch=1").await;
    assert_eq!(ids(&r), vec![c.bob.clone()]);
    let outcome: Vec<&Value> = r.json["entry"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["search"]["mode"] == "outcome")
        .collect();
    assert_eq!(outcome.len(), 1);
    let self_link = link(&r, "self").unwrap();
    assert!(
        self_link.contains("gender=male") && !self_link.contains("nosuch"),
        "{self_link}"
    );
    // strict: refused
    send(
        req(&app, Method::GET, "Patient?gender=male&nosuch=1").header("prefer", "handling=strict"),
    )
    .await
    .expect_error(400);
    // bad values are 400s
    get(&app, "Patient?birthdate=notadate")
        .await
        .expect_error(400);
    get(&app, "Observation?value-quantity=abc")
        .await
        .expect_error(400);
    // conditional create on any criteria; several matches → 412
    let body = json!({"resourceType": "Patient", "name": [{"family": "Baker"}], "gender": "male"});
    let r = send(
        with_body(&app, Method::POST, "Patient", &body)
            .header("if-none-exist", "family=baker&gender=male"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["id"], c.bob.as_str());
    let r = send(
        with_body(&app, Method::POST, "Patient", &body).header("if-none-exist", "gender=female"),
    )
    .await;
    r.expect_error(412);
    // conditional delete by chain
    let r = send(req(
        &app,
        Method::DELETE,
        "Observation?subject:Patient.family=baker",
    ))
    .await;
    assert!(r.status == 200 || r.status == 204, "{}", r.text);
    assert!(ids(&get(&app, &format!("Observation?subject={}", c.bob)).await).is_empty());
}
