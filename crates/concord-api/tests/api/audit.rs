//! The audit trail and the ledger over HTTP: every call of a representative
//! sequence leaves exactly one matching AuditEvent (action, outcome,
//! patient), AuditEvents are searchable and read-only, the patient access
//! log speaks plain words, and an inclusion proof checks with only the
//! public key.

use base64::Engine as _;
use concord_core::ledger::{check_consistency, check_proof, PublicKey};
use serde_json::{json, Value};

use crate::common::*;

/// Sends a request tagged with `X-Request-Id: rid`.
async fn call(app: &TestApp, method: Method, path: &str, body: Option<&Value>, rid: &str) -> Resp {
    let mut rb = req(app, method, path).header("x-request-id", rid);
    if let Some(b) = body {
        rb = rb.header("content-type", FHIR_JSON).body(b.to_string());
    }
    send(rb).await
}

/// Every AuditEvent, through FHIR search (which commits the buffer first).
async fn audit_events(app: &TestApp) -> Vec<Value> {
    let r = get(app, "/AuditEvent?_count=1000").await;
    assert_eq!(r.status, 200, "{}", short(&r.text));
    r.json["entry"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|e| e["resource"].clone())
        .collect()
}

fn request_id(event: &Value) -> Option<&str> {
    event["entity"].as_array()?.iter().find_map(|e| {
        (e["what"]["identifier"]["system"] == "urn:concord:request-id")
            .then(|| e["what"]["identifier"]["value"].as_str())
            .flatten()
    })
}

fn patients(event: &Value) -> Vec<String> {
    event["entity"]
        .as_array()
        .map(|es| {
            es.iter()
                .filter(|e| e["role"]["code"] == "1")
                .filter_map(|e| e["what"]["reference"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn events_of<'a>(events: &'a [Value], rid: &str) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|e| request_id(e) == Some(rid))
        .collect()
}

/// Asserts exactly one event for `rid` with this subtype, action and outcome,
/// naming `patient` (if given); returns it.
#[track_caller]
fn one<'a>(
    events: &'a [Value],
    rid: &str,
    subtype: &str,
    action: &str,
    outcome: &str,
    patient: Option<&str>,
) -> &'a Value {
    let found = events_of(events, rid);
    assert_eq!(
        found.len(),
        1,
        "{rid}: expected one AuditEvent, got {found:?}"
    );
    let e = found[0];
    assert_eq!(e["subtype"][0]["code"], subtype, "{rid}: {e}");
    assert_eq!(e["action"], action, "{rid}: {e}");
    assert_eq!(e["outcome"], outcome, "{rid}: {e}");
    assert_eq!(e["agent"][0]["altId"], "anonymous", "{rid}: {e}");
    assert_eq!(e["agent"][0]["requestor"], true);
    assert_eq!(e["source"]["observer"]["display"], "Concord");
    if let Some(p) = patient {
        assert_eq!(patients(e), vec![format!("Patient/{p}")], "{rid}: {e}");
    }
    e
}

#[tokio::test]
async fn every_call_leaves_one_matching_audit_event() {
    let app = TestApp::spawn().await;
    let patient = json!({"resourceType": "Patient", "name": [{"family": "Audited"}]});
    let r = call(&app, Method::POST, "/Patient", Some(&patient), "a-create").await;
    assert_eq!(r.status, 201);
    let pid = r.json["id"].as_str().unwrap().to_string();
    let obs = json!({"resourceType": "Observation", "status": "final",
        "code": {"text": "weight"}, "subject": {"reference": format!("Patient/{pid}")}});
    let r = call(
        &app,
        Method::POST,
        "/Observation",
        Some(&obs),
        "a-create-obs",
    )
    .await;
    assert_eq!(r.status, 201);
    let oid = r.json["id"].as_str().unwrap().to_string();
    let steps: Vec<(Method, String, Option<Value>, &str, u16)> = vec![
        (Method::GET, format!("/Patient/{pid}"), None, "a-read", 200),
        (
            Method::GET,
            format!("/Patient/{pid}/_history/1"),
            None,
            "a-vread",
            200,
        ),
        (
            Method::PUT,
            format!("/Patient/{pid}"),
            Some(json!({"resourceType": "Patient", "id": pid, "name": [{"family": "Audited2"}]})),
            "a-update",
            200,
        ),
        (
            Method::GET,
            format!("/Observation/{oid}"),
            None,
            "a-read-obs",
            200,
        ),
        (
            Method::GET,
            format!("/Observation?subject=Patient/{pid}"),
            None,
            "a-search",
            200,
        ),
        (
            Method::GET,
            format!("/Patient/{pid}/_history"),
            None,
            "a-history",
            200,
        ),
        (
            Method::GET,
            format!("/Patient/{pid}/$everything"),
            None,
            "a-everything",
            200,
        ),
        (
            Method::GET,
            "/Patient/does-not-exist".into(),
            None,
            "a-missing",
            404,
        ),
        (
            Method::PUT,
            "/AuditEvent/forged".into(),
            Some(json!({"resourceType": "AuditEvent", "id": "forged"})),
            "a-forge",
            422,
        ),
        (
            Method::DELETE,
            format!("/Observation/{oid}"),
            None,
            "a-delete",
            200,
        ),
    ];
    for (method, path, body, rid, status) in &steps {
        let r = call(&app, method.clone(), path, body.as_ref(), rid).await;
        assert_eq!(r.status, *status, "{rid} {path}: {}", short(&r.text));
    }
    let batch = json!({"resourceType": "Bundle", "type": "batch", "entry": [
        {"request": {"method": "GET", "url": format!("Patient/{pid}")}},
        {"resource": obs, "request": {"method": "POST", "url": "Observation"}}
    ]});
    let r = call(&app, Method::POST, "/", Some(&batch), "a-batch").await;
    assert_eq!(r.status, 200, "{}", short(&r.text));

    let events = audit_events(&app).await;
    let p = Some(pid.as_str());
    one(&events, "a-create", "create", "C", "0", p);
    one(&events, "a-create-obs", "create", "C", "0", p);
    one(&events, "a-read", "read", "R", "0", p);
    one(&events, "a-vread", "vread", "R", "0", p);
    one(&events, "a-update", "update", "U", "0", p);
    one(&events, "a-read-obs", "read", "R", "0", p);
    let search = one(&events, "a-search", "search-type", "R", "0", None);
    let query = search["entity"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|e| e["query"].as_str())
        .expect("the search's query entity");
    let query = base64::engine::general_purpose::STANDARD
        .decode(query)
        .unwrap();
    assert_eq!(
        String::from_utf8(query).unwrap(),
        format!("Observation?subject=Patient/{pid}")
    );
    one(&events, "a-history", "history-instance", "R", "0", p);
    let everything = one(&events, "a-everything", "operation", "E", "0", p);
    assert!(everything.to_string().contains("$everything"));
    one(&events, "a-missing", "read", "R", "4", None);
    one(&events, "a-forge", "update", "U", "4", None);
    one(&events, "a-delete", "delete", "D", "0", None);
    // A batch: one event for the Bundle, one per entry.
    let batch_events = events_of(&events, "a-batch");
    assert_eq!(batch_events.len(), 3, "{batch_events:?}");
    let mut subtypes: Vec<&str> = batch_events
        .iter()
        .filter_map(|e| e["subtype"][0]["code"].as_str())
        .collect();
    subtypes.sort();
    assert_eq!(
        subtypes,
        vec!["batch", "create", "read"],
        "{batch_events:?}"
    );
    // The forged AuditEvent was never stored.
    assert!(events.iter().all(|e| e["id"] != "forged"));
}

#[tokio::test]
async fn audit_events_are_searchable_and_cannot_be_changed() {
    let app = TestApp::spawn().await;
    let pid = create(&app, &json!({"resourceType": "Patient"})).await;
    assert_eq!(get(&app, &format!("/Patient/{pid}")).await.status, 200);
    let r = get(
        &app,
        &format!("/AuditEvent?patient=Patient/{pid}&date=ge2020-01-01&action=R"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", short(&r.text));
    let found = r.json["entry"].as_array().cloned().unwrap_or_default();
    assert_eq!(
        found.len(),
        1,
        "one read of the patient: {}",
        short(&r.text)
    );
    let event = &found[0]["resource"];
    let id = event["id"].as_str().unwrap();
    // Neither changed nor deleted over the API (append-only).
    let r = put(&app, &format!("/AuditEvent/{id}"), event).await;
    assert_eq!(r.status, 405, "{}", short(&r.text));
    assert_eq!(delete(&app, &format!("/AuditEvent/{id}")).await.status, 405);
    let patch_body = json!([{"op": "replace", "path": "/outcome", "value": "0"}]);
    let r = app
        .client
        .patch(app.url(&format!("/AuditEvent/{id}")))
        .header("content-type", "application/json-patch+json")
        .body(patch_body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 405);
    // Another system's audit source may add events (IHE ATNA), which are
    // then just as immutable.
    let added = post(&app, "/AuditEvent", event).await;
    assert_eq!(added.status, 201, "{}", short(&added.text));
    let added_id = added.json["id"].as_str().unwrap().to_string();
    assert_ne!(added_id, id);
    let r = put(&app, &format!("/AuditEvent/{added_id}"), &added.json).await;
    assert_eq!(r.status, 405, "{}", short(&r.text));
    // Digits-only ids belong to the trail (its sequence numbers): another
    // source may not take one, even one not used yet.
    let mut taken = event.clone();
    taken["id"] = json!("987654321098");
    let r = put(&app, "/AuditEvent/987654321098", &taken).await;
    assert_eq!(r.status, 409, "{}", short(&r.text));
    let tx = json!({"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": event, "request": {"method": "PUT", "url": format!("AuditEvent/{id}")}}]});
    assert!(post(&app, "/", &tx).await.status >= 400);
    let again = get(&app, &format!("/AuditEvent/{id}")).await;
    assert_eq!(
        again.json["meta"]["versionId"], "1",
        "still the first version"
    );
}

#[tokio::test]
async fn patient_access_log_in_json_and_plain_words() {
    let app = TestApp::spawn().await;
    let pid = create(&app, &json!({"resourceType": "Patient"})).await;
    let obs = json!({"resourceType": "Observation", "status": "final", "code": {"text": "HbA1c"},
        "subject": {"reference": format!("Patient/{pid}")}});
    let oid = create(&app, &obs).await;
    assert_eq!(get(&app, &format!("/Observation/{oid}")).await.status, 200);
    let log = get(&app, &format!("/Patient/{pid}/$access-log")).await;
    assert_eq!(log.status, 200, "{}", short(&log.text));
    let entries = log.json["entries"].as_array().unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e["action"] == "viewed" && e["what"] == "lab results and measurements"),
        "{}",
        log.text
    );
    let html = send(
        req(&app, Method::GET, &format!("/Patient/{pid}/$access-log"))
            .header("accept", "text/html"),
    )
    .await;
    assert_eq!(html.status, 200);
    assert!(html
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    assert!(
        html.text
            .contains("Someone without signing in viewed your lab results and measurements on "),
        "{}",
        html.text
    );
}

#[tokio::test]
async fn inclusion_proof_checks_with_only_the_public_key() {
    let app = TestApp::spawn().await;
    let pid = create(&app, &json!({"resourceType": "Patient"})).await;
    let proof = get(&app, &format!("/Patient/{pid}/_history/1/$ledger-proof")).await;
    assert_eq!(proof.status, 200, "{}", short(&proof.text));
    let key = get(&app, "/.well-known/concord-ledger-key").await;
    let key = PublicKey::from_base64(key.json["public_key"].as_str().unwrap()).unwrap();
    check_proof(&proof.json, &key).expect("the proof holds");
    let mut forged = proof.json.clone();
    forged["leaf"] = json!(base64::engine::general_purpose::STANDARD.encode(b"Patient/x/1"));
    assert!(check_proof(&forged, &key).is_err());
    let missing = get(&app, &format!("/Patient/{pid}/_history/9/$ledger-proof")).await;
    assert_eq!(missing.status, 404);
}

/// Signs a tree head now; returns its size.
async fn sign_head(app: &TestApp) -> i64 {
    let r = send(req(app, Method::POST, "/$ledger-tree-head")).await;
    assert_eq!(r.status, 200, "{}", short(&r.text));
    r.json["tree_size"].as_i64().unwrap()
}

#[tokio::test]
async fn consistency_proof_joins_two_signed_heads_with_only_the_public_key() {
    let app = TestApp::spawn().await;
    create(&app, &json!({"resourceType": "Patient"})).await;
    let first = sign_head(&app).await;
    for _ in 0..4 {
        create(&app, &json!({"resourceType": "Patient"})).await;
    }
    let second = sign_head(&app).await;
    assert!(second > first, "{first} -> {second}");
    let key = get(&app, "/.well-known/concord-ledger-key").await;
    let key = PublicKey::from_base64(key.json["public_key"].as_str().unwrap()).unwrap();

    let proof = get(
        &app,
        &format!("/$ledger-consistency?first={first}&second={second}"),
    )
    .await;
    assert_eq!(proof.status, 200, "{}", short(&proof.text));
    assert_eq!(check_consistency(&proof.json, &key), Ok((first, second)));
    // Without `second`: up to the latest head (at least `second`).
    let latest = get(&app, &format!("/$ledger-consistency?first={first}")).await;
    assert_eq!(latest.status, 200, "{}", short(&latest.text));
    let (_, to) = check_consistency(&latest.json, &key).expect("the proof holds");
    assert!(to >= second);
    // The same size twice: an empty path.
    let same = get(
        &app,
        &format!("/$ledger-consistency?first={second}&second={second}"),
    )
    .await;
    assert_eq!(check_consistency(&same.json, &key), Ok((second, second)));

    // Forged: a path entry changed, a root changed, a head re-signed by no one.
    let mut forged = proof.json.clone();
    forged["consistency_path"][0] = json!(hex_zero());
    assert!(check_consistency(&forged, &key).is_err());
    let mut forged = proof.json.clone();
    forged["first_tree_head"]["root_hash"] = json!(hex_zero());
    assert!(check_consistency(&forged, &key).is_err());
    let mut forged = proof.json.clone();
    forged["second_tree_head"]["tree_size"] = json!(second + 1);
    assert!(check_consistency(&forged, &key).is_err());

    // Bad requests and unknown heads.
    for (query, status) in [
        (String::new(), 400),
        ("?first=abc".to_string(), 400),
        ("?first=0".to_string(), 400),
        (format!("?first={second}&second={first}"), 400),
        ("?first=99999999".to_string(), 404),
        (format!("?first={first}&second=99999999"), 404),
    ] {
        let r = get(&app, &format!("/$ledger-consistency{query}")).await;
        assert_eq!(r.status, status, "{query}: {}", short(&r.text));
        assert_eq!(r.json["resourceType"], "OperationOutcome", "{query}");
    }
}

fn hex_zero() -> String {
    "00".repeat(32)
}
