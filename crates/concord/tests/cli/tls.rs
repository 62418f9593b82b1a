//! HTTPS: `concord serve --tls-self-signed` makes a certificate in the data
//! directory, reuses it, and a rustls client that trusts it reads
//! `/metadata`; `--tls-cert/--tls-key` serve given PEM files.

use std::path::Path;
use std::process::{Child, Command};

use super::{spawn_server, BIN};

fn serve_tls(data_dir: &Path, tls_args: &[&str]) -> (Child, String) {
    let (child, base) = spawn_server(
        Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(tls_args)
            .env("CONCORD_DATA_DIR", data_dir)
            .env_remove("CONCORD_DATABASE_URL"),
    );
    assert!(
        base.starts_with("https://"),
        "an https URL in the banner: {base}"
    );
    (child, base)
}

fn client_trusting(cert_pem: &[u8]) -> reqwest::Client {
    reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(cert_pem).expect("PEM"))
        .build()
        .expect("client")
}

fn stop(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_signed_https_serves_metadata_with_hsts() {
    let dir = tempfile::tempdir().unwrap();
    let (child, base) = serve_tls(dir.path(), &["--tls-self-signed"]);
    let cert_path = dir.path().join("tls-self-signed.crt");
    let cert = std::fs::read(&cert_path).expect("certificate written to the data directory");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("tls-self-signed.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o077,
            0,
            "the private key is readable by its owner only"
        );
    }
    let https = client_trusting(&cert);
    let r = https.get(format!("{base}/metadata")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["strict-transport-security"], "max-age=31536000");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    let cs: serde_json::Value = r.json().await.unwrap();
    assert_eq!(cs["resourceType"], "CapabilityStatement");
    // Cookies set over TLS are Secure.
    let page = https
        .get(format!("{base}/admin/interfaces"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let cookie = page.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict")
            && cookie.contains("Secure"),
        "{cookie}"
    );
    // A client that does not trust the certificate is refused by its own TLS.
    let untrusting = reqwest::Client::builder().use_rustls_tls().build().unwrap();
    assert!(untrusting
        .get(format!("{base}/metadata"))
        .send()
        .await
        .is_err());
    // Plain HTTP to the TLS port gets no HTTP answer.
    let plain = base.replacen("https://", "http://", 1);
    let answer = reqwest::Client::new()
        .get(format!("{plain}/metadata"))
        .send()
        .await;
    assert!(answer.map(|r| !r.status().is_success()).unwrap_or(true));
    stop(child);
    // A restart reuses the certificate (clients trust it once).
    let (child, base) = serve_tls(dir.path(), &["--tls-self-signed"]);
    assert_eq!(
        std::fs::read(&cert_path).unwrap(),
        cert,
        "certificate reused"
    );
    let r = https.get(format!("{base}/metadata")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    stop(child);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_certificate_and_key_are_served() {
    // Make a certificate with the self-signed mode, then serve it from
    // another data directory as operator-supplied PEM files.
    let made = tempfile::tempdir().unwrap();
    let (child, _) = serve_tls(made.path(), &["--tls-self-signed"]);
    stop(child);
    let cert = made.path().join("tls-self-signed.crt");
    let key = made.path().join("tls-self-signed.key");
    let dir = tempfile::tempdir().unwrap();
    let (child, base) = serve_tls(
        dir.path(),
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    assert!(!dir.path().join("tls-self-signed.crt").exists());
    let https = client_trusting(&std::fs::read(&cert).unwrap());
    let r = https.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    stop(child);
    // A certificate without its key is a clear start-up error.
    let out = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--tls-cert"])
        .arg(&cert)
        .env("CONCORD_DATA_DIR", dir.path())
        .env_remove("CONCORD_DATABASE_URL")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--tls-cert and --tls-key go together"));
    // A key file that is not PEM, likewise.
    let junk = dir.path().join("junk.key");
    std::fs::write(&junk, "not a key").unwrap();
    let out = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--tls-cert"])
        .arg(&cert)
        .arg("--tls-key")
        .arg(&junk)
        .env("CONCORD_DATA_DIR", dir.path())
        .env_remove("CONCORD_DATABASE_URL")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot read private key"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
