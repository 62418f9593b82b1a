//! Ids of inbound results: time-ordered for new messages and reports, the
//! hashed ones of messages and reports stored before still found, and one
//! report per order when its messages arrive at the same time.

use concord_hl7v2::fhir::{map_message, report_orders, MapOptions};
use concord_hl7v2::Message;
use concord_interfaces::message_store::{task, State};
use concord_interfaces::{message_key, Outcome};
use serde_json::{json, Value};

use super::{ack_code, adt, ctx, handle, inbound, oru, read};

async fn reports_of(h: &concord_interfaces::Hl7Inbound, query: &str) -> Vec<String> {
    h.engine()
        .find_ids(&ctx(h), "DiagnosticReport", query, 10)
        .await
        .unwrap()
}

/// The reports of filler order FL1.
async fn reports(h: &concord_interfaces::Hl7Inbound) -> Vec<String> {
    reports_of(h, "identifier=urn:concord:hl7v2:aa:LAB|FL1").await
}

/// Receives `texts` all at once, each on a task of its own; each is applied.
async fn receive_at_once(h: &std::sync::Arc<concord_interfaces::Hl7Inbound>, texts: Vec<String>) {
    let mut sends = Vec::new();
    for text in texts {
        let h = h.clone();
        sends.push(tokio::spawn(async move {
            let raw = text.as_bytes();
            let msg = Message::parse(raw).unwrap();
            h.receive(raw, &msg).await
        }));
    }
    for s in sends {
        assert!(matches!(s.await.unwrap(), Outcome::Applied { .. }));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_results_get_time_ordered_ids_led_by_their_report() {
    let dir = tempfile::tempdir().unwrap();
    let h = inbound(&dir).await;
    assert_eq!(ack_code(&handle(&h, &adt("A1", "MRN7", "DOE")).await), "AA");
    let lab = oru("L1", "MRN7", "F", "120");
    assert_eq!(ack_code(&handle(&h, &lab).await), "AA");
    let msg = Message::parse(lab.as_bytes()).unwrap();
    let id = h.task_id(&msg).await.unwrap();
    assert_ne!(
        id,
        message_key(&msg),
        "a new message gets a time-ordered id"
    );
    let (task, _) = read(&h, "Task", &id).await;
    assert_eq!(task["identifier"][0]["value"], message_key(&msg));
    let (binary, _) = read(&h, "Binary", &id).await;
    assert_eq!(binary["id"], id.as_str());
    let (provenance, _) = read(&h, "Provenance", &id).await;
    assert_eq!(
        provenance["entity"][0]["what"]["reference"],
        format!("Binary/{id}")
    );

    let found = reports(&h).await;
    assert_eq!(found.len(), 1);
    let report = &found[0];
    assert_ne!(report, &report_orders(&msg)[0].hashed_id);
    let (r, _) = read(&h, "DiagnosticReport", report).await;
    let results: Vec<&str> = r["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["reference"].as_str().unwrap())
        .collect();
    assert_eq!(results.len(), 2);
    for reference in &results {
        assert!(reference.starts_with(&format!("Observation/{report}.")));
    }

    // The next order's report sorts after this one.
    let next = lab
        .replace("|L1|", "|L9|")
        .replace("PL1^CONCORD|FL1^LAB", "PL2^CONCORD|FL2^LAB");
    assert_eq!(ack_code(&handle(&h, &next).await), "AA");
    let later = h
        .engine()
        .find_ids(
            &ctx(&h),
            "DiagnosticReport",
            "identifier=urn:concord:hl7v2:aa:LAB|FL2",
            10,
        )
        .await
        .unwrap();
    assert_eq!(later.len(), 1);
    assert!(&later[0] > report, "{} !> {report}", later[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_and_reports_stored_with_hashed_ids_are_still_found() {
    let dir = tempfile::tempdir().unwrap();
    let h = inbound(&dir).await;
    assert_eq!(ack_code(&handle(&h, &adt("A1", "MRN8", "DOE")).await), "AA");
    // Stored the way messages were before ids became time-ordered: the
    // message's key is its id, every resource id a hash.
    let lab = oru("L1", "MRN8", "F", "120");
    let msg = Message::parse(lab.as_bytes()).unwrap();
    let key = message_key(&msg);
    let mapped = map_message(
        &msg,
        &MapOptions {
            message_reference: format!("Binary/{key}"),
            recorded: "2026-01-01T00:00:00Z".into(),
            ..MapOptions::default()
        },
    )
    .unwrap();
    let mut bundle = mapped.bundle;
    let stored_task = task(
        &key,
        &key,
        "ORU^R01",
        State::Completed,
        None,
        "2026-01-01T00:00:00Z",
    );
    bundle["entry"].as_array_mut().unwrap().push(json!({
        "resource": stored_task,
        "request": {"method": "PUT", "url": format!("Task/{key}")}
    }));
    h.engine().process_bundle(&ctx(&h), bundle).await.unwrap();
    let hashed = report_orders(&msg)[0].hashed_id.clone();
    assert_eq!(reports(&h).await, std::slice::from_ref(&hashed));
    let (r, _) = read(&h, "DiagnosticReport", &hashed).await;
    let obs_id = r["result"][0]["reference"]
        .as_str()
        .unwrap()
        .trim_start_matches("Observation/")
        .to_string();

    // A retransmission of that message is recognised and not applied.
    assert_eq!(
        h.receive(lab.as_bytes(), &msg).await,
        Outcome::Duplicate {
            id: key.clone(),
            failure: None
        }
    );
    let (_, v) = read(&h, "Observation", &obs_id).await;
    assert_eq!(v, 1);
    // A correction lands on the same report and Observation.
    let correction = oru("L2", "MRN8", "C", "110");
    assert_eq!(ack_code(&handle(&h, &correction).await), "AA");
    assert_eq!(reports(&h).await, [hashed]);
    let (obs, v) = read(&h, "Observation", &obs_id).await;
    assert_eq!(v, 2);
    assert_eq!(obs["valueQuantity"]["value"].to_string(), "110");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_about_one_order_at_once_make_one_report() {
    let dir = tempfile::tempdir().unwrap();
    let h = inbound(&dir).await;
    assert_eq!(ack_code(&handle(&h, &adt("A1", "MRN9", "DOE")).await), "AA");
    // The preliminary and final results of one order arrive together on
    // eight connections, each under its own control id.
    let texts = (0..8)
        .map(|n| {
            let status = if n % 2 == 0 { "P" } else { "F" };
            oru(&format!("C{n}"), "MRN9", status, &format!("{}", 100 + n))
        })
        .collect();
    receive_at_once(&h, texts).await;
    let found = reports(&h).await;
    assert_eq!(found.len(), 1, "one report per order: {found:?}");
    let (r, version) = read(&h, "DiagnosticReport", &found[0]).await;
    assert_eq!(version, 8);
    let first: Value = r["result"][0].clone();
    let obs = h
        .engine()
        .find_ids(&ctx(&h), "Observation", "code=http://loinc.org|2345-7", 20)
        .await
        .unwrap();
    assert_eq!(obs.len(), 1, "one Observation per result: {obs:?}");
    assert_eq!(first["reference"], format!("Observation/{}", obs[0]));
}

/// `oru` for placer number PL1 and the filler number given (none: empty).
fn oru_filler(control: &str, filler: &str, status: &str, value: &str) -> String {
    oru(control, "MRN10", status, value)
        .replace("PL1^CONCORD|FL1^LAB", &format!("PL1^CONCORD|{filler}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_final_result_with_a_filler_number_lands_on_the_preliminary_report_without_one() {
    let dir = tempfile::tempdir().unwrap();
    let h = inbound(&dir).await;
    assert_eq!(
        ack_code(&handle(&h, &adt("A1", "MRN10", "DOE")).await),
        "AA"
    );
    let placer = "identifier=urn:concord:hl7v2:aa:CONCORD|PL1";
    // The preliminary result carries only the placer number.
    assert_eq!(
        ack_code(&handle(&h, &oru_filler("P1", "", "P", "120")).await),
        "AA"
    );
    let first = reports_of(&h, placer).await;
    assert_eq!(first.len(), 1);
    let glucose = || async {
        h.engine()
            .find_ids(&ctx(&h), "Observation", "code=http://loinc.org|2345-7", 10)
            .await
            .unwrap()
    };
    let obs = glucose().await;
    assert_eq!(obs.len(), 1);

    // The final one has the lab's filler number too: same report, same
    // Observation, new versions; the report now carries both numbers.
    assert_eq!(
        ack_code(&handle(&h, &oru_filler("F1", "FL1^LAB", "F", "118")).await),
        "AA"
    );
    assert_eq!(reports_of(&h, placer).await, first);
    assert_eq!(reports(&h).await, first, "found by its filler number too");
    let (r, version) = read(&h, "DiagnosticReport", &first[0]).await;
    assert_eq!((version, r["status"].as_str()), (2, Some("final")));
    assert_eq!(glucose().await, obs);
    let (o, version) = read(&h, "Observation", &obs[0]).await;
    assert_eq!(version, 2);
    assert_eq!(o["valueQuantity"]["value"].to_string(), "118");

    // Another filler order placed under the same placer number is a report
    // of its own: the stored one has a filler number that is not its.
    assert_eq!(
        ack_code(&handle(&h, &oru_filler("F2", "FL2^LAB", "F", "90")).await),
        "AA"
    );
    let second = reports_of(&h, "identifier=urn:concord:hl7v2:aa:LAB|FL2").await;
    assert_eq!(second.len(), 1);
    assert_ne!(second, first);
    assert_eq!(reports_of(&h, placer).await.len(), 2);
    let (o, version) = read(&h, "Observation", &obs[0]).await;
    assert_eq!(
        (version, o["valueQuantity"]["value"].to_string()),
        (2, "118".to_string())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_with_and_without_the_filler_number_at_once_make_one_report() {
    let dir = tempfile::tempdir().unwrap();
    let h = inbound(&dir).await;
    assert_eq!(
        ack_code(&handle(&h, &adt("A1", "MRN10", "DOE")).await),
        "AA"
    );
    // Preliminary results with and without the filler number arrive
    // together: they share one report.
    let texts = (0..8)
        .map(|n| {
            let filler = if n % 2 == 0 { "" } else { "FL1^LAB" };
            oru_filler(&format!("X{n}"), filler, "P", &format!("{}", 100 + n))
        })
        .collect();
    receive_at_once(&h, texts).await;
    let found = reports_of(&h, "identifier=urn:concord:hl7v2:aa:CONCORD|PL1").await;
    assert_eq!(found.len(), 1, "one report per order: {found:?}");
}
