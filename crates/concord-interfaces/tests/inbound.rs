//! The inbound interface over a real SQLite store, without sockets: store,
//! dedup, error queue, reprocessing, corrections and merges.

use std::sync::Arc;

use concord_core::Engine;
use concord_hl7v2::{Message, MessageHandler};
use concord_interfaces::inbound::TaskState;
use concord_interfaces::{failed_tasks, message_id, reprocess, Hl7Inbound, InboundConfig, Outcome};
use concord_store::{Actor, TenantContext, DEFAULT_TENANT};
use concord_store_sqlite::SqliteStore;
use serde_json::Value;

#[path = "inbound/outbound.rs"]
mod outbound;

fn inbound(dir: &tempfile::TempDir) -> Arc<Hl7Inbound> {
    let store = SqliteStore::open(dir.path().join("concord.db")).unwrap();
    Hl7Inbound::new(Engine::new(Arc::new(store)), InboundConfig::default())
}

fn ctx() -> TenantContext {
    TenantContext::new(DEFAULT_TENANT, Actor::System, "test")
}

fn adt(control: &str, mrn: &str, family: &str) -> String {
    format!(
        "MSH|^~\\&|REG|HOSP|CONCORD|HOSP|20240101120000+0000||ADT^A01^ADT_A01|{control}|P|2.5.1\r\
         EVN|A01|20240101120000+0000\r\
         PID|1||{mrn}^^^HOSP&1.2.3.4&ISO^MR||{family}^ANA||19800512|F\r\
         PV1|1|I|W1^101^A||||||||||||||||V{mrn}^^^HOSP&1.2.3.4&ISO^VN|||||||||||||||||||||||||20240101110000+0000\r"
    )
}

fn oru(control: &str, mrn: &str, status: &str, value: &str) -> String {
    format!(
        "MSH|^~\\&|LAB|LABFAC|CONCORD|HOSP|20240102080000+0000||ORU^R01^ORU_R01|{control}|P|2.5.1\r\
         PID|1||{mrn}^^^HOSP&1.2.3.4&ISO^MR||DOE^ANA\r\
         OBR|1|PL1^CONCORD|FL1^LAB|24323-8^Comprehensive metabolic panel^LN|||20240102070000+0000||||||||||||||||||{status}\r\
         OBX|1|NM|2345-7^Glucose^LN||{value}|mg/dl|70-99|H|||{status}|||20240102070000+0000\r\
         OBX|2|ST|8251-1^Comment^LN||fasting||||||{status}\r\
         SPM|1|S1^S1||BLD^Blood^HL70487|||||||||||||20240102065000+0000|20240102071000+0000\r"
    )
}

async fn handle(h: &Hl7Inbound, text: &str) -> Message {
    let raw = text.as_bytes();
    let ack = h.handle(raw, Message::parse(raw)).await;
    Message::parse(&ack).expect("ACK parses")
}

fn ack_code(ack: &Message) -> String {
    ack.get("MSA-1").unwrap_or_default().to_string()
}

async fn read(h: &Hl7Inbound, rt: &str, id: &str) -> (Value, i64) {
    let v = h.engine().read(&ctx(), rt, id).await.unwrap();
    (
        serde_json::from_str(v.content.as_deref().unwrap()).unwrap(),
        v.version,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_patient_goes_to_the_queue_and_reprocesses_after_registration() {
    let dir = tempfile::tempdir().unwrap();
    let h = inbound(&dir);
    let lab = oru("L1", "MRN1", "F", "120");
    let ack = handle(&h, &lab).await;
    assert_eq!(ack_code(&ack), "AE");
    assert_eq!(ack.get("ERR-2-1").as_deref(), Some("PID"));
    assert_eq!(ack.get("ERR-2-3").as_deref(), Some("3"));
    assert_eq!(ack.get("ERR-3-1").as_deref(), Some("204"));
    let id = message_id(&Message::parse(lab.as_bytes()).unwrap());
    // Stored as received, with a failed Task.
    let (binary, _) = read(&h, "Binary", &id).await;
    assert_eq!(binary["contentType"], "x-application/hl7-v2+er7");
    let (state, failure) = h.state(&id).await.unwrap();
    assert_eq!(state, TaskState::Failed);
    assert_eq!(failure.unwrap().location, "PID-3");
    let queue = failed_tasks(h.engine(), &ctx(), 100).await.unwrap();
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0]["id"], id.as_str());
    // No Patient was created by the lab result.
    assert!(h
        .engine()
        .find_ids(&ctx(), "Patient", "identifier=urn:oid:1.2.3.4|MRN1", 5)
        .await
        .unwrap()
        .is_empty());

    // A retransmission gets the same answer and is not applied.
    assert_eq!(ack_code(&handle(&h, &lab).await), "AE");

    // Registration, then reprocessing from the queue.
    assert_eq!(ack_code(&handle(&h, &adt("A1", "MRN1", "DOE")).await), "AA");
    let patients = h
        .engine()
        .find_ids(&ctx(), "Patient", "identifier=urn:oid:1.2.3.4|MRN1", 5)
        .await
        .unwrap();
    assert_eq!(patients.len(), 1);
    let outcome = reprocess(&h, &ctx(), &id).await.unwrap();
    assert_eq!(outcome, Outcome::Applied { id: id.clone() });
    assert_eq!(h.state(&id).await.unwrap().0, TaskState::Completed);
    assert!(failed_tasks(h.engine(), &ctx(), 100)
        .await
        .unwrap()
        .is_empty());
    assert!(matches!(
        reprocess(&h, &ctx(), &id).await,
        Err(concord_interfaces::ReprocessError::AlreadyCompleted)
    ));
    // The result is linked to the patient, with UCUM units and interpretation.
    let reports = h
        .engine()
        .find_ids(
            &ctx(),
            "DiagnosticReport",
            "identifier=urn:concord:hl7v2:aa:LAB|FL1",
            5,
        )
        .await
        .unwrap();
    assert_eq!(reports.len(), 1);
    let (report, _) = read(&h, "DiagnosticReport", &reports[0]).await;
    assert_eq!(report["status"], "final");
    assert_eq!(
        report["subject"]["reference"],
        format!("Patient/{}", patients[0])
    );
    let obs_ref = report["result"][0]["reference"]
        .as_str()
        .unwrap()
        .to_string();
    let obs_id = obs_ref.trim_start_matches("Observation/");
    let (obs, v1) = read(&h, "Observation", obs_id).await;
    assert_eq!(obs["valueQuantity"]["code"], "mg/dL");
    assert_eq!(obs["valueQuantity"]["value"].to_string(), "120");
    assert_eq!(obs["interpretation"][0]["coding"][0]["code"], "H");
    assert_eq!(obs["referenceRange"][0]["high"]["value"].to_string(), "99");
    assert_eq!(v1, 1);

    // A correction (new control id, OBX-11 C) is a new version of the same Observation.
    assert_eq!(
        ack_code(&handle(&h, &oru("L2", "MRN1", "C", "110")).await),
        "AA"
    );
    let (obs, v2) = read(&h, "Observation", obs_id).await;
    assert_eq!(v2, 2);
    assert_eq!(obs["status"], "corrected");
    assert_eq!(obs["valueQuantity"]["value"].to_string(), "110");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retransmissions_are_applied_once() {
    let dir = tempfile::tempdir().unwrap();
    let h = inbound(&dir);
    let reg = adt("A1", "MRN2", "ROE");
    assert_eq!(ack_code(&handle(&h, &reg).await), "AA");
    let ids = h
        .engine()
        .find_ids(&ctx(), "Patient", "identifier=urn:oid:1.2.3.4|MRN2", 5)
        .await
        .unwrap();
    let (_, v) = read(&h, "Patient", &ids[0]).await;
    assert_eq!(ack_code(&handle(&h, &reg).await), "AA");
    let (patient, v_again) = read(&h, "Patient", &ids[0]).await;
    assert_eq!(v, v_again, "a retransmission must not write a new version");
    assert_eq!(patient["name"][0]["family"], "ROE");
    // Provenance of the registration points at the stored message.
    let id = message_id(&Message::parse(reg.as_bytes()).unwrap());
    let page = h
        .engine()
        .history(
            &ctx(),
            &concord_store::HistoryQuery {
                resource_type: Some("Provenance".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let provs: Vec<Value> = page
        .entries
        .iter()
        .filter_map(|e| e.version.content.as_deref())
        .map(|c| serde_json::from_str(c).unwrap())
        .collect();
    assert_eq!(provs.len(), 1);
    assert_eq!(
        provs[0]["entity"][0]["what"]["reference"],
        format!("Binary/{id}")
    );
    assert!(provs[0]["target"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["reference"] == format!("Patient/{}", ids[0])));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsupported_types_are_rejected_and_merges_link_patients() {
    let dir = tempfile::tempdir().unwrap();
    let h = inbound(&dir);
    let a02 = "MSH|^~\\&|REG|HOSP|||20240101||ADT^A02|X1|P|2.5\rEVN|A02\rPID|1||M9^^^HOSP^MR\r";
    let ack = handle(&h, a02).await;
    assert_eq!(ack_code(&ack), "AR");
    assert_eq!(ack.get("ERR-3-1").as_deref(), Some("201"));

    assert_eq!(ack_code(&handle(&h, &adt("A1", "OLD1", "DOE")).await), "AA");
    assert_eq!(ack_code(&handle(&h, &adt("A2", "NEW1", "DOE")).await), "AA");
    let merge = "MSH|^~\\&|REG|HOSP|||20240103||ADT^A40^ADT_A39|M1|P|2.5.1\rEVN|A40\r\
                 PID|1||NEW1^^^HOSP&1.2.3.4&ISO^MR||DOE^ANA\rMRG|OLD1^^^HOSP&1.2.3.4&ISO^MR\r";
    let ack = handle(&h, merge).await;
    assert_eq!(ack_code(&ack), "AA", "{:?}", ack.get("ERR-8"));
    let old = h
        .engine()
        .find_ids(&ctx(), "Patient", "identifier=urn:oid:1.2.3.4|OLD1", 5)
        .await
        .unwrap();
    let new = h
        .engine()
        .find_ids(&ctx(), "Patient", "identifier=urn:oid:1.2.3.4|NEW1", 5)
        .await
        .unwrap();
    let (old_p, _) = read(&h, "Patient", &old[0]).await;
    let (new_p, _) = read(&h, "Patient", &new[0]).await;
    assert_eq!(old_p["active"], false);
    assert_eq!(old_p["link"][0]["type"], "replaced-by");
    assert_eq!(
        old_p["link"][0]["other"]["reference"],
        format!("Patient/{}", new[0])
    );
    assert_eq!(new_p["link"][0]["type"], "replaces");
    assert_eq!(
        new_p["link"][0]["other"]["reference"],
        format!("Patient/{}", old[0])
    );
}
