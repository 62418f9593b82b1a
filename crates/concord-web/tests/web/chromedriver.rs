//! One headless Chromium session through Debian's `chromedriver`, shared
//! by the browser tests. chromedriver picks its own free port (`--port=0`)
//! and names it on stdout: a port chosen here and released before
//! chromedriver bound it could be taken meanwhile by another test's server.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder};
use serde_json::json;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The chromedriver process; killed when dropped.
pub struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The port in chromedriver's "… started successfully on port N." line.
fn port_of(line: &str) -> Option<u16> {
    line.split("started successfully on port ")
        .nth(1)?
        .trim_end_matches(|c: char| !c.is_ascii_digit())
        .parse()
        .ok()
}

/// chromedriver and a WebDriver session with headless Chromium, or `None`
/// (after printing `SKIPPED: {what} needs …`) when they are not installed.
pub async fn start(what: &str) -> Option<(Driver, Client)> {
    if !Path::new(CHROMIUM).exists() || !Path::new(CHROMEDRIVER).exists() {
        eprintln!("\n*** SKIPPED: {what} needs {CHROMIUM} and {CHROMEDRIVER} (apt-get install chromium chromium-driver) ***\n");
        return None;
    }
    let mut child = Command::new(CHROMEDRIVER)
        .arg("--port=0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let stdout = child.stdout.take().expect("chromedriver stdout");
    let driver = Driver(child);
    let (tx, rx) = std::sync::mpsc::channel();
    // Reads the port, then keeps draining so chromedriver never blocks on
    // a full pipe.
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(port) = port_of(&line) {
                let _ = tx.send(port);
            }
        }
    });
    let port = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("chromedriver did not report its port");
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({"binary": CHROMIUM, "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,800", "--force-device-scale-factor=1"]}),
    );
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        if let Ok(c) = ClientBuilder::new(connector)
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            return Some((driver, c));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not accept a session");
}

#[test]
fn reads_the_port_chromedriver_reports() {
    assert_eq!(
        port_of("ChromeDriver was started successfully on port 35197."),
        Some(35197)
    );
    assert_eq!(port_of("Starting ChromeDriver 156.0 on port 0"), None);
}
