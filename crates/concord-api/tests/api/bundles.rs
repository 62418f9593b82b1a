//! Transaction and batch Bundles (`POST /`).

use serde_json::{json, Value};

use crate::common::*;

fn bundle(kind: &str, entries: Vec<Value>) -> Value {
    json!({"resourceType": "Bundle", "type": kind, "entry": entries})
}

fn post_entry(full_url: &str, resource: Value) -> Value {
    let rt = resource["resourceType"].as_str().unwrap().to_string();
    json!({"fullUrl": full_url, "resource": resource, "request": {"method": "POST", "url": rt}})
}

fn observation(subject: &str) -> Value {
    // Parsed from text: `json!` would turn 72.50 into an f64 and lose the trailing zero.
    let text = format!(
        r#"{{"resourceType": "Observation", "status": "final", "code": {{"text": "weight"}},
            "subject": {{"reference": "{subject}"}},
            "valueQuantity": {{"value": 72.50, "unit": "kg"}}}}"#
    );
    serde_json::from_str(&text).unwrap()
}

fn response_entries(r: &Resp) -> &Vec<Value> {
    r.json["entry"].as_array().expect("response entries")
}

/// `Type/id` from a response entry's `location` (`Type/id/_history/n`).
fn location_id(entry: &Value) -> (String, String, String) {
    let loc = entry["response"]["location"]
        .as_str()
        .unwrap_or_else(|| panic!("location in {entry}"));
    let parts: Vec<&str> = loc.split('/').collect();
    let n = parts.len();
    assert!(n >= 4 && parts[n - 2] == "_history", "{loc}");
    (
        parts[n - 4].to_string(),
        parts[n - 3].to_string(),
        parts[n - 1].to_string(),
    )
}

#[tokio::test]
async fn transaction_resolves_urn_uuid_references() {
    let app = TestApp::spawn().await;
    let pat = "urn:uuid:7f1f4d2c-5a60-4b1b-9b59-8f3c2b0a1e11";
    let tx = bundle(
        "transaction",
        vec![
            // The Observation comes first: order in the Bundle must not matter.
            post_entry(
                "urn:uuid:0c3b2a36-1b7e-4d5e-8a8e-3a7c1d9b2f00",
                observation(pat),
            ),
            post_entry(pat, patient("Tx")),
        ],
    );
    let r = post(&app, "", &tx).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["resourceType"], "Bundle");
    assert_eq!(r.json["type"], "transaction-response");
    let e = response_entries(&r);
    assert_eq!(
        e.len(),
        2,
        "one response entry per request entry, same order"
    );
    for entry in e {
        assert_eq!(entry["response"]["status"], "201 Created");
        assert_eq!(entry["response"]["etag"], "W/\"1\"");
        assert!(entry["response"]["lastModified"].is_string());
    }
    let (ot, oid, ov) = location_id(&e[0]);
    let (pt, pid, _) = location_id(&e[1]);
    assert_eq!(
        (ot.as_str(), pt.as_str(), ov.as_str()),
        ("Observation", "Patient", "1")
    );
    let obs = get(&app, &format!("Observation/{oid}")).await;
    assert_eq!(obs.status, 200);
    assert_eq!(obs.json["subject"]["reference"], format!("Patient/{pid}"));
    assert_eq!(obs.json["valueQuantity"]["value"].to_string(), "72.50");
    assert_eq!(
        get(&app, &format!("Patient/{pid}")).await.json["name"][0]["family"],
        "Tx"
    );
    // Body ids of POST entries are replaced by the server's.
    assert_ne!(pid, pat);
}

#[tokio::test]
async fn transaction_processing_order_and_conditional_references() {
    let app = TestApp::spawn().await;
    let gone = create(&app, &patient("ToDelete")).await;
    let mrn = create(
        &app,
        &json!({"resourceType": "Patient",
                "identifier": [{"system": "http://acme.example/mrn", "value": "c-1"}]}),
    )
    .await;
    let tx = bundle(
        "transaction",
        vec![
            // GET first in the Bundle, but processed last: it sees the PUT.
            json!({"request": {"method": "GET", "url": "Patient/ord-1"}}),
            json!({"fullUrl": format!("{}/Patient/ord-1", app.base),
                   "resource": {"resourceType": "Patient", "id": "ord-1", "active": true},
                   "request": {"method": "PUT", "url": "Patient/ord-1"}}),
            post_entry(
                "urn:uuid:11111111-2222-3333-4444-555555555555",
                observation("Patient?identifier=http://acme.example/mrn|c-1"),
            ),
            json!({"request": {"method": "DELETE", "url": format!("Patient/{gone}")}}),
        ],
    );
    let r = post(&app, "", &tx).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let e = response_entries(&r);
    assert_eq!(e.len(), 4);
    assert_eq!(e[0]["response"]["status"], "200 OK", "{}", e[0]);
    assert_eq!(location_id(&e[0]).1, "ord-1");
    assert_eq!(e[1]["response"]["status"], "201 Created");
    assert_eq!(e[1]["response"]["etag"], "W/\"1\"");
    assert_eq!(e[2]["response"]["status"], "201 Created");
    assert!(e[3]["response"]["status"]
        .as_str()
        .unwrap()
        .starts_with("204"));
    get(&app, &format!("Patient/{gone}"))
        .await
        .expect_error(410);
    let oid = location_id(&e[2]).1;
    let obs = get(&app, &format!("Observation/{oid}")).await;
    assert_eq!(obs.json["subject"]["reference"], format!("Patient/{mrn}"));

    // A conditional reference that matches nothing fails the whole transaction.
    let before = history_total(&app, "_history").await;
    let tx = bundle(
        "transaction",
        vec![
            post_entry("urn:uuid:a", patient("Never")),
            post_entry(
                "urn:uuid:b",
                observation("Patient?identifier=http://acme.example/mrn|nobody"),
            ),
        ],
    );
    let r = post(&app, "", &tx).await;
    assert!(r.status >= 400 && r.status < 500, "{}", r.text);
    r.outcome();
    assert_eq!(history_total(&app, "_history").await, before);
}

/// 49 good entries and one bad one: the whole transaction is refused and
/// nothing at all is stored.
async fn all_or_nothing(bad: Value, status: u16) {
    let app = TestApp::spawn().await;
    create(&app, &patient("Existing")).await;
    let before = history_total(&app, "_history").await;
    let mut entries: Vec<Value> = (0..49)
        .map(|i| {
            post_entry(
                &format!("urn:uuid:00000000-0000-0000-0000-{i:012}"),
                patient(&format!("P{i}")),
            )
        })
        .collect();
    entries.push(
        json!({"fullUrl": "urn:uuid:00000000-0000-0000-0000-000000000049",
                        "resource": bad, "request": {"method": "POST", "url": "Patient"}}),
    );
    let r = post(&app, "", &bundle("transaction", entries)).await;
    let diagnostics = r.expect_error(status);
    let expressions = r.json["issue"].to_string();
    assert!(
        expressions.contains("entry[49]") || diagnostics.contains("entry[49]"),
        "the outcome points at the bad entry: {}",
        short(&r.text)
    );
    assert_eq!(history_total(&app, "_history").await, before);
    assert_eq!(count_type(&app, "Patient").await, 1);
    assert_alive(&app).await;
}

#[tokio::test]
async fn transaction_with_bad_50th_entry_stores_nothing() {
    // Not a Patient at all (resourceType disagrees with request.url).
    all_or_nothing(observation("Patient/x"), 400).await;
}

#[tokio::test]
async fn transaction_with_failing_precondition_stores_nothing() {
    let app = TestApp::spawn().await;
    let id = create(&app, &patient("Doe")).await;
    let before = history_total(&app, "_history").await;
    let tx = bundle(
        "transaction",
        vec![
            post_entry("urn:uuid:x1", patient("New")),
            json!({"resource": {"resourceType": "Patient", "id": id, "active": true},
                   "request": {"method": "PUT", "url": format!("Patient/{id}"), "ifMatch": "W/\"9\""}}),
        ],
    );
    post(&app, "", &tx).await.expect_error(412);
    assert_eq!(history_total(&app, "_history").await, before);
    // Two entries for one resource are an error, not a silent overwrite.
    let tx = bundle(
        "transaction",
        vec![
            json!({"resource": {"resourceType": "Patient", "id": "dup", "active": true},
                   "request": {"method": "PUT", "url": "Patient/dup"}}),
            json!({"resource": {"resourceType": "Patient", "id": "dup", "active": false},
                   "request": {"method": "PUT", "url": "Patient/dup"}}),
        ],
    );
    post(&app, "", &tx).await.expect_error(400);
    get(&app, "Patient/dup").await.expect_error(404);
}

#[tokio::test]
async fn batch_entries_succeed_and_fail_independently() {
    let app = TestApp::spawn().await;
    let b = bundle(
        "batch",
        vec![
            post_entry("urn:uuid:b1", patient("Good")),
            json!({"resource": observation("Patient/x"), "request": {"method": "POST", "url": "Patient"}}),
            json!({"request": {"method": "GET", "url": "Patient/not-there"}}),
            json!({"resource": {"resourceType": "Patient", "id": "b-put"},
                   "request": {"method": "PUT", "url": "Patient/b-put"}}),
            json!({"request": {"method": "GET", "url": "Foo/1"}}),
        ],
    );
    let r = post(&app, "", &b).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["type"], "batch-response");
    let e = response_entries(&r);
    assert_eq!(e.len(), 5);
    assert_eq!(e[0]["response"]["status"], "201 Created");
    let (_, good, _) = location_id(&e[0]);
    assert_eq!(get(&app, &format!("Patient/{good}")).await.status, 200);
    for (i, code) in [(1, "400"), (2, "404"), (4, "404")] {
        let status = e[i]["response"]["status"].as_str().unwrap();
        assert!(status.starts_with(code), "entry {i}: {status}");
        assert_eq!(
            e[i]["response"]["outcome"]["resourceType"], "OperationOutcome",
            "entry {i}"
        );
        assert!(e[i]["response"].get("location").is_none());
    }
    assert_eq!(e[3]["response"]["status"], "201 Created");
    assert_eq!(count_type(&app, "Patient").await, 2);

    // Not a Bundle, or a Bundle of another type.
    post(&app, "", &patient("x")).await.expect_error(400);
    post(
        &app,
        "",
        &json!({"resourceType": "Bundle", "type": "collection", "entry": []}),
    )
    .await
    .expect_error(400);
}

/// Entries that write nothing (a conditional create that matches, a
/// conditional delete that matches nothing, a read) still get their response.
#[tokio::test]
async fn transaction_entries_without_writes_get_responses() {
    let app = TestApp::spawn().await;
    let existing = create(
        &app,
        &json!({"resourceType": "Patient",
                "identifier": [{"system": "http://acme.example/mrn", "value": "t-1"}]}),
    )
    .await;
    let tx = bundle(
        "transaction",
        vec![
            json!({"fullUrl": "urn:uuid:c0ffee00-0000-0000-0000-000000000001",
                   "resource": {"resourceType": "Patient",
                       "identifier": [{"system": "http://acme.example/mrn", "value": "t-1"}]},
                   "request": {"method": "POST", "url": "Patient",
                               "ifNoneExist": "identifier=http://acme.example/mrn|t-1"}}),
            json!({"request": {"method": "DELETE",
                               "url": "Patient?identifier=http://acme.example/mrn|nobody"}}),
            post_entry(
                "urn:uuid:c0ffee00-0000-0000-0000-000000000002",
                observation("urn:uuid:c0ffee00-0000-0000-0000-000000000001"),
            ),
            json!({"request": {"method": "GET", "url": format!("Patient/{existing}/_history/1")}}),
        ],
    );
    let r = post(&app, "", &tx).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let e = response_entries(&r);
    assert_eq!(e[0]["response"]["status"], "200 OK");
    assert_eq!(location_id(&e[0]).1, existing);
    assert!(e[1]["response"]["status"]
        .as_str()
        .unwrap()
        .starts_with("204"));
    assert_eq!(e[2]["response"]["status"], "201 Created");
    assert_eq!(e[3]["response"]["status"], "200 OK");
    let obs = get(&app, &format!("Observation/{}", location_id(&e[2]).1)).await;
    assert_eq!(
        obs.json["subject"]["reference"],
        format!("Patient/{existing}"),
        "a fullUrl of a matched conditional create points at the existing resource"
    );
    assert_eq!(count_type(&app, "Patient").await, 1);
}
