//! Throughput figures (not a test): parse + groups + encode per message,
//! and ORU^R01 (10 OBX) over MLLP with ACKs on 4 loopback connections.
//!
//! `cargo run --release -p concord-hl7v2 --example mllp_bench [messages]`

use std::time::Instant;

use async_trait::async_trait;
use concord_hl7v2::{
    AckBuilder, Message, MessageHandler, MllpClient, MllpConfig, MllpServer, ParseError,
};

fn oru(control_id: &str) -> String {
    let mut s = format!(
        "MSH|^~\\&|LAB|LABFAC|EHR|EHRFAC|20240101120000||ORU^R01^ORU_R01|{control_id}|P|2.5.1\rPID|1||12345^^^HOSP^MR||DOE^JANE||19800101|F\rPV1|1|O\rORC|RE|PL1|FL1\rOBR|1|PL1|FL1|24331-1^Lipid panel^LN|||20240101110000\r"
    );
    for i in 1..=10 {
        s.push_str(&format!(
            "OBX|{i}|NM|2093-3^Cholesterol^LN||{}|mg/dL^mg/dL^UCUM|<200|N|||F|||20240101113000\r",
            150 + i
        ));
    }
    s
}

/// Parses, builds groups and answers AA, as a real handler would before
/// storing.
struct Handler;

#[async_trait]
impl MessageHandler for Handler {
    async fn handle(&self, raw: &[u8], parsed: Result<Message, ParseError>) -> Vec<u8> {
        match parsed {
            Ok(m) => {
                let _ = m.groups();
                AckBuilder::new(&m).to_bytes()
            }
            Err(e) => AckBuilder::unparsable(raw, &e).to_bytes(),
        }
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let total: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000);

    let sample = oru("BENCH");
    let started = Instant::now();
    let n = 50_000;
    for _ in 0..n {
        let m = Message::parse(sample.as_bytes())?;
        let _ = m.groups();
        let _ = m.to_bytes();
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "parse+groups+encode: {:.0} messages/s ({} bytes each)",
        n as f64 / secs,
        sample.len()
    );

    let server = MllpServer::bind("127.0.0.1:0", MllpConfig::default(), Handler)
        .await?
        .spawn()?;
    let addr = server.local_addr();
    let connections = 4;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..connections {
        tasks.push(tokio::spawn(async move {
            let mut client = MllpClient::connect(addr, MllpConfig::default()).await?;
            for i in 0..total / connections {
                let ack = client.send(oru(&format!("C{c}N{i}")).as_bytes()).await?;
                if !ack.windows(7).any(|w| w == b"MSA|AA|") {
                    return Err(concord_hl7v2::MllpError::Closed);
                }
            }
            Ok::<_, concord_hl7v2::MllpError>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "MLLP ORU^R01 (10 OBX) with ACKs over {connections} connections: {total} messages in {secs:.2} s = {:.0} messages/s",
        total as f64 / secs
    );
    server.shutdown().await?;
    Ok(())
}
