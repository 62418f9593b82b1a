//! The Python SMART client (PyPI `fhirclient`) completes a standalone launch
//! with PKCE. The interpreter is `$CONCORD_SMART_PYTHON` (CI: `.ci/run`
//! creates `.cache/smart-venv`), else `.venv-smart/bin/python` (git-ignored):
//! `python3 -m venv .venv-smart && .venv-smart/bin/pip install fhirclient==4.4.0`.
//! Without either the test prints a loud SKIPPED line and passes.

use serde_json::json;

use super::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_fhirclient_standalone_launch() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let python = match std::env::var_os("CONCORD_SMART_PYTHON") {
        Some(p) if !p.is_empty() => std::path::PathBuf::from(p),
        _ => root.join(".venv-smart/bin/python"),
    };
    if !python.exists() {
        eprintln!("\n*** SKIPPED: python fhirclient test: no CONCORD_SMART_PYTHON or .venv-smart (see tests/smart/python.rs) ***\n");
        println!("SKIPPED: python fhirclient test: no CONCORD_SMART_PYTHON or .venv-smart");
        return;
    }
    let w = World::new().await;
    for p in ["p1", "p2"] {
        w.seed(json!({"resourceType": "Patient", "id": p})).await;
    }
    w.patient_user("pyuser", "p1").await;
    w.public_client("pyapp", "launch/patient openid fhirUser patient/*.rs")
        .await;
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smart/fhirclient_launch.py");
    let base = w.base();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(python)
            .arg(script)
            .args([base.as_str(), "pyuser", PASSWORD, "p1", "p2"])
            .output()
    })
    .await
    .unwrap()
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "fhirclient flow failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.matches("OK").count(), 3);
}
