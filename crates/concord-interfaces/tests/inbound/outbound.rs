//! The outbound interface over real loopback sockets: test "labs" that
//! answer AA, answer AE, or close the connection; retries, restarts and the
//! per-order status.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use concord_hl7v2::{AckBuilder, AckCode, ErrorCode, ErrorDetail, Message};
use concord_interfaces::{
    Hl7Inbound, Hl7Outbound, InterfacesConfig, Monitor, OutState, OutboundHandle, OutboundRecord,
};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket};

use super::{ack_code, adt, ctx, handle, inbound};

/// A loopback port that refuses connections (bound, not listening) and
/// stays reserved while the socket lives: a port taken and released
/// instead could be bound again by another test's receiver running in
/// parallel, which then answered this test's "unreachable" endpoint.
/// Without `SO_REUSEADDR`, so no other socket can bind it meanwhile.
fn refusing_port() -> (TcpSocket, SocketAddr) {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = socket.local_addr().unwrap();
    (socket, addr)
}

#[derive(Clone, Copy)]
enum Mode {
    Accept,
    Error,
    /// Reads the first `n` messages and closes the connection without an ACK.
    CloseFirst(usize),
}

/// A test receiver: every message it read, in order.
struct Lab {
    addr: SocketAddr,
    received: Arc<Mutex<Vec<String>>>,
}

impl Lab {
    async fn start(mode: Mode) -> Lab {
        Lab::on(TcpListener::bind("127.0.0.1:0").await.unwrap(), mode)
    }

    fn on(listener: TcpListener, mode: Mode) -> Lab {
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = received.clone();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let log = log.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    loop {
                        let Ok(n) = sock.read(&mut chunk).await else {
                            return;
                        };
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                        while let Some(end) = buf.windows(2).position(|w| w == [0x1c, 0x0d]) {
                            let frame: Vec<u8> = buf.drain(..end + 2).collect();
                            let payload = &frame[1..frame.len() - 2];
                            let count = {
                                let mut l = log.lock().unwrap();
                                l.push(String::from_utf8_lossy(payload).into_owned());
                                l.len()
                            };
                            let msg = Message::parse(payload).unwrap();
                            let ack = match mode {
                                Mode::CloseFirst(k) if count <= k => return,
                                Mode::Error => AckBuilder::new(&msg)
                                    .code(AckCode::Error)
                                    .error(ErrorDetail::new(
                                        "OBR",
                                        Some(4),
                                        ErrorCode::TableValueNotFound,
                                        "unknown test code",
                                    ))
                                    .to_bytes(),
                                _ => AckBuilder::new(&msg).to_bytes(),
                            };
                            let mut out = vec![0x0b];
                            out.extend_from_slice(&ack);
                            out.extend_from_slice(&[0x1c, 0x0d]);
                            if sock.write_all(&out).await.is_err() {
                                return;
                            }
                        }
                    }
                });
            }
        });
        Lab { addr, received }
    }

    fn messages(&self) -> Vec<Message> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .map(|m| Message::parse(m.as_bytes()).unwrap())
            .collect()
    }
}

fn endpoint(name: &str, kind: &str, addr: SocketAddr, extra: Value) -> Value {
    let mut e = json!({
        "name": name, "address": addr.to_string(), "kind": kind,
        "sending_facility": "CONCORD-HOSP", "receiving_application": "LIS", "receiving_facility": "LABFAC",
        "retry_initial_ms": 20, "retry_max_ms": 100, "connect_timeout_ms": 2000, "ack_timeout_ms": 5000
    });
    if let (Some(o), Value::Object(x)) = (e.as_object_mut(), extra) {
        o.extend(x);
    }
    e
}

fn config(endpoints: Vec<Value>) -> InterfacesConfig {
    InterfacesConfig::from_json(
        &json!({"endpoints": endpoints, "poll_interval_ms": 20}).to_string(),
    )
    .unwrap()
}

async fn start(h: &Hl7Inbound, config: &InterfacesConfig) -> (Arc<Hl7Outbound>, OutboundHandle) {
    let out = Hl7Outbound::new(
        h.engine().clone(),
        h.config().tenant.clone(),
        config.clone(),
        Arc::new(Monitor::new(config.clone())),
    );
    let handle = out.start().await.unwrap();
    (out, handle)
}

async fn register(h: &Hl7Inbound, mrn: &str) -> String {
    assert_eq!(
        ack_code(&handle(h, &adt(&format!("R{mrn}"), mrn, "DOE")).await),
        "AA"
    );
    h.engine()
        .find_ids(
            &ctx(h),
            "Patient",
            &format!("identifier=urn:oid:1.2.3.4|{mrn}"),
            2,
        )
        .await
        .unwrap()
        .remove(0)
}

async fn create(h: &Hl7Inbound, resource: Value) -> String {
    let rt = resource["resourceType"].as_str().unwrap().to_string();
    h.engine()
        .create(&ctx(h), &rt, resource, None)
        .await
        .unwrap()
        .id
}

fn order(patient: &str, status: &str, category: &str, code: &str) -> Value {
    json!({
        "resourceType": "ServiceRequest", "status": status, "intent": "order",
        "category": [{"coding": [{"system": "http://snomed.info/sct", "code": category}]}],
        "code": {"coding": [{"system": "http://loinc.org", "code": code, "display": "Test"}]},
        "subject": {"reference": format!("Patient/{patient}")},
        "authoredOn": "2026-11-26T01:00:00Z"
    })
}

const LAB: &str = "108252007";

fn vaccine(patient: &str) -> Value {
    json!({
        "resourceType": "Immunization", "status": "completed",
        "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "208", "display": "COVID-19"}]},
        "patient": {"reference": format!("Patient/{patient}")},
        "occurrenceDateTime": "2026-11-20T10:00:00Z", "primarySource": true, "lotNumber": "L1"
    })
}

/// The record of `focus` for `endpoint` once `done` holds (30 s at most).
async fn wait_for(
    h: &Hl7Inbound,
    focus: &str,
    endpoint: &str,
    done: impl Fn(&OutboundRecord) -> bool,
) -> OutboundRecord {
    let mut last = None;
    for _ in 0..1500 {
        let records = Hl7Outbound::records_for(h.engine(), &ctx(h), focus)
            .await
            .unwrap();
        let mine: Vec<OutboundRecord> = records
            .into_iter()
            .filter(|r| r.endpoint == endpoint)
            .collect();
        if let Some(r) = mine.iter().find(|r| done(r)) {
            return r.clone();
        }
        if !mine.is_empty() {
            last = Some(mine);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{focus} at {endpoint} never got there: {last:?}");
}

fn acked(r: &OutboundRecord) -> bool {
    r.state == OutState::Acked
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_lab_orders_and_new_immunizations_are_sent_once() {
    let dir = tempfile::tempdir().unwrap();
    let h = inbound(&dir).await;
    let lab = Lab::start(Mode::Accept).await;
    let iis = Lab::start(Mode::Accept).await;
    let cfg = config(vec![
        endpoint("lab1", "lab", lab.addr, json!({})),
        endpoint(
            "iis",
            "registry",
            iis.addr,
            json!({"receiving_application": "IIS"}),
        ),
    ]);
    let pid = register(&h, "O1").await;
    let (out, running) = start(&h, &cfg).await;

    let sr1 = create(&h, order(&pid, "active", LAB, "2345-7")).await;
    let r1 = wait_for(&h, &format!("ServiceRequest/{sr1}"), "lab1", acked).await;
    assert_eq!(r1.ack_code.as_deref(), Some("AA"));
    assert_eq!(r1.attempts, 1);
    assert_eq!(
        r1.patient.as_deref(),
        Some(format!("Patient/{pid}").as_str())
    );
    let sent = lab.messages();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].get("MSH-9-1").as_deref(), Some("OML"));
    assert_eq!(sent[0].get("MSH-9-2").as_deref(), Some("O21"));
    assert_eq!(sent[0].get("MSH-5").as_deref(), Some("LIS"));
    assert_eq!(
        sent[0].get("MSH-10").as_deref(),
        Some(r1.control_id.as_str())
    );
    assert_eq!(sent[0].get("ORC-1").as_deref(), Some("NW"));
    assert_eq!(sent[0].get("OBR-4-1").as_deref(), Some("2345-7"));
    assert_eq!(sent[0].get("PID-3-1").as_deref(), Some("O1"));
    // The message as sent is kept beside its record.
    let binary = h.engine().read(&ctx(&h), "Binary", &r1.id).await.unwrap();
    assert!(binary.content.unwrap().contains("hl7-v2"));

    // Drafts, other categories and later versions of a sent order are not sent.
    let draft = create(&h, order(&pid, "draft", LAB, "718-7")).await;
    let imaging = create(&h, order(&pid, "active", "363679005", "24627-2")).await;
    let mut again = order(&pid, "active", LAB, "2345-7");
    again["id"] = json!(sr1);
    again["note"] = json!([{"text": "fasting"}]);
    h.engine()
        .update(&ctx(&h), "ServiceRequest", &sr1, again, None)
        .await
        .unwrap();
    let sr2 = create(&h, order(&pid, "active", LAB, "718-7")).await;
    wait_for(&h, &format!("ServiceRequest/{sr2}"), "lab1", acked).await;
    for other in [&draft, &imaging] {
        let recs =
            Hl7Outbound::records_for(h.engine(), &ctx(&h), &format!("ServiceRequest/{other}"))
                .await
                .unwrap();
        assert!(recs.is_empty(), "{other}: {recs:?}");
    }
    assert_eq!(lab.messages().len(), 2);

    // A sent order made urgent: the change goes out (ORC-1 XO, same placer
    // number, the new priority), once; a later version that changes
    // nothing the lab is told of does not.
    let mut urgent = order(&pid, "active", LAB, "2345-7");
    urgent["id"] = json!(sr1);
    urgent["priority"] = json!("stat");
    h.engine()
        .update(&ctx(&h), "ServiceRequest", &sr1, urgent.clone(), None)
        .await
        .unwrap();
    let change = wait_for(&h, &format!("ServiceRequest/{sr1}"), "lab1", |r| {
        r.message_type == "OML^O21 change" && acked(r)
    })
    .await;
    let sent = lab.messages();
    assert_eq!(sent.len(), 3);
    assert_eq!(sent[2].get("ORC-1").as_deref(), Some("XO"));
    assert_eq!(sent[2].get("ORC-2"), sent[0].get("ORC-2"));
    assert_eq!(sent[2].get("TQ1-9").as_deref(), Some("S"));
    assert_eq!(sent[0].get("TQ1-9").as_deref(), Some("R"));
    assert_eq!(
        sent[2].get("MSH-10").as_deref(),
        Some(change.control_id.as_str())
    );
    urgent["note"] = json!([{"text": "fasting, urgent"}]);
    h.engine()
        .update(&ctx(&h), "ServiceRequest", &sr1, urgent, None)
        .await
        .unwrap();

    // Revoking a sent order sends its cancellation (ORC-1 CA), once.
    let mut revoked = order(&pid, "revoked", LAB, "2345-7");
    revoked["id"] = json!(sr1);
    h.engine()
        .update(&ctx(&h), "ServiceRequest", &sr1, revoked.clone(), None)
        .await
        .unwrap();
    let cancel = wait_for(&h, &format!("ServiceRequest/{sr1}"), "lab1", |r| {
        r.message_type == "OML^O21 cancel" && acked(r)
    })
    .await;
    let sent = lab.messages();
    assert_eq!(sent.len(), 4, "the note-only version was sent");
    assert_eq!(sent[3].get("ORC-1").as_deref(), Some("CA"));
    assert_eq!(sent[3].get("ORC-2"), sent[0].get("ORC-2"));
    assert_eq!(
        sent[3].get("MSH-10").as_deref(),
        Some(cancel.control_id.as_str())
    );
    let all = Hl7Outbound::records_for(h.engine(), &ctx(&h), &format!("ServiceRequest/{sr1}"))
        .await
        .unwrap();
    assert_eq!(all.len(), 3);
    h.engine()
        .update(&ctx(&h), "ServiceRequest", &sr1, revoked, None)
        .await
        .unwrap();

    // A new Immunization goes to the registry; one received over HL7 v2 does not.
    let im1 = create(&h, vaccine(&pid)).await;
    let v1 = wait_for(&h, &format!("Immunization/{im1}"), "iis", acked).await;
    let vxu = iis.messages();
    assert_eq!(vxu.len(), 1);
    assert_eq!(vxu[0].get("MSH-9-2").as_deref(), Some("V04"));
    assert_eq!(vxu[0].get("RXA-5-1").as_deref(), Some("208"));
    assert_eq!(
        vxu[0].get("MSH-10").as_deref(),
        Some(v1.control_id.as_str())
    );
    let inbound_vxu = "MSH|^~\\&|IIS|STATE|CONCORD|HOSP|20261120||VXU^V04^VXU_V04|V1|P|2.5.1\r\
        PID|1||O1^^^HOSP&1.2.3.4&ISO^MR||DOE^ANA\r\
        ORC|RE||IZ-77^IIS\r\
        RXA|0|1|20261101|20261101|141^Influenza^CVX|0.5|mL^mL^UCUM||01^Historical^NIP001||||||||||CP|A\r";
    assert_eq!(ack_code(&handle(&h, inbound_vxu).await), "AA");
    let im2 = create(&h, vaccine(&pid)).await;
    wait_for(&h, &format!("Immunization/{im2}"), "iis", acked).await;
    assert_eq!(
        iis.messages().len(),
        2,
        "the received immunization was echoed"
    );

    // After a restart nothing acknowledged is sent again.
    running.shutdown().await;
    drop(out);
    let (out, running) = start(&h, &cfg).await;
    let sr3 = create(&h, order(&pid, "active", LAB, "2951-2")).await;
    wait_for(&h, &format!("ServiceRequest/{sr3}"), "lab1", acked).await;
    let ids: Vec<String> = lab
        .messages()
        .iter()
        .map(|m| m.get("MSH-10").unwrap_or_default().to_string())
        .collect();
    assert_eq!(ids.len(), 5, "{ids:?}");
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 5);
    let _ = out;
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejections_are_kept_connection_errors_retried_and_restarts_resend() {
    let dir = tempfile::tempdir().unwrap();
    let h = inbound(&dir).await;
    let refusing = Lab::start(Mode::Error).await;
    let flaky = Lab::start(Mode::CloseFirst(2)).await;
    // Nothing listens on `down`; `later` gets a listener after a restart.
    let (_down_socket, down) = refusing_port();
    let (later_socket, later) = refusing_port();
    let cfg = config(vec![
        endpoint("ae", "lab", refusing.addr, json!({})),
        endpoint("flaky", "lab", flaky.addr, json!({})),
        endpoint("down", "lab", down, json!({"max_attempts": 2})),
        endpoint("later", "lab", later, json!({"max_attempts": 1000})),
    ]);
    let pid = register(&h, "E1").await;
    let (out, running) = start(&h, &cfg).await;
    let sr1 = create(&h, order(&pid, "active", LAB, "2345-7")).await;
    let focus = format!("ServiceRequest/{sr1}");

    // AE: rejected, with the receiver's words, not retried.
    let r = wait_for(&h, &focus, "ae", |r| r.state == OutState::Rejected).await;
    assert_eq!(r.ack_code.as_deref(), Some("AE"));
    assert_eq!(r.ack_text.as_deref(), Some("unknown test code"));
    assert_eq!(r.attempts, 1);
    let task = r.to_task();
    assert_eq!(task["status"], "rejected");
    assert_eq!(task["statusReason"]["text"], "unknown test code");
    // Closed twice without an ACK, then AA: the same message three times.
    let r = wait_for(&h, &focus, "flaky", acked).await;
    assert_eq!(r.attempts, 3);
    let sent = flaky.messages();
    assert_eq!(sent.len(), 3);
    assert!(sent
        .iter()
        .all(|m| m.get("MSH-10").as_deref() == Some(r.control_id.as_str())));
    // No listener: failed after max_attempts, the error kept.
    let r = wait_for(&h, &focus, "down", |r| r.state == OutState::Failed).await;
    assert_eq!(r.attempts, 2);
    assert!(
        r.last_error
            .as_deref()
            .unwrap_or("")
            .contains("cannot connect"),
        "{r:?}"
    );
    // Still down: queued with attempts counted.
    let r = wait_for(&h, &focus, "later", |r| r.attempts >= 2).await;
    assert_eq!(r.state, OutState::Queued);
    assert!(r.next_attempt.is_some());

    // The rejected order is not resent: the next order is the second message.
    let sr2 = create(&h, order(&pid, "active", LAB, "718-7")).await;
    let focus2 = format!("ServiceRequest/{sr2}");
    wait_for(&h, &focus2, "ae", |r| r.state == OutState::Rejected).await;
    assert_eq!(refusing.messages().len(), 2);
    wait_for(&h, &focus2, "flaky", acked).await;

    // Staff resend the rejected order: built again with a new MSH-10 and
    // sent (rejected again by this lab); acknowledged or queued records are
    // not resent.
    let first = wait_for(&h, &focus, "ae", |r| r.state == OutState::Rejected).await;
    let again = Hl7Outbound::resend(h.engine(), &ctx(&h), &cfg, &first.id)
        .await
        .unwrap();
    assert_eq!(again.state, OutState::Queued);
    assert_ne!(again.control_id, first.control_id);
    let after = wait_for(&h, &focus, "ae", |r| {
        r.state == OutState::Rejected && r.control_id != first.control_id
    })
    .await;
    assert_eq!(after.attempts, 1);
    let sent = refusing.messages();
    assert_eq!(sent.len(), 3);
    assert_eq!(
        sent[2].get("MSH-10").as_deref(),
        Some(after.control_id.as_str())
    );
    let flaky_id = wait_for(&h, &focus, "flaky", acked).await.id;
    assert!(matches!(
        Hl7Outbound::resend(h.engine(), &ctx(&h), &cfg, &flaky_id).await,
        Err(concord_interfaces::ResendError::Acked)
    ));
    let later_id = wait_for(&h, &focus, "later", |r| r.state.pending())
        .await
        .id;
    assert!(matches!(
        Hl7Outbound::resend(h.engine(), &ctx(&h), &cfg, &later_id).await,
        Err(concord_interfaces::ResendError::Pending)
    ));

    // The status per order, as the API serves it.
    let all = Hl7Outbound::records_for(h.engine(), &ctx(&h), &focus)
        .await
        .unwrap();
    let states: Vec<(&str, &str)> = all
        .iter()
        .map(|r| (r.endpoint.as_str(), r.state.code()))
        .collect();
    assert_eq!(
        states,
        [
            ("ae", "rejected"),
            ("down", "failed"),
            ("flaky", "acked"),
            ("later", "queued")
        ]
    );

    // Restart with the receiver up: both queued orders go out, in order.
    running.shutdown().await;
    drop(out);
    let receiver = Lab::on(later_socket.listen(64).unwrap(), Mode::Accept);
    let monitor_cfg = cfg.clone();
    let out = Hl7Outbound::new(
        h.engine().clone(),
        h.config().tenant.clone(),
        cfg.clone(),
        Arc::new(Monitor::new(monitor_cfg)),
    );
    let running = out.start().await.unwrap();
    wait_for(&h, &focus, "later", acked).await;
    wait_for(&h, &focus2, "later", acked).await;
    let got: Vec<String> = receiver
        .messages()
        .iter()
        .map(|m| m.get("OBR-4-1").unwrap_or_default().to_string())
        .collect();
    assert_eq!(got, ["2345-7", "718-7"]);
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn monitor_counts_stored_messages_and_queue_depth() {
    let dir = tempfile::tempdir().unwrap();
    let h = inbound(&dir).await;
    let lab = Lab::start(Mode::Accept).await;
    let (_down_socket, down) = refusing_port();
    let cfg = config(vec![
        endpoint("lab1", "lab", lab.addr, json!({})),
        endpoint(
            "down",
            "lab",
            down,
            json!({"max_attempts": 1000, "retry_initial_ms": 1000}),
        ),
    ]);
    let pid = register(&h, "M1").await;
    let monitor = Arc::new(Monitor::new(cfg.clone()));
    let out = Hl7Outbound::new(
        h.engine().clone(),
        h.config().tenant.clone(),
        cfg.clone(),
        monitor.clone(),
    );
    let running = out.start().await.unwrap();
    let sr = create(&h, order(&pid, "active", LAB, "2345-7")).await;
    wait_for(&h, &format!("ServiceRequest/{sr}"), "lab1", acked).await;
    wait_for(&h, &format!("ServiceRequest/{sr}"), "down", |r| {
        r.attempts >= 1
    })
    .await;
    let doc = monitor.snapshot(h.engine(), &ctx(&h)).await.unwrap();
    let lab1 = &doc["outbound"][0];
    assert_eq!(lab1["name"], "lab1");
    assert_eq!(lab1["messages"]["acked"], 1);
    assert_eq!(lab1["queueDepth"], 0);
    assert_eq!(lab1["lastAck"]["code"], "AA");
    assert!(lab1["lastAck"]["time"].is_string());
    let d = &doc["outbound"][1];
    assert_eq!(d["queueDepth"], 1);
    assert!(d["lastError"]["text"]
        .as_str()
        .unwrap()
        .contains("cannot connect"));
    assert_eq!(doc["inbound"][0]["messages"]["completed"], 1);
    running.shutdown().await;
}
