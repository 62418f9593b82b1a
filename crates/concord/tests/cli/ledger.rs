//! The tamper-evident ledger end to end, on the backend under test and on
//! a database of its own: a served database verifies clean; an inclusion
//! proof verifies with only the public key (`concord verify-proof`, and the
//! Python script when `cryptography` is installed); then a stored version is
//! modified, one deleted, one inserted and two ledger entries reordered, and
//! `concord verify` names each and fails.

use std::path::Path;
use std::process::{Child, Command, Output};

use serde_json::{json, Value};

use super::{postgres_url, run_tag, BIN};

/// Where the test's data lives: a SQLite directory, or a fresh PostgreSQL
/// database (the ledger spans all tenants, so it must not share one).
struct Target {
    dir: tempfile::TempDir,
    database_url: Option<String>,
    admin_url: Option<String>,
    db_name: String,
}

impl Target {
    async fn new() -> Target {
        let dir = tempfile::tempdir().unwrap();
        let db_name = format!("concord_ledger_{}", run_tag());
        let Some(admin_url) = postgres_url() else {
            return Target {
                dir,
                database_url: None,
                admin_url: None,
                db_name,
            };
        };
        let client = pg(&admin_url).await;
        // One statement per call: multi-statement strings run as one transaction.
        client
            .batch_execute(&format!("DROP DATABASE IF EXISTS {db_name}"))
            .await
            .unwrap();
        client
            .batch_execute(&format!("CREATE DATABASE {db_name}"))
            .await
            .unwrap();
        let (base, _) = admin_url.rsplit_once('/').unwrap();
        Target {
            dir,
            database_url: Some(format!("{base}/{db_name}")),
            admin_url: Some(admin_url),
            db_name,
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.args(args).env("CONCORD_DATA_DIR", self.dir.path());
        match &self.database_url {
            Some(url) => c.env("CONCORD_DATABASE_URL", url),
            None => c.env_remove("CONCORD_DATABASE_URL"),
        };
        c
    }

    fn verify(&self) -> Output {
        self.command(&["verify"]).output().unwrap()
    }

    /// Runs tampering SQL (the same text on both backends).
    async fn tamper(&self, sql: &str) {
        match &self.database_url {
            Some(url) => pg(url).await.batch_execute(sql).await.unwrap(),
            None => {
                let c = rusqlite::Connection::open(self.dir.path().join("concord.db")).unwrap();
                c.execute_batch(sql).unwrap();
            }
        }
    }

    async fn drop_database(&self) {
        if let Some(admin) = &self.admin_url {
            let client = pg(admin).await;
            let _ = client
                .batch_execute(&format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    self.db_name
                ))
                .await;
        }
    }
}

async fn pg(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
}

fn start(target: &Target) -> (Child, String) {
    crate::spawn_server(&mut target.command(&["serve", "--listen", "127.0.0.1:0"]))
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

async fn put(http: &reqwest::Client, base: &str, id: &str, family: &str) {
    let r = http
        .put(format!("{base}/Patient/{id}"))
        .header("content-type", "application/fhir+json")
        .body(
            json!({"resourceType": "Patient", "id": id, "name": [{"family": family}]}).to_string(),
        )
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "PUT Patient/{id}: {}", r.status());
}

/// Searches the trail, which commits every queued audit event first.
async fn flush_audit(http: &reqwest::Client, base: &str) {
    let r = http
        .get(format!("{base}/AuditEvent?_count=1"))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "AuditEvent search: {}", r.status());
}

/// The JSON body of a request's answer.
async fn json(request: reqwest::RequestBuilder) -> Value {
    request.send().await.unwrap().json().await.unwrap()
}

/// Writes `proof` to `file` and runs `concord verify-proof` on it.
fn verify_proof(key: &str, file: &Path, proof: &Value) -> std::process::Output {
    std::fs::write(file, proof.to_string()).unwrap();
    Command::new(BIN)
        .args(["verify-proof", "--public-key", key])
        .arg(file)
        .output()
        .unwrap()
}

/// Runs `scripts/verify_ledger_proof.py` when Python has `cryptography`;
/// the proof must hold.
fn python_check(key: &str, proof: &Path) {
    python_verdict(key, proof, true);
}

/// As [`python_check`]; `holds` says whether the proof must hold or fail.
fn python_verdict(key: &str, proof: &Path, holds: bool) {
    let has = Command::new("python3")
        .args(["-c", "import cryptography"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has {
        eprintln!(
            "SKIPPED: scripts/verify_ledger_proof.py not run: python3 with the `cryptography` \
             package is not available (pip install cryptography)"
        );
        return;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/verify_ledger_proof.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(key)
        .arg(proof)
        .output()
        .unwrap();
    if holds {
        assert!(out.status.success(), "python proof check: {}", text(&out));
        assert!(text(&out).contains("OK:"), "{}", text(&out));
    } else {
        assert!(!out.status.success(), "python accepted: {}", text(&out));
        assert!(text(&out).contains("FAIL:"), "{}", text(&out));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_names_every_tampered_entry_and_proofs_check_with_the_public_key() {
    let target = Target::new().await;
    let (mut server, base) = start(&target);
    let http = reqwest::Client::new();
    for (id, family) in [("pa", "Alpha"), ("pb", "Bravo"), ("pc", "Charlie")] {
        put(&http, &base, id, family).await;
    }
    // Reading the trail flushes the audit writer: the events so far are one
    // batch, what follows another (the tamper step below needs two).
    flush_audit(&http, &base).await;
    put(&http, &base, "pa", "Alpha-Two").await;
    put(&http, &base, "pd", "Delta").await;
    let head: Value = json(http.post(format!("{base}/$ledger-tree-head"))).await;
    assert!(head["tree_size"].as_i64().unwrap() >= 5, "{head}");
    let proof: Value = json(http.get(format!("{base}/Patient/pa/_history/1/$ledger-proof"))).await;
    let key: Value = json(http.get(format!("{base}/.well-known/concord-ledger-key"))).await;
    let key = key["public_key"].as_str().unwrap().to_string();
    // The audit batches flushed since make the log grow: a second head, and
    // the consistency proof from the first.
    flush_audit(&http, &base).await;
    let first = head["tree_size"].as_i64().unwrap();
    let second: Value = json(http.post(format!("{base}/$ledger-tree-head"))).await;
    assert!(second["tree_size"].as_i64().unwrap() > first, "{second}");
    let consistency: Value =
        json(http.get(format!("{base}/$ledger-consistency?first={first}"))).await;
    // Killed below without a shutdown flush: commit the queued events first.
    flush_audit(&http, &base).await;
    server.kill().unwrap();
    server.wait().unwrap();

    // Untouched: clean.
    let clean = target.verify();
    assert!(
        clean.status.success(),
        "untouched database: {}",
        text(&clean)
    );
    assert!(text(&clean).contains("OK:"), "{}", text(&clean));

    // The proof, with only the public key.
    let proof_file = target.dir.path().join("proof.json");
    let checked = verify_proof(&key, &proof_file, &proof);
    assert!(checked.status.success(), "verify-proof: {}", text(&checked));
    python_check(&key, &proof_file);
    // A forged leaf does not verify.
    let mut forged = proof.clone();
    forged["leaf_index"] = json!(proof["leaf_index"].as_i64().unwrap() + 1);
    let refused = verify_proof(&key, &proof_file, &forged);
    assert!(!refused.status.success(), "a moved leaf must not verify");

    // The consistency proof, with only the public key; a forged one fails.
    let consistency_file = target.dir.path().join("consistency.json");
    let checked = verify_proof(&key, &consistency_file, &consistency);
    assert!(checked.status.success(), "verify-proof: {}", text(&checked));
    assert!(
        text(&checked).contains("is a prefix of"),
        "{}",
        text(&checked)
    );
    python_check(&key, &consistency_file);
    let mut forged = consistency.clone();
    forged["first_tree_head"]["root_hash"] = json!("11".repeat(32));
    let refused = verify_proof(&key, &consistency_file, &forged);
    assert!(!refused.status.success(), "a changed root must not verify");
    python_verdict(&key, &consistency_file, false);
    let mut forged = consistency.clone();
    forged["consistency_path"][0] = json!("22".repeat(32));
    std::fs::write(&consistency_file, forged.to_string()).unwrap();
    python_verdict(&key, &consistency_file, false);

    // Tamper: modify, delete, insert, reorder.
    target
        .tamper(
            "UPDATE resource_history SET content = replace(content, 'Alpha', 'Omega')
               WHERE type = 'Patient' AND id = 'pa' AND version = 1;
             DELETE FROM resource_history WHERE type = 'Patient' AND id = 'pb';
             INSERT INTO resource_history (tenant, type, id, version, last_updated, kind, content)
               VALUES ('default', 'Patient', 'intruder', 1, 0, 'create',
                 '{\"resourceType\":\"Patient\",\"id\":\"intruder\"}');
             ",
        )
        .await;
    // Reorder: swap the leaf positions of pc's and pd's ledger entries.
    let (ic, id) = (leaf_of(&target, "pc").await, leaf_of(&target, "pd").await);
    target
        .tamper(&format!(
            "UPDATE ledger SET leaf_index = -1 WHERE type = 'Patient' AND id = 'pc';
             UPDATE ledger SET leaf_index = {ic} WHERE type = 'Patient' AND id = 'pd';
             UPDATE ledger SET leaf_index = {id} WHERE type = 'Patient' AND id = 'pc';"
        ))
        .await;
    // The audit log: change the first event, delete the last one (of
    // another batch), and slip in one that no batch recorded.
    target
        .tamper(
            "UPDATE audit_log SET content = content || ' '
               WHERE seq = (SELECT MIN(seq) FROM audit_log);
             DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)
               AND leaf_index <> (SELECT leaf_index FROM audit_log
                 WHERE seq = (SELECT MIN(seq) FROM audit_log));
             INSERT INTO audit_log (tenant, id, stored_at, leaf_index, idx, content)
               VALUES ('default', 'forged', 0, 999999, '{}',
                 '{\"resourceType\":\"AuditEvent\",\"id\":\"forged\"}');",
        )
        .await;
    let tampered = target.verify();
    let out = text(&tampered);
    assert!(
        !tampered.status.success(),
        "tampering must fail verify: {out}"
    );
    for expected in [
        "MODIFIED Patient/pa/1",
        "DELETED Patient/pb/1",
        "INSERTED Patient/intruder/1",
        "REORDERED Patient/pc/1",
        "REORDERED Patient/pd/1",
        "ROOT MISMATCH",
        "MODIFIED AuditEvent batch",
        "DELETED AuditEvent batch",
        "INSERTED AuditEvent/forged",
    ] {
        assert!(
            out.contains(expected),
            "verify should report '{expected}':\n{out}"
        );
    }
    for name in ["Alpha", "Omega", "Bravo", "Charlie", "Delta"] {
        assert!(
            !out.contains(name),
            "verify printed patient data ({name}):\n{out}"
        );
    }
    assert!(
        !out.contains("MODIFIED Patient/pa/2"),
        "an untouched version was flagged:\n{out}"
    );
    target.drop_database().await;
}

/// The leaf index of a Patient's (only) ledger entry.
async fn leaf_of(target: &Target, id: &str) -> i64 {
    let sql = format!("SELECT leaf_index FROM ledger WHERE type = 'Patient' AND id = '{id}'");
    match &target.database_url {
        Some(url) => pg(url).await.query_one(&sql, &[]).await.unwrap().get(0),
        None => rusqlite::Connection::open(target.dir.path().join("concord.db"))
            .unwrap()
            .query_row(&sql, [], |r| r.get(0))
            .unwrap(),
    }
}
