//! `concord demo`: first start generates and loads a population and the
//! demo accounts, with authentication on; a second start reuses them.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use super::{banner_base_url, BIN};

/// The demo server, stopped when dropped (also when an assertion fails).
struct Demo(Child);

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the demo; returns the server, its base URL and every line printed
/// up to the server's banner.
fn start(dir: &Path, patients: &str) -> (Demo, String, Vec<String>) {
    let mut child = Command::new(BIN)
        .args(["demo", "--listen", "127.0.0.1:0", "--patients", patients])
        .env("CONCORD_DATA_DIR", dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start concord demo");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut printed = Vec::new();
    let base = loop {
        let line = lines.next().expect("a banner").expect("readable stdout");
        printed.push(line.clone());
        if line.starts_with("Concord FHIR R4 server: http://") {
            break banner_base_url(&line).expect("URL in banner");
        }
    };
    (Demo(child), base, printed)
}

fn concord(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(BIN)
        .args(args)
        .args(["--data-dir", dir.to_str().unwrap()])
        .env_remove("CONCORD_DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

async fn count(client: &reqwest::Client, base: &str, token: &str, query: &str) -> (u16, Value) {
    let r = client
        .get(format!("{base}/{query}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_generates_a_population_with_logins_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (child, base, printed) = start(d, "12");
    let seeded = printed
        .iter()
        .find_map(|l| l.strip_prefix("seeded "))
        .expect("first start seeds");
    assert!(seeded.starts_with("12 patients ("), "{seeded}");
    let resources: usize = seeded["12 patients (".len()..]
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .expect("resource count");
    for needed in [
        "physician",
        "nurse",
        "medical-assistant",
        "front-desk",
        "billing",
        "practice-admin",
        "security-officer",
        "system-admin",
        "patient1",
        "guardian",
        "admin user totp-code",
        "admin token",
        "ready in ",
    ] {
        assert!(
            printed.iter().any(|l| l.contains(needed)),
            "{needed} not printed: {printed:#?}"
        );
    }

    // Authentication is on: no token, no data.
    let client = reqwest::Client::new();
    let anon = client.get(format!("{base}/Patient")).send().await.unwrap();
    assert_eq!(anon.status(), 401);
    let token = concord(
        d,
        &[
            "admin",
            "token",
            "--scope",
            "system/*.rs",
            "--base-url",
            &base,
        ],
    );
    let (status, patients) = count(&client, &base, &token, "Patient?_summary=count").await;
    assert_eq!(status, 200);
    assert_eq!(patients["total"], 12);
    assert!(resources > 12 * 40, "{resources} resources for 12 patients");
    let (_, observations) = count(&client, &base, &token, "Observation?_summary=count").await;
    assert!(
        observations["total"].as_u64().unwrap() > 100,
        "{observations}"
    );
    let (_, audited) = count(&client, &base, &token, "AuditEvent?_summary=count").await;
    assert!(
        audited["total"].as_u64().unwrap() >= 12,
        "one AuditEvent per patient transaction: {audited}"
    );
    let (_, upcoming) = count(
        &client,
        &base,
        &token,
        "Appointment?status=booked&_summary=count",
    )
    .await;
    assert!(upcoming["total"].as_u64().unwrap() > 0);

    // The accounts: staff with TOTP, clinicians linked to Practitioners.
    let list = concord(d, &["admin", "user", "list"]);
    assert_eq!(list.lines().count(), 1 + 12, "{list}");
    let db = rusqlite::Connection::open(d.join("concord.db")).unwrap();
    let (secret, fhir_user): (String, String) = db
        .query_row(
            "SELECT totp_secret, fhir_user FROM auth_users WHERE username = 'physician'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let (status, practitioner) = count(&client, &base, &token, &fhir_user).await;
    assert_eq!(status, 200, "{fhir_user} exists");
    assert_eq!(practitioner["resourceType"], "Practitioner");
    let (_, care_teams) = count(
        &client,
        &base,
        &token,
        &format!("CareTeam?participant={fhir_user}&_summary=count"),
    )
    .await;
    assert!(
        care_teams["total"].as_u64().unwrap() > 0,
        "the physician has care teams"
    );
    let code = concord(d, &["admin", "user", "totp-code", "physician"]);
    assert_eq!(code.len(), 6, "{code}");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let secret = hex::decode(secret).unwrap();
    assert!(
        concord_auth::totp::verify(&secret, &code, now).is_some(),
        "the printed code is the account's current TOTP"
    );
    drop(child);

    // A second start reuses everything.
    let (child, base, printed) = start(d, "12");
    assert!(
        !printed.iter().any(|l| l.starts_with("seeded ")),
        "{printed:#?}"
    );
    assert!(
        !printed.iter().any(|l| l.contains("created")),
        "{printed:#?}"
    );
    let token = concord(d, &["admin", "token", "--base-url", &base]);
    let (_, patients) = count(&client, &base, &token, "Patient?_summary=count").await;
    assert_eq!(patients["total"], 12);
    let (_, again) = count(&client, &base, &token, "Observation?_summary=count").await;
    assert_eq!(again["total"], observations["total"], "nothing reloaded");
    assert_eq!(
        concord(d, &["admin", "user", "list"]).lines().count(),
        1 + 12
    );
    drop(child);
}
