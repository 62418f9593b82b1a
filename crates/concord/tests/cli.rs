//! The `concord` binary as an operator uses it: help, serve, import, and a
//! server killed with SIGKILL in the middle of writing.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_concord");

// Also here, so the crate has one test binary: `concord admin` and the
// MLLP interface over real sockets.
#[path = "cli/admin.rs"]
mod admin;
#[path = "cli/bench.rs"]
mod bench;
#[path = "cli/demo.rs"]
mod demo;
#[path = "cli/encryption.rs"]
mod encryption;
#[path = "cli/generate.rs"]
mod generate;
#[path = "cli/ledger.rs"]
mod ledger;
#[path = "cli/logs.rs"]
mod logs;
#[path = "cli/mllp.rs"]
mod mllp;
#[path = "cli/tls.rs"]
mod tls;

/// The command's stdout, after asserting it exited successfully (the
/// failure message shows both streams).
fn succeeded(out: &std::process::Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The PostgreSQL URL when the suite runs on PostgreSQL
/// (`CONCORD_TEST_BACKEND=postgres`), else `None` (SQLite).
fn postgres_url() -> Option<String> {
    if std::env::var("CONCORD_TEST_BACKEND").as_deref() == Ok("postgres") {
        Some(std::env::var("CONCORD_TEST_POSTGRES_URL").expect("CONCORD_TEST_POSTGRES_URL"))
    } else {
        None
    }
}

/// Starts `concord serve` on a free port; returns the child and its base URL.
fn serve(data_dir: &Path) -> (Child, String) {
    let mut command = Command::new(BIN);
    command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("CONCORD_DATA_DIR", data_dir);
    match postgres_url() {
        Some(url) => command.env("CONCORD_DATABASE_URL", url),
        None => command.env_remove("CONCORD_DATABASE_URL"),
    };
    spawn_server(&mut command)
}

/// Spawns a prepared `concord serve` command (stderr discarded) and reads
/// its one-line banner; returns the child and the base URL the banner names.
fn spawn_server(command: &mut Command) -> (Child, String) {
    spawn_server_logging(command, Stdio::null())
}

/// [`spawn_server`] with the server's stderr (its log) sent to `stderr`.
fn spawn_server_logging(command: &mut Command, stderr: Stdio) -> (Child, String) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("start concord serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("banner line");
    let base = banner_base_url(&line).expect("URL in banner");
    (child, base)
}

/// The base URL (`http://…` or `https://…`, without `/metadata`) a server
/// banner line names.
fn banner_base_url(line: &str) -> Option<String> {
    let start = line.find("https://").or_else(|| line.find("http://"))?;
    let url = line[start..].split_whitespace().next()?;
    Some(url.trim_end_matches("/metadata").to_string())
}

/// Ids unique to this run, so runs sharing a PostgreSQL database never meet.
fn run_tag() -> &'static str {
    static TAG: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TAG.get_or_init(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        format!("{:x}", nanos % (1 << 40))
    })
}

fn transaction(batch: usize, size: usize) -> Value {
    let entries: Vec<Value> = (0..size)
        .map(|i| {
            let id = format!("k{}-{batch}-{i}", run_tag());
            json!({
                "fullUrl": format!("Patient/{id}"),
                "resource": {"resourceType": "Patient", "id": id,
                    "name": [{"family": format!("Crash{batch}"), "given": ["Test"]}],
                    "text": {"status": "generated", "div": format!("<div xmlns=\"http://www.w3.org/1999/xhtml\">{}</div>", "x".repeat(2000))}},
                "request": {"method": "PUT", "url": format!("Patient/{id}")}
            })
        })
        .collect();
    json!({"resourceType": "Bundle", "type": "transaction", "entry": entries})
}

async fn stored_count(client: &reqwest::Client, base: &str, batch: usize, size: usize) -> usize {
    let mut found = 0;
    for i in 0..size {
        let r = client
            .get(format!("{base}/Patient/k{}-{batch}-{i}", run_tag()))
            .send()
            .await
            .expect("read after restart");
        if r.status() == 200 {
            found += 1;
        } else {
            assert_eq!(
                r.status(),
                404,
                "unexpected status for entry {i} of {batch}"
            );
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_import_leaves_only_whole_transactions() {
    const SIZE: usize = 100;
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base) = serve(dir.path());
    let client = reqwest::Client::new();
    let acknowledged = Arc::new(Mutex::new(Vec::<usize>::new()));
    let attempted = Arc::new(Mutex::new(0usize));
    let writer = {
        let (client, base) = (client.clone(), base.clone());
        let (acknowledged, attempted) = (acknowledged.clone(), attempted.clone());
        tokio::spawn(async move {
            for batch in 0.. {
                *attempted.lock().unwrap() = batch;
                let sent = client
                    .post(format!("{base}/"))
                    .header("content-type", "application/fhir+json")
                    .json(&transaction(batch, SIZE))
                    .send()
                    .await;
                match sent {
                    Ok(r) if r.status() == 200 => acknowledged.lock().unwrap().push(batch),
                    _ => break,
                }
            }
        })
    };
    // Let several transactions land, then kill the server mid-stream.
    let start = Instant::now();
    while acknowledged.lock().unwrap().len() < 5 && start.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(37)).await;
    child.kill().expect("SIGKILL the server");
    child.wait().unwrap();
    let _ = writer.await;
    let acked = acknowledged.lock().unwrap().clone();
    let last = *attempted.lock().unwrap();
    assert!(
        acked.len() >= 5,
        "the server acknowledged {} transactions",
        acked.len()
    );

    let (mut child, base) = serve(dir.path());
    for &batch in &acked {
        assert_eq!(
            stored_count(&client, &base, batch, SIZE).await,
            SIZE,
            "acknowledged transaction {batch} is incomplete after restart"
        );
    }
    // The transaction in flight at the kill is all there or not there at all.
    let in_flight = stored_count(&client, &base, last, SIZE).await;
    assert!(
        in_flight == 0 || in_flight == SIZE,
        "transaction {last} is partial: {in_flight}/{SIZE}"
    );
    assert_eq!(stored_count(&client, &base, last + 1, SIZE).await, 0);
    println!(
        "acknowledged {} transactions; in-flight transaction had {in_flight}/{SIZE}",
        acked.len()
    );
    // And the restarted server keeps writing.
    let r = client
        .post(format!("{base}/"))
        .header("content-type", "application/fhir+json")
        .json(&transaction(9999, 3))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn help_explains_each_command() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for command in ["serve", "demo", "import", "migrate", "reindex", "bench"] {
        assert!(
            text.contains(command),
            "--help does not mention {command}: {text}"
        );
    }
    let out = Command::new(BIN)
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for option in [
        "--listen",
        "--data-dir",
        "--database-url",
        "CONCORD_LISTEN",
        "CONCORD_DATA_DIR",
        "CONCORD_DATABASE_URL",
    ] {
        assert!(
            text.contains(option),
            "serve --help does not mention {option}"
        );
    }
}

#[test]
fn import_loads_bundles_and_ndjson_with_a_final_count() {
    let data = tempfile::tempdir().unwrap();
    let input = tempfile::tempdir().unwrap();
    let bundle = json!({"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:11111111-1111-1111-1111-111111111111",
         "resource": {"resourceType": "Patient", "name": [{"family": "Import"}]},
         "request": {"method": "POST", "url": "Patient"}},
        {"resource": {"resourceType": "Observation", "status": "final", "code": {"text": "note"},
            "subject": {"reference": "urn:uuid:11111111-1111-1111-1111-111111111111"}},
         "request": {"method": "POST", "url": "Observation"}}
    ]});
    std::fs::write(input.path().join("a.json"), bundle.to_string()).unwrap();
    std::fs::create_dir(input.path().join("more")).unwrap();
    let ndjson = [
        json!({"resourceType": "Practitioner", "id": "dr-1", "name": [{"family": "One"}]}),
        json!({"resourceType": "Practitioner", "id": "dr-2", "name": [{"family": "Two"}]}),
    ]
    .iter()
    .map(Value::to_string)
    .collect::<Vec<_>>()
    .join("\n");
    std::fs::write(input.path().join("more/b.ndjson"), ndjson).unwrap();
    let out = Command::new(BIN)
        .arg("import")
        .arg(input.path())
        .env("CONCORD_DATA_DIR", data.path())
        .env_remove("CONCORD_DATABASE_URL")
        .output()
        .unwrap();
    let stdout = succeeded(&out);
    assert!(
        stdout.contains("imported 4 resources from 2 file(s)"),
        "{stdout}"
    );

    // A broken file is reported and makes the command fail, without losing the rest.
    std::fs::write(input.path().join("broken.json"), "{not json").unwrap();
    let out = Command::new(BIN)
        .arg("import")
        .arg(input.path())
        .env("CONCORD_DATA_DIR", data.path())
        .env_remove("CONCORD_DATABASE_URL")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("1 file(s) had errors"), "{stdout}");

    // Reindex walks every live resource.
    let out = Command::new(BIN)
        .arg("reindex")
        .env("CONCORD_DATA_DIR", data.path())
        .env_remove("CONCORD_DATABASE_URL")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The second import added the bundle's two resources again (POST); the
    // practitioners were updated in place: 6 live resources.
    assert!(stdout.contains("reindexed 6 resources"), "{stdout}");
}

#[test]
fn fhirpath_prints_results_as_json_and_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("obs.json");
    std::fs::write(
        &input,
        r#"{"resourceType":"Observation","status":"final","code":{"text":"t"},
            "effectiveDateTime":"2020-01-02","valueQuantity":{"value":1.50,"unit":"mg"}}"#,
    )
    .unwrap();
    let run = |expr: &str| {
        Command::new(BIN)
            .args(["fhirpath", expr, "--input"])
            .arg(&input)
            .output()
            .unwrap()
    };
    let out = run("Observation.value | Observation.effective | Observation.status.count()");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed[0]["unit"], "mg");
    assert_eq!(
        printed[0]["value"].to_string(),
        "1.50",
        "decimal precision kept"
    );
    assert_eq!(printed[1], "2020-01-02");
    assert_eq!(printed[2], 1);
    let out = run("Observation.(");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("syntax error"));
    let out = run("Observation.status.substring()");
    assert!(!out.status.success(), "a wrong argument count is an error");
}
