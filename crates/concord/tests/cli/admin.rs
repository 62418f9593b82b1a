//! `concord admin user …`, `concord admin token` and `concord serve --auth`,
//! run as an operator would.

use std::path::Path;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_concord");

fn concord(data_dir: &Path, args: &[&str], password: Option<&str>) -> Output {
    let mut c = Command::new(BIN);
    c.args(args)
        .env("CONCORD_DATA_DIR", data_dir)
        .env_remove("CONCORD_DATABASE_URL")
        .env_remove("CONCORD_BASE_URL");
    match password {
        Some(p) => c.env("CONCORD_NEW_PASSWORD", p),
        None => c.env_remove("CONCORD_NEW_PASSWORD"),
    };
    c.stdin(Stdio::null()).output().expect("run concord")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn user_add_list_disable() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let added = concord(
        d,
        &[
            "admin",
            "user",
            "add",
            "drwho",
            "--role",
            "physician",
            "--name",
            "Dr Who",
        ],
        Some("a long enough password"),
    );
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let text = stdout(&added);
    assert!(text.contains("added drwho"), "{text}");
    assert!(
        text.contains("otpauth://totp/Concord:drwho?secret="),
        "staff get TOTP: {text}"
    );
    let patient = concord(
        d,
        &[
            "admin",
            "user",
            "add",
            "pat",
            "--kind",
            "patient",
            "--patient",
            "p1",
        ],
        Some("another long password"),
    );
    assert!(patient.status.success());
    assert!(!stdout(&patient).contains("otpauth"));
    for (args, needle) in [
        (
            vec!["admin", "user", "add", "x1", "--role", "wizard"],
            "unknown role",
        ),
        (
            vec!["admin", "user", "add", "x2", "--kind", "patient"],
            "exactly one --patient",
        ),
        (
            vec!["admin", "user", "add", "x3", "--role", "nurse"],
            "no password given",
        ),
    ] {
        let pw = if needle == "no password given" {
            None
        } else {
            Some("a long enough password")
        };
        let o = concord(d, &args, pw);
        assert!(!o.status.success());
        assert!(
            String::from_utf8_lossy(&o.stderr).contains(needle),
            "{needle}"
        );
    }
    let short = concord(
        d,
        &["admin", "user", "add", "user4", "--role", "nurse"],
        Some("short"),
    );
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 12"));
    let dup = concord(
        d,
        &["admin", "user", "add", "drwho", "--role", "nurse"],
        Some("a long enough password"),
    );
    assert!(String::from_utf8_lossy(&dup.stderr).contains("already exists"));

    let list = stdout(&concord(d, &["admin", "user", "list"], None));
    let row = list
        .lines()
        .find(|l| l.starts_with("drwho"))
        .expect("listed");
    assert!(
        row.contains("physician") && row.contains("active") && row.contains("yes"),
        "{row}"
    );
    assert!(!list.contains("argon2"), "no secrets listed");
    assert!(concord(d, &["admin", "user", "disable", "drwho"], None)
        .status
        .success());
    let list = stdout(&concord(d, &["admin", "user", "list"], None));
    assert!(list
        .lines()
        .any(|l| l.starts_with("drwho") && l.contains("disabled")));
    let missing = concord(d, &["admin", "user", "disable", "nobody"], None);
    assert!(!missing.status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_token_works_against_serve_with_auth() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let bad = concord(d, &["admin", "token", "--scope", "user/*.rs"], None);
    assert!(!bad.status.success());
    // A token for another server (the default base URL) is refused: aud.
    let out = concord(d, &["admin", "token", "--scope", "system/*.*"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let elsewhere = stdout(&out).trim().to_string();
    assert_eq!(elsewhere.split('.').count(), 3, "a JWT");
    let (mut child, base) = crate::spawn_server(
        Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--auth"])
            .env("CONCORD_DATA_DIR", d)
            .env_remove("CONCORD_DATABASE_URL")
            .env_remove("CONCORD_BASE_URL"),
    );
    let out = concord(
        d,
        &[
            "admin",
            "token",
            "--scope",
            "system/*.*",
            "--base-url",
            &base,
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = stdout(&out).trim().to_string();
    let client = reqwest::Client::new();
    let anon = client.get(format!("{base}/_history")).send().await.unwrap();
    let wrong_aud = client
        .get(format!("{base}/_history"))
        .bearer_auth(&elsewhere)
        .send()
        .await
        .unwrap();
    let with = client
        .get(format!("{base}/_history"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let smart = client
        .get(format!("{base}/.well-known/smart-configuration"))
        .send()
        .await
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(anon.status(), 401);
    assert_eq!(wrong_aud.status(), 401);
    assert_eq!(with.status(), 200);
    assert_eq!(smart.status(), 200);
}
