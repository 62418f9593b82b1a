//! No patient data in logs: `concord serve` with its own tracing subscriber
//! at the most verbose level for Concord's crates serves representative
//! traffic (writes, reads, searches, a transaction, bad requests) about a
//! patient with distinctive names, identifiers and dates; then its whole
//! log is scanned for them.

use std::io::Read;
use std::process::{Command, Stdio};

use serde_json::json;

use super::{spawn_server_logging, BIN};

const FAMILY: &str = "Quixoticallyson";
const GIVEN: &str = "Brundelwina";
const MRN: &str = "MRN-LOG-99317";
const BIRTH: &str = "1917-03-29";
const PHONE: &str = "555-0142-7781";
const STREET: &str = "77 Xylophone Crescent";
const NOTE: &str = "Zarquon syndrome suspected";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn served_traffic_leaves_no_patient_data_in_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("concord.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let (mut child, base) = spawn_server_logging(
        Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("CONCORD_DATA_DIR", dir.path().join("data"))
        .env_remove("CONCORD_DATABASE_URL")
        .env_remove("CONCORD_DB_KEY")
        // Everything Concord logs, and debug for the libraries under it.
        .env(
            "CONCORD_LOG",
            "debug,concord=trace,concord_api=trace,concord_core=trace,concord_auth=trace,\
             concord_store=trace,concord_store_sqlite=trace,concord_search=trace,concord_interfaces=trace",
        ),
        Stdio::from(log),
    );
    let http = reqwest::Client::new();
    let fhir = "application/fhir+json";
    let patient = json!({
        "resourceType": "Patient", "id": "logp1",
        "identifier": [{"system": "urn:test:mrn", "value": MRN}],
        "name": [{"family": FAMILY, "given": [GIVEN]}],
        "birthDate": BIRTH,
        "telecom": [{"system": "phone", "value": PHONE}],
        "address": [{"line": [STREET]}]
    });
    let mut requests = 0;
    let mut send = |r: reqwest::RequestBuilder| {
        requests += 1;
        r
    };
    let r = send(http.put(format!("{base}/Patient/logp1")))
        .header("content-type", fhir)
        .body(patient.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let obs = json!({"resourceType": "Observation", "status": "final",
        "code": {"text": NOTE}, "subject": {"reference": "Patient/logp1"},
        "valueString": format!("{FAMILY} {NOTE}")});
    let r = send(http.post(format!("{base}/Observation")))
        .header("content-type", fhir)
        .header("if-none-exist", format!("identifier={MRN}"))
        .body(obs.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    for query in [
        format!("Patient?family={FAMILY}"),
        format!("Patient?identifier=urn:test:mrn|{MRN}"),
        format!("Patient?birthdate={BIRTH}&given={GIVEN}"),
        format!("Patient?phone={PHONE}"),
        format!("Observation?subject:Patient.name={FAMILY}&_include=Observation:subject"),
        format!("Patient?_content={NOTE}"),
        // Bad searches quote their input back to the caller, not to the log.
        format!("Patient?birthdate=not-{BIRTH}-{FAMILY}"),
        format!("Patient?{FAMILY}={GIVEN}"),
    ] {
        let r = send(http.get(format!("{base}/{query}")))
            .send()
            .await
            .unwrap();
        assert!(r.status().as_u16() < 500, "{query}: {}", r.status());
    }
    let r = send(http.get(format!("{base}/Patient/logp1")))
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains(FAMILY));
    let mut updated = patient.clone();
    updated["name"][0]["given"] = json!([GIVEN, "Second"]);
    let r = send(http.put(format!("{base}/Patient/logp1")))
        .header("content-type", fhir)
        .body(updated.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = send(http.patch(format!("{base}/Patient/logp1")))
        .header("content-type", "application/json-patch+json")
        .body(json!([{"op": "replace", "path": "/birthDate", "value": BIRTH}]).to_string())
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    // Invalid content with the patient's data in it.
    for bad in [
        json!({"resourceType": "Patient", "name": [{"family": FAMILY}], "birthDate": format!("{BIRTH}T99")}),
        json!({"resourceType": "Patient", "name": FAMILY, "identifier": [{"value": MRN}]}),
        json!({"resourceType": "Patient", "unknownElement": STREET, "name": [{"given": [GIVEN]}]}),
    ] {
        let r = send(http.post(format!("{base}/Patient")))
            .header("content-type", fhir)
            .body(bad.to_string())
            .send()
            .await
            .unwrap();
        assert!(r.status().is_client_error(), "{}", r.status());
    }
    let r = send(http.post(format!("{base}/Patient")))
        .header("content-type", fhir)
        .body(format!(
            "{{\"resourceType\": \"Patient\", \"name\": [{{\"family\": \"{FAMILY}\""
        ))
        .send()
        .await
        .unwrap();
    assert!(
        r.status().is_client_error(),
        "truncated JSON: {}",
        r.status()
    );
    let bundle = json!({"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:1", "resource": {"resourceType": "Patient",
            "name": [{"family": FAMILY, "given": [GIVEN]}], "birthDate": BIRTH},
         "request": {"method": "POST", "url": "Patient", "ifNoneExist": format!("identifier={MRN}")}},
        {"resource": {"resourceType": "Patient", "birthDate": FAMILY},
         "request": {"method": "POST", "url": "Patient"}}
    ]});
    let r = send(http.post(base.clone()))
        .header("content-type", fhir)
        .body(bundle.to_string())
        .send()
        .await
        .unwrap();
    assert!(
        r.status().is_client_error(),
        "the second entry is invalid: {}",
        r.status()
    );
    let r = send(http.get(format!("{base}/Patient/logp1/_history")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = send(http.get(format!("{base}/Patient/logp1/$everything")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = send(http.delete(format!("{base}/Patient/logp1")))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    // Stop it the way an operator does (the audit queue is flushed and logged).
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    let mut text = String::new();
    std::fs::File::open(&log_path)
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    // The capture works: every request left its line, with ids only.
    let done = text.matches("done").count();
    assert!(
        done >= requests,
        "{done} request lines for {requests} requests:\n{text}"
    );
    assert!(text.contains("logp1"), "ids are logged");
    for secret in [
        FAMILY,
        GIVEN,
        MRN,
        BIRTH,
        PHONE,
        STREET,
        NOTE,
        "Xylophone",
        "Zarquon",
    ] {
        assert!(
            !text.to_lowercase().contains(&secret.to_lowercase()),
            "the log contains {secret:?}:\n{}",
            text.lines()
                .filter(|l| l.to_lowercase().contains(&secret.to_lowercase()))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    println!(
        "scanned {} log lines from {requests} requests",
        text.lines().count()
    );
}
