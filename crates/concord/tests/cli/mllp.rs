//! `concord serve --mllp-listen` over real sockets: 1,000 ORU^R01 over 4
//! connections stored once, retransmissions applied once, a SIGKILL in the
//! middle of a stream, hostile input (unparsable messages kept in the error
//! queue), outbound lab orders to a test lab with their status, the
//! monitor, the admin page and ConceptMaps. SQLite (a fresh data directory
//! per test).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use concord_hl7v2::{Message, MllpClient, MllpConfig};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{banner_base_url, BIN};

/// Starts `concord serve` with an MLLP listener; returns the child, the
/// HTTP base URL and the MLLP address.
fn serve(data_dir: &Path) -> (Child, String, SocketAddr) {
    serve_with(data_dir, &[])
}

fn serve_with(data_dir: &Path, extra: &[&str]) -> (Child, String, SocketAddr) {
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--mllp-listen",
            "127.0.0.1:0",
        ])
        .args(extra)
        .env("CONCORD_DATA_DIR", data_dir)
        .env_remove("CONCORD_DATABASE_URL")
        .env_remove("CONCORD_MLLP_MAX_MESSAGE_KB")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start concord serve");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let (mut mllp, mut http) = (None, None);
    while mllp.is_none() || http.is_none() {
        let mut line = String::new();
        assert!(
            out.read_line(&mut line).expect("banner") > 0,
            "server exited early"
        );
        if let Some(i) = line.find("MLLP listener: ") {
            mllp = Some(
                line[i + 15..]
                    .trim()
                    .parse::<SocketAddr>()
                    .expect("MLLP address"),
            );
        } else if let Some(base) = banner_base_url(&line) {
            http = Some(base);
        }
    }
    (
        child,
        http.unwrap_or_default(),
        mllp.unwrap_or_else(|| "0.0.0.0:0".parse().unwrap()),
    )
}

fn adt(mrn: &str) -> String {
    format!(
        "MSH|^~\\&|REG|HOSP|CONCORD|HOSP|20240101120000+0000||ADT^A04^ADT_A01|REG-{mrn}|P|2.5.1\r\
         EVN|A04|20240101120000+0000\r\
         PID|1||{mrn}^^^HOSP&1.2.3.4&ISO^MR||DOE^ANA||19800512|F\r\
         PV1|1|O|CLINIC^1^1\r"
    )
}

/// An ORU^R01 with `obx` results.
fn oru(n: usize, mrn: &str, obx: usize) -> String {
    let mut m = format!(
        "MSH|^~\\&|LAB|LABFAC|CONCORD|HOSP|20240102080000+0000||ORU^R01^ORU_R01|R{n}|P|2.5.1\r\
         PID|1||{mrn}^^^HOSP&1.2.3.4&ISO^MR||DOE^ANA\r\
         OBR|1|PL{n}^CONCORD|FL{n}^LAB|24323-8^Comprehensive metabolic panel^LN|||20240102070000+0000||||||||||||||||||F\r"
    );
    for i in 1..=obx {
        m.push_str(&format!(
            "OBX|{i}|NM|{}-{}^Analyte {i}^LN||{}.{}|mg/dl|70-99|N|||F|||20240102070000+0000\r",
            2000 + i,
            i % 10,
            90 + i,
            n % 10
        ));
    }
    m
}

fn ack_code(ack: &[u8]) -> String {
    Message::parse(ack)
        .ok()
        .and_then(|m| m.get("MSA-1").map(|s| s.to_string()))
        .unwrap_or_default()
}

async fn total(client: &reqwest::Client, base: &str, rtype: &str) -> u64 {
    let r: Value = client
        .get(format!("{base}/{rtype}/_history?_count=1"))
        .send()
        .await
        .expect("history")
        .json()
        .await
        .expect("history JSON");
    r["total"].as_u64().unwrap_or(0)
}

async fn send_all(addr: SocketAddr, messages: Vec<String>) -> Vec<String> {
    let mut client = MllpClient::connect(addr, MllpConfig::default())
        .await
        .expect("connect");
    let mut codes = Vec::with_capacity(messages.len());
    for m in messages {
        codes.push(ack_code(&client.send(m.as_bytes()).await.expect("ACK")));
    }
    codes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_results_over_four_connections_are_stored_once() {
    const MESSAGES: usize = 1000;
    const OBX: usize = 3;
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base, addr) = serve(dir.path());
    let http = reqwest::Client::new();
    assert_eq!(send_all(addr, vec![adt("M1")]).await, ["AA"]);

    let run = |round: &'static str| async move {
        let started = Instant::now();
        let mut tasks = Vec::new();
        for c in 0..4 {
            let batch: Vec<String> = (0..MESSAGES)
                .filter(|n| n % 4 == c)
                .map(|n| oru(n, "M1", OBX))
                .collect();
            tasks.push(tokio::spawn(send_all(addr, batch)));
        }
        let mut codes = Vec::new();
        for t in tasks {
            codes.extend(t.await.expect("client task"));
        }
        let secs = started.elapsed().as_secs_f64();
        println!("{round}: {MESSAGES} ORU^R01 ({OBX} OBX) over 4 connections in {secs:.2}s ({:.0}/s, debug build)", MESSAGES as f64 / secs);
        codes
    };
    let codes = run("first send").await;
    assert_eq!(codes.len(), MESSAGES);
    assert!(
        codes.iter().all(|c| c == "AA"),
        "not all AA: {:?}",
        codes.iter().filter(|c| *c != "AA").count()
    );
    assert_eq!(total(&http, &base, "Binary").await, MESSAGES as u64 + 1);
    assert_eq!(
        total(&http, &base, "Observation").await,
        (MESSAGES * OBX) as u64
    );
    assert_eq!(
        total(&http, &base, "DiagnosticReport").await,
        MESSAGES as u64
    );
    assert_eq!(total(&http, &base, "Patient").await, 1);

    // Resending everything: all AA, nothing new.
    let codes = run("resend").await;
    assert!(codes.iter().all(|c| c == "AA"));
    assert_eq!(total(&http, &base, "Binary").await, MESSAGES as u64 + 1);
    assert_eq!(
        total(&http, &base, "Observation").await,
        (MESSAGES * OBX) as u64
    );
    assert_eq!(total(&http, &base, "Task").await, MESSAGES as u64 + 1);
    child.kill().unwrap();
    child.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_sigkill_every_acknowledged_message_is_stored_and_resending_is_safe() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base, addr) = serve(dir.path());
    assert_eq!(send_all(addr, vec![adt("K1")]).await, ["AA"]);
    let acked = Arc::new(Mutex::new(Vec::<usize>::new()));
    let sent = Arc::new(Mutex::new(0usize));
    let writer = {
        let (acked, sent) = (acked.clone(), sent.clone());
        tokio::spawn(async move {
            let Ok(mut client) = MllpClient::connect(addr, MllpConfig::default()).await else {
                return;
            };
            for n in 0.. {
                *sent.lock().unwrap() = n + 1;
                match client.send(oru(n, "K1", 5).as_bytes()).await {
                    Ok(ack) if ack_code(&ack) == "AA" => acked.lock().unwrap().push(n),
                    _ => break,
                }
            }
        })
    };
    let start = Instant::now();
    while acked.lock().unwrap().len() < 20 && start.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(23)).await;
    child.kill().expect("SIGKILL");
    child.wait().unwrap();
    let _ = writer.await;
    let acked = acked.lock().unwrap().clone();
    let sent = *sent.lock().unwrap();
    assert!(acked.len() >= 20);

    let (mut child, base2, addr) = serve(dir.path());
    let _ = base;
    let http = reqwest::Client::new();
    for &n in &acked {
        let msg = Message::parse(oru(n, "K1", 5).as_bytes()).unwrap();
        let key = concord_interfaces::message_key(&msg);
        let found: Value = http
            .get(format!(
                "{base2}/Task?identifier=urn:concord:hl7v2:message|{key}"
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let task = &found["entry"][0]["resource"];
        let id = task["id"].as_str().unwrap_or_default();
        assert_eq!(
            task["status"], "completed",
            "acknowledged message {n} is not stored as applied"
        );
        let r = http
            .get(format!("{base2}/Binary/{id}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let stored = total(&http, &base2, "DiagnosticReport").await as usize;
    // The message in flight at the kill is either whole or absent.
    assert!(
        stored == acked.len() || stored == acked.len() + 1,
        "{stored} reports for {} ACKs",
        acked.len()
    );
    assert_eq!(
        total(&http, &base2, "Observation").await as usize,
        stored * 5
    );
    // Resend everything that was sent (ACKed or not): all AA, each stored once.
    let all: Vec<String> = (0..sent).map(|n| oru(n, "K1", 5)).collect();
    let codes = send_all(addr, all).await;
    assert!(codes.iter().all(|c| c == "AA"));
    assert_eq!(
        total(&http, &base2, "DiagnosticReport").await as usize,
        sent
    );
    assert_eq!(total(&http, &base2, "Observation").await as usize, sent * 5);
    assert_eq!(total(&http, &base2, "Binary").await as usize, sent + 1);
    println!(
        "SIGKILL after {} ACKs ({sent} sent); {stored} stored at restart; resend stored each once",
        acked.len()
    );
    child.kill().unwrap();
    child.wait().unwrap();
}

/// Writes raw bytes, then reads until an ACK frame ends or the peer closes.
async fn raw_exchange(addr: SocketAddr, bytes: &[u8], close_write: bool) -> Option<Vec<u8>> {
    let mut s = TcpStream::connect(addr).await.ok()?;
    s.write_all(bytes).await.ok()?;
    if close_write {
        let _ = s.shutdown().await;
    }
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_secs(20), s.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(n)) => {
                buf.extend_from_slice(&chunk[..n]);
                if buf.ends_with(&[0x1c, 0x0d]) {
                    break;
                }
            }
        }
    }
    (!buf.is_empty()).then(|| buf[1..buf.len().saturating_sub(2)].to_vec())
}

fn frame(payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0x0b];
    f.extend_from_slice(payload);
    f.extend_from_slice(&[0x1c, 0x0d]);
    f
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_input_is_refused_and_nothing_is_half_stored() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base, addr) = serve(dir.path());
    let http = reqwest::Client::new();
    assert_eq!(send_all(addr, vec![adt("H1")]).await, ["AA"]);
    let ok = oru(1, "H1", 2);

    // Truncated frame: the connection closes, nothing answered or stored.
    let cut = &frame(ok.as_bytes())[..ok.len() / 2];
    assert_eq!(raw_exchange(addr, cut, true).await, None);
    // No MSH: AR, kept in the error queue.
    let ack = raw_exchange(addr, &frame(b"PID|1||X\rOBX|1|NM|x||1\r"), false)
        .await
        .expect("an ACK");
    assert_eq!(ack_code(&ack), "AR");
    // Bad delimiters (MSH-2 repeats a character): AR, kept in the error queue.
    let ack = raw_exchange(
        addr,
        &frame(b"MSH|^^~&|LAB|F|||20240101||ORU^R01|Z0|P|2.5\r"),
        false,
    )
    .await
    .expect("an ACK");
    assert_eq!(ack_code(&ack), "AR");
    // No encoding characters at all: MSH-9 reads as one unknown type → AR
    // 200, kept (whole) in the error queue like any rejected message.
    let ack = raw_exchange(addr, &frame(b"MSH||||A|B|||ORU^R01|Z1|P|2.5\r"), false)
        .await
        .expect("an ACK");
    assert_eq!(ack_code(&ack), "AR");
    // Odd but legal delimiters: parsed, mapped (unknown patient → AE, stored in the queue).
    let odd = "MSH#*!@%#LAB#LABFAC#CONCORD#HOSP#20240102##ORU*R01#ODD1#P#2.5.1\rPID#1##NOPE***HOSP%1.2.3.4%ISO*MR\rOBR#1#P1#F1#1-1*X*LN\r";
    let ack = raw_exchange(addr, &frame(odd.as_bytes()), false)
        .await
        .expect("an ACK");
    assert_eq!(ack_code(&ack), "AE");
    // A 10 MB segment (over the 4 MiB default): AR 207, never stored.
    let mut big = ok.replace("R1|P", "BIG1|P").into_bytes();
    big.extend_from_slice(b"NTE|1||");
    big.extend(std::iter::repeat_n(b'x', 10 * 1024 * 1024));
    big.push(b'\r');
    let ack = raw_exchange(addr, &frame(&big), false)
        .await
        .expect("an ACK");
    assert_eq!(ack_code(&ack), "AR");
    // Binary garbage outside a frame: the connection is closed.
    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8 | 0x80)
        .collect();
    assert_eq!(raw_exchange(addr, &garbage, false).await, None);
    // Garbage inside a frame: AR.
    let ack = raw_exchange(addr, &frame(&garbage[..1000]), false)
        .await
        .expect("an ACK");
    assert_eq!(ack_code(&ack), "AR");

    // The server is still up; stored: the ADT, the two queued messages, the
    // three unparsable ones (no MSH, bad delimiters, garbage in a frame) and
    // the result. Truncated, oversize and unframed bytes are never stored.
    assert_eq!(send_all(addr, vec![ok]).await, ["AA"]);
    assert_eq!(total(&http, &base, "Binary").await, 7);
    assert_eq!(total(&http, &base, "DiagnosticReport").await, 1);
    let queue: Value = http
        .get(format!("{base}/$hl7v2-errors"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(queue["total"], 5);
    let locations: Vec<&str> = queue["entry"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["resource"]["statusReason"]["coding"][1]["code"].as_str())
        .collect();
    assert!(
        locations.contains(&"PID-3")
            && locations.contains(&"MSH-9")
            && locations.contains(&"MSH-2"),
        "{locations:?}"
    );
    child.kill().unwrap();
    child.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_queue_api_reprocesses_after_registration() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base, addr) = serve(dir.path());
    let http = reqwest::Client::new();
    let lab = oru(7, "Q1", 2);
    assert_eq!(send_all(addr, vec![lab.clone()]).await, ["AE"]);
    let queue: Value = http
        .get(format!("{base}/$hl7v2-errors"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(queue["total"], 1);
    let id = queue["entry"][0]["resource"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Still unknown: reprocessing fails again.
    let r = http
        .post(format!("{base}/Task/{id}/$reprocess"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let task: Value = r.json().await.unwrap();
    assert_eq!(task["status"], "failed");
    // Register the patient, reprocess: completed, queue empty, results stored.
    assert_eq!(send_all(addr, vec![adt("Q1")]).await, ["AA"]);
    let task: Value = http
        .post(format!("{base}/Task/{id}/$reprocess"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(task["status"], "completed");
    assert_eq!(total(&http, &base, "Observation").await, 2);
    let queue: Value = http
        .get(format!("{base}/$hl7v2-errors"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(queue["total"], 0);
    // Completed Tasks are not reprocessed; other operations do not exist.
    let r = http
        .post(format!("{base}/Task/{id}/$reprocess"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let r = http
        .post(format!("{base}/Patient/{id}/$reprocess"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // Task and Binary reads still route normally.
    assert_eq!(
        http.get(format!("{base}/Task/{id}"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        http.get(format!("{base}/Task/{id}/_history"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    child.kill().unwrap();
    child.wait().unwrap();
}

/// A test lab: ACKs every message AA and keeps what it received.
async fn test_lab() -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let received = Arc::new(Mutex::new(Vec::new()));
    let log = received.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while let Ok(n) = sock.read(&mut chunk).await {
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    while let Some(end) = buf.windows(2).position(|w| w == [0x1c, 0x0d]) {
                        let f: Vec<u8> = buf.drain(..end + 2).collect();
                        let payload = &f[1..f.len() - 2];
                        log.lock()
                            .unwrap()
                            .push(String::from_utf8_lossy(payload).into_owned());
                        let msg = Message::parse(payload).unwrap();
                        let ack = concord_hl7v2::AckBuilder::new(&msg).to_bytes();
                        if sock.write_all(&frame(&ack)).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    (addr, received)
}

async fn get_json(http: &reqwest::Client, url: String) -> Value {
    http.get(url).send().await.unwrap().json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lab_orders_go_out_and_the_monitor_page_and_concept_maps_work() {
    let dir = tempfile::tempdir().unwrap();
    let (lab, received) = test_lab().await;
    let config = dir.path().join("interfaces.json");
    std::fs::write(
        &config,
        serde_json::json!({
            "poll_interval_ms": 50,
            "endpoints": [{"name": "lab1", "address": lab.to_string(), "kind": "lab",
                "receiving_application": "LIS", "receiving_facility": "LABFAC"}]
        })
        .to_string(),
    )
    .unwrap();
    let (mut child, base, addr) =
        serve_with(dir.path(), &["--hl7v2-config", config.to_str().unwrap()]);
    let http = reqwest::Client::new();
    assert_eq!(send_all(addr, vec![adt("OUT1")]).await, ["AA"]);
    let found = get_json(
        &http,
        format!("{base}/Patient?identifier=urn:oid:1.2.3.4|OUT1"),
    )
    .await;
    let pid = found["entry"][0]["resource"]["id"]
        .as_str()
        .unwrap()
        .to_string();

    // A signed lab order goes to the lab; its status is visible per order.
    let sr: Value = http
        .post(format!("{base}/ServiceRequest"))
        .header("content-type", "application/fhir+json")
        .body(
            serde_json::json!({
                "resourceType": "ServiceRequest", "status": "active", "intent": "order",
                "category": [{"coding": [{"system": "http://snomed.info/sct", "code": "108252007"}]}],
                "code": {"coding": [{"system": "http://loinc.org", "code": "2345-7", "display": "Glucose"}]},
                "subject": {"reference": format!("Patient/{pid}")}
            })
            .to_string(),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sr_id = sr["id"].as_str().unwrap().to_string();
    let mut status = Value::Null;
    for _ in 0..600 {
        status = get_json(
            &http,
            format!("{base}/ServiceRequest/{sr_id}/$hl7v2-status"),
        )
        .await;
        if status["entry"][0]["resource"]["businessStatus"]["coding"][0]["code"] == "acked" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let task = &status["entry"][0]["resource"];
    assert_eq!(task["status"], "completed", "{status}");
    assert_eq!(
        task["focus"]["reference"],
        format!("ServiceRequest/{sr_id}")
    );
    let sent = received.lock().unwrap().clone();
    assert_eq!(sent.len(), 1);
    let oml = Message::parse(sent[0].as_bytes()).unwrap();
    assert_eq!(oml.get("MSH-9-1").as_deref(), Some("OML"));
    assert_eq!(oml.get("MSH-5").as_deref(), Some("LIS"));
    // The record is a Task (a normal read) and the status of an unknown order is 404.
    let tid = task["id"].as_str().unwrap();
    assert_eq!(
        http.get(format!("{base}/Task/{tid}"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let r = http
        .get(format!("{base}/ServiceRequest/nope/$hl7v2-status"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // A ConceptMap created over the API maps the lab's local code to LOINC.
    let r = http
        .post(format!("{base}/ConceptMap"))
        .header("content-type", "application/fhir+json")
        .body(
            serde_json::json!({
                "resourceType": "ConceptMap", "status": "active",
                "group": [{"source": "urn:concord:hl7v2:local:LAB", "target": "http://loinc.org",
                    "element": [{"code": "GLU", "target": [{"code": "2345-7", "equivalence": "equivalent"}]}]}]
            })
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let local =
        "MSH|^~\\&|LAB|LABFAC|CONCORD|HOSP|20240102080000+0000||ORU^R01^ORU_R01|LOC1|P|2.5.1\r\
        PID|1||OUT1^^^HOSP&1.2.3.4&ISO^MR||DOE^ANA\r\
        OBR|1|PL-LOC1^CONCORD|FL-LOC1^LAB|PANEL^Panel^L|||20240102070000+0000||||||||||||||||||F\r\
        OBX|1|NM|GLU^Glucose^L||98|mg/dl|70-99|N|||F\r";
    assert_eq!(send_all(addr, vec![local.to_string()]).await, ["AA"]);
    let hits = get_json(
        &http,
        format!("{base}/Observation?code=http://loinc.org|2345-7"),
    )
    .await;
    assert_eq!(hits["total"], 1, "{hits}");

    // An unparsable message lands in the error queue; the monitor and the
    // admin page show it.
    let ack = raw_exchange(addr, &frame(b"NOT HL7 AT ALL"), false)
        .await
        .expect("an ACK");
    assert_eq!(ack_code(&ack), "AR");
    let monitor = get_json(&http, format!("{base}/$hl7v2-monitor")).await;
    assert_eq!(monitor["outbound"][0]["name"], "lab1");
    assert_eq!(monitor["outbound"][0]["messages"]["acked"], 1);
    assert_eq!(monitor["outbound"][0]["queueDepth"], 0);
    assert_eq!(monitor["outbound"][0]["lastAck"]["code"], "AA");
    assert_eq!(monitor["inbound"][0]["errorQueueDepth"], 1);
    assert_eq!(monitor["inbound"][0]["messages"]["completed"], 2);
    assert_eq!(monitor["inbound"][0]["sinceStart"]["rejected"], 1);
    let page = http
        .get(format!("{base}/admin/interfaces"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    // The page's forms carry a CSRF token bound to the cookie it sets.
    let csrf_cookie = page.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let html = page.text().await.unwrap();
    let marker = "name=\"csrf\" value=\"";
    let at = html.find(marker).expect("CSRF field") + marker.len();
    let csrf = html[at..at + html[at..].find('"').unwrap()].to_string();
    assert!(html.contains("<caption>Interfaces</caption>") && html.contains("lab1"));
    assert!(
        html.contains("<caption>Error queue (1 messages)</caption>"),
        "{html}"
    );
    assert!(html.contains("Reprocess</button>"));
    assert!(html.contains("No rejected or failed outbound messages."));
    // An acknowledged order is never resent.
    let r = http
        .post(format!("{base}/Task/{tid}/$resend"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let queue = get_json(&http, format!("{base}/$hl7v2-errors")).await;
    let qid = queue["entry"][0]["resource"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(html.contains(&qid));
    // The button: a form POST, answered with a redirect back to the page.
    // Without the page's token (a form on another site) it is refused.
    let forged = http
        .post(format!("{base}/admin/interfaces/reprocess"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", &csrf_cookie)
        .body(format!("task={qid}"))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert!(forged.text().await.unwrap().contains("csrf_token_missing"));
    let forged = http
        .post(format!("{base}/admin/interfaces/resend"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("task={tid}&csrf={csrf}"))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403, "no cookie");
    assert!(forged.text().await.unwrap().contains("csrf_cookie_missing"));
    let after = http
        .post(format!("{base}/admin/interfaces/reprocess"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", &csrf_cookie)
        .body(format!("task={qid}&csrf={csrf}"))
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 200);
    assert!(after.url().path().ends_with("/admin/interfaces"));
    let html = after.text().await.unwrap();
    // Bytes that still do not parse stay in the queue (staff correct the
    // Binary first); the page says so.
    assert!(html.contains("cannot be read"), "{html}");
    assert!(html.contains("Error queue (1 messages)"));
    child.kill().unwrap();
    child.wait().unwrap();
}
