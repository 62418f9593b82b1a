//! The inbound interface over a real SQLite store, without sockets: store,
//! dedup, error queue, reprocessing, corrections and merges.

use std::sync::Arc;

use concord_core::Engine;
use concord_hl7v2::{Message, MessageHandler};
use concord_interfaces::inbound::TaskState;
use concord_interfaces::{failed_tasks, reprocess, Hl7Inbound, InboundConfig, Outcome};
use concord_store::{Actor, TenantContext};
use concord_store_sqlite::SqliteStore;
use serde_json::Value;

#[path = "inbound/ids.rs"]
mod ids;
#[path = "inbound/outbound.rs"]
mod outbound;

/// A fresh SQLite file, or (with `CONCORD_TEST_BACKEND=postgres`) the shared
/// test database with a tenant of this test's own.
async fn inbound(dir: &tempfile::TempDir) -> Arc<Hl7Inbound> {
    if std::env::var("CONCORD_TEST_BACKEND").as_deref() == Ok("postgres") {
        let url = std::env::var("CONCORD_TEST_POSTGRES_URL")
            .expect("CONCORD_TEST_BACKEND=postgres needs CONCORD_TEST_POSTGRES_URL");
        let store = concord_store_postgres::PostgresStore::connect(&url)
            .await
            .expect("connect to the PostgreSQL test database");
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let tenant = format!(
            "hl7-{}-{nanos}-{}",
            std::process::id(),
            N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        return Hl7Inbound::new(
            Engine::new(Arc::new(store)),
            InboundConfig {
                tenant,
                ..InboundConfig::default()
            },
        );
    }
    let store = SqliteStore::open(dir.path().join("concord.db")).unwrap();
    Hl7Inbound::new(Engine::new(Arc::new(store)), InboundConfig::default())
}

/// The store context of `h`'s tenant.
fn ctx(h: &Hl7Inbound) -> TenantContext {
    TenantContext::new(h.config().tenant.clone(), Actor::System, "test")
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
    let v = h.engine().read(&ctx(h), rt, id).await.unwrap();
    (
        serde_json::from_str(v.content.as_deref().unwrap()).unwrap(),
        v.version,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_patient_goes_to_the_queue_and_reprocesses_after_registration() {
    let dir = tempfile::tempdir().unwrap();
    let h = inbound(&dir).await;
    let lab = oru("L1", "MRN1", "F", "120");
    let ack = handle(&h, &lab).await;
    assert_eq!(ack_code(&ack), "AE");
    assert_eq!(ack.get("ERR-2-1").as_deref(), Some("PID"));
    assert_eq!(ack.get("ERR-2-3").as_deref(), Some("3"));
    assert_eq!(ack.get("ERR-3-1").as_deref(), Some("204"));
    let id = h
        .task_id(&Message::parse(lab.as_bytes()).unwrap())
        .await
        .expect("the message is stored");
    assert!(id.starts_with("hl7v2-"));
    // Stored as received, with a failed Task.
    let (binary, _) = read(&h, "Binary", &id).await;
    assert_eq!(binary["contentType"], "x-application/hl7-v2+er7");
    let (state, failure) = h.state(&id).await.unwrap();
    assert_eq!(state, TaskState::Failed);
    assert_eq!(failure.unwrap().location, "PID-3");
    let queue = failed_tasks(h.engine(), &ctx(&h), 100).await.unwrap();
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0]["id"], id.as_str());
    // No Patient was created by the lab result.
    assert!(h
        .engine()
        .find_ids(&ctx(&h), "Patient", "identifier=urn:oid:1.2.3.4|MRN1", 5)
        .await
        .unwrap()
        .is_empty());

    // A retransmission gets the same answer and is not applied.
    assert_eq!(ack_code(&handle(&h, &lab).await), "AE");

    // Registration, then reprocessing from the queue.
    assert_eq!(ack_code(&handle(&h, &adt("A1", "MRN1", "DOE")).await), "AA");
    let patients = h
        .engine()
        .find_ids(&ctx(&h), "Patient", "identifier=urn:oid:1.2.3.4|MRN1", 5)
        .await
        .unwrap();
    assert_eq!(patients.len(), 1);
    let outcome = reprocess(&h, &ctx(&h), &id).await.unwrap();
    assert_eq!(outcome, Outcome::Applied { id: id.clone() });
    assert_eq!(h.state(&id).await.unwrap().0, TaskState::Completed);
    assert!(failed_tasks(h.engine(), &ctx(&h), 100)
        .await
        .unwrap()
        .is_empty());
    assert!(matches!(
        reprocess(&h, &ctx(&h), &id).await,
        Err(concord_interfaces::ReprocessError::AlreadyCompleted)
    ));
    // The result is linked to the patient, with UCUM units and interpretation.
    let reports = h
        .engine()
        .find_ids(
            &ctx(&h),
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
    let h = inbound(&dir).await;
    let reg = adt("A1", "MRN2", "ROE");
    assert_eq!(ack_code(&handle(&h, &reg).await), "AA");
    let ids = h
        .engine()
        .find_ids(&ctx(&h), "Patient", "identifier=urn:oid:1.2.3.4|MRN2", 5)
        .await
        .unwrap();
    let (_, v) = read(&h, "Patient", &ids[0]).await;
    assert_eq!(ack_code(&handle(&h, &reg).await), "AA");
    let (patient, v_again) = read(&h, "Patient", &ids[0]).await;
    assert_eq!(v, v_again, "a retransmission must not write a new version");
    assert_eq!(patient["name"][0]["family"], "ROE");
    // Provenance of the registration points at the stored message.
    let id = h
        .task_id(&Message::parse(reg.as_bytes()).unwrap())
        .await
        .expect("the message is stored");
    let page = h
        .engine()
        .history(
            &ctx(&h),
            &concord_store::HistoryQuery {
                resource_type: Some("Provenance".into()),
                count: 10,
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
    let h = inbound(&dir).await;
    let a02 = "MSH|^~\\&|REG|HOSP|||20240101||ADT^A02|X1|P|2.5\rEVN|A02\rPID|1||M9^^^HOSP^MR\r";
    let ack = handle(&h, a02).await;
    assert_eq!(ack_code(&ack), "AR");
    assert_eq!(ack.get("ERR-3-1").as_deref(), Some("201"));

    assert_eq!(ack_code(&handle(&h, &adt("A1", "OLD1", "DOE")).await), "AA");
    assert_eq!(ack_code(&handle(&h, &adt("A2", "NEW1", "DOE")).await), "AA");
    // The prior record has a lab result (DiagnosticReport, Observations,
    // Specimen, ServiceRequest) and an Encounter from its A01.
    assert_eq!(
        ack_code(&handle(&h, &oru("L9", "OLD1", "F", "101")).await),
        "AA"
    );
    let prior_id = h
        .engine()
        .find_ids(&ctx(&h), "Patient", "identifier=urn:oid:1.2.3.4|OLD1", 5)
        .await
        .unwrap()
        .remove(0);
    let in_prior = compartment(&h, &prior_id).await;
    assert!(in_prior.len() >= 6, "{in_prior:?}");
    let merge = "MSH|^~\\&|REG|HOSP|||20240103||ADT^A40^ADT_A39|M1|P|2.5.1\rEVN|A40\r\
                 PID|1||NEW1^^^HOSP&1.2.3.4&ISO^MR||DOE^ANA\rMRG|OLD1^^^HOSP&1.2.3.4&ISO^MR\r";
    let ack = handle(&h, merge).await;
    assert_eq!(ack_code(&ack), "AA", "{:?}", ack.get("ERR-8"));
    let old = h
        .engine()
        .find_ids(&ctx(&h), "Patient", "identifier=urn:oid:1.2.3.4|OLD1", 5)
        .await
        .unwrap();
    let new = h
        .engine()
        .find_ids(&ctx(&h), "Patient", "identifier=urn:oid:1.2.3.4|NEW1", 5)
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
    // The clinical records moved (new versions) to the survivor; the
    // Provenance of the earlier messages stays as it was.
    let moved = compartment(&h, &new[0]).await;
    for (rt, id) in &in_prior {
        if rt == "Provenance" {
            continue;
        }
        assert!(
            moved.contains(&(rt.clone(), id.clone())),
            "{rt}/{id} did not move"
        );
        let (r, version) = read(&h, rt, id).await;
        assert!(version >= 2, "{rt}/{id}");
        assert!(
            !r.to_string().contains(&format!("Patient/{}", old[0])),
            "{rt}/{id}"
        );
    }
    let left: Vec<_> = compartment(&h, &old[0])
        .await
        .into_iter()
        .filter(|(rt, _)| rt != "Provenance" && rt != "Patient")
        .collect();
    assert!(left.is_empty(), "{left:?}");
    assert!(compartment(&h, &old[0])
        .await
        .iter()
        .any(|(rt, _)| rt == "Provenance"));
}

/// (type, id) of everything in a patient's compartment.
async fn compartment(h: &Hl7Inbound, patient: &str) -> Vec<(String, String)> {
    let req = concord_core::SearchRequest {
        resource_type: None,
        compartment: Some(("Patient".into(), patient.into())),
        params: vec![("_count".into(), "500".into())],
        handling: concord_core::Handling::Strict,
        base_url: String::new(),
    };
    let page = h.engine().search(&ctx(h), &req).await.unwrap();
    page.matches
        .iter()
        .map(|v| (v.resource_type.clone(), v.id.clone()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unparsable_messages_are_stored_in_the_error_queue() {
    let dir = tempfile::tempdir().unwrap();
    let h = inbound(&dir).await;
    let garbage = b"PID|1||X\rOBX|1|NM|x||1\r";
    let ack = h.handle(garbage, Message::parse(garbage)).await;
    let ack = Message::parse(&ack).unwrap();
    assert_eq!(ack_code(&ack), "AR");
    let id = concord_interfaces::unparsable_id(garbage);
    let (binary, _) = read(&h, "Binary", &id).await;
    assert_eq!(binary["contentType"], "x-application/hl7-v2+er7");
    let (state, failure) = h.state(&id).await.unwrap();
    assert_eq!(state, TaskState::Failed);
    let failure = failure.unwrap();
    assert_eq!(failure.ack_code, "AR");
    assert_eq!(failure.location, "MSH");
    // The same bytes again: the same answer, stored once.
    let again = h.handle(garbage, Message::parse(garbage)).await;
    assert_eq!(ack_code(&Message::parse(&again).unwrap()), "AR");
    let queue = failed_tasks(h.engine(), &ctx(&h), 100).await.unwrap();
    assert_eq!(queue.len(), 1);
    let (_, task_version) = read(&h, "Task", &id).await;
    assert_eq!(task_version, 1);
    // Staff correct the stored message and reprocess it from the queue.
    assert_eq!(ack_code(&handle(&h, &adt("A1", "MRN5", "DOE")).await), "AA");
    let fixed = adt("FIX1", "MRN5", "DOE-FIXED");
    let mut binary = binary;
    binary["data"] = Value::String(base64_encode(fixed.as_bytes()));
    binary.as_object_mut().unwrap().remove("meta");
    h.engine()
        .update(&ctx(&h), "Binary", &id, binary, None)
        .await
        .unwrap();
    assert_eq!(
        reprocess(&h, &ctx(&h), &id).await.unwrap(),
        Outcome::Applied { id: id.clone() }
    );
    assert!(failed_tasks(h.engine(), &ctx(&h), 100)
        .await
        .unwrap()
        .is_empty());
    let ids = h
        .engine()
        .find_ids(&ctx(&h), "Patient", "identifier=urn:oid:1.2.3.4|MRN5", 5)
        .await
        .unwrap();
    let (patient, _) = read(&h, "Patient", &ids[0]).await;
    assert_eq!(patient["name"][0]["family"], "DOE-FIXED");
}

fn base64_encode(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concept_maps_add_loinc_and_cvx_to_local_codes() {
    let dir = tempfile::tempdir().unwrap();
    let h = inbound(&dir).await;
    assert_eq!(ack_code(&handle(&h, &adt("A1", "CM1", "DOE")).await), "AA");
    let map = serde_json::json!({
        "resourceType": "ConceptMap", "status": "active", "url": "http://example.org/lab-codes",
        "group": [
            {"source": "urn:concord:hl7v2:local:LAB", "target": "http://loinc.org",
             "element": [{"code": "GLU", "target": [{"code": "2345-7", "display": "Glucose [Mass/volume] in Serum or Plasma", "equivalence": "equivalent"}]}]},
            {"source": "urn:concord:hl7v2:local:IIS", "target": "http://hl7.org/fhir/sid/cvx",
             "element": [{"code": "FLU-Q", "target": [{"code": "150", "equivalence": "equivalent"}]}]}
        ]
    });
    h.engine()
        .create(&ctx(&h), "ConceptMap", map, None)
        .await
        .unwrap();
    let lab =
        "MSH|^~\\&|LAB|LABFAC|CONCORD|HOSP|20240102080000+0000||ORU^R01^ORU_R01|CM-L1|P|2.5.1\r\
         PID|1||CM1^^^HOSP&1.2.3.4&ISO^MR||DOE^ANA\r\
         OBR|1|PL7^CONCORD|FL7^LAB|PANEL^Panel^L|||20240102070000+0000||||||||||||||||||F\r\
         OBX|1|NM|GLU^Glucose^L||98|mg/dl|70-99|N|||F\r\
         OBX|2|NM|XYZ^Unmapped^L||1|mg/dl||N|||F\r";
    assert_eq!(ack_code(&handle(&h, lab).await), "AA");
    let page = h
        .engine()
        .history(
            &ctx(&h),
            &concord_store::HistoryQuery {
                resource_type: Some("Observation".into()),
                count: 50,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let obs: Vec<Value> = page
        .entries
        .iter()
        .filter_map(|e| e.version.content.as_deref())
        .map(|c| serde_json::from_str(c).unwrap())
        .collect();
    let glucose = obs
        .iter()
        .find(|o| o["code"]["coding"][0]["code"] == "GLU")
        .unwrap_or_else(|| panic!("{obs:?}"));
    assert_eq!(glucose["code"]["coding"][1]["system"], "http://loinc.org");
    assert_eq!(glucose["code"]["coding"][1]["code"], "2345-7");
    let other = obs
        .iter()
        .find(|o| o["code"]["coding"][0]["code"] == "XYZ")
        .unwrap();
    assert_eq!(other["code"]["coding"].as_array().unwrap().len(), 1);

    let vxu = "MSH|^~\\&|IIS|STATE|CONCORD|HOSP|20261120||VXU^V04^VXU_V04|CM-V1|P|2.5.1\r\
        PID|1||CM1^^^HOSP&1.2.3.4&ISO^MR||DOE^ANA\r\
        ORC|RE||IZ-1^IIS\r\
        RXA|0|1|20261101|20261101|FLU-Q^Flu quadrivalent^L|0.5|mL^mL^UCUM||00^New^NIP001||||||||||CP|A\r";
    assert_eq!(ack_code(&handle(&h, vxu).await), "AA");
    let page = h
        .engine()
        .history(
            &ctx(&h),
            &concord_store::HistoryQuery {
                resource_type: Some("Immunization".into()),
                count: 50,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let im: Value =
        serde_json::from_str(page.entries[0].version.content.as_deref().unwrap()).unwrap();
    assert_eq!(
        im["vaccineCode"]["coding"][1]["system"],
        "http://hl7.org/fhir/sid/cvx"
    );
    assert_eq!(im["vaccineCode"]["coding"][1]["code"], "150");
    assert_eq!(im["meta"]["source"], "urn:concord:hl7v2:inbound");
}
