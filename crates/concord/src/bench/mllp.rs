//! `concord bench mllp`: ORU^R01 messages (10 OBX each) end to end over
//! MLLP with ACKs — parse, store the message, map, apply the transaction,
//! ACK — into a temporary SQLite database (or PostgreSQL). Prints ORU/s
//! and per-message latency.

use std::time::{Duration, Instant};

use concord_hl7v2::{Message, MllpClient, MllpConfig, MllpServer};
use concord_interfaces::{Hl7Inbound, InboundConfig};

use crate::bench::server::BenchServer;
use crate::bench::stats::{cpu_micros_each, ms, peak_rss_mib, percentile, process_cpu};
use crate::cli::BenchMllpArgs;

fn adt() -> String {
    "MSH|^~\\&|REG|HOSP|CONCORD|HOSP|20240101120000+0000||ADT^A04^ADT_A01|BENCH-REG|P|2.5.1\r\
     EVN|A04|20240101120000+0000\r\
     PID|1||BENCH1^^^HOSP&1.2.3.4&ISO^MR||DOE^ANA||19800512|F\r\
     PV1|1|O|CLINIC^1^1\r"
        .to_string()
}

/// An ORU^R01 of about 1.3 KB: one order, `obx` numeric results.
pub fn oru(run: &str, n: usize, obx: usize) -> String {
    let mut m = format!(
        "MSH|^~\\&|LAB|LABFAC|CONCORD|HOSP|20240102080000+0000||ORU^R01^ORU_R01|{run}-{n}|P|2.5.1\r\
         PID|1||BENCH1^^^HOSP&1.2.3.4&ISO^MR||DOE^ANA\r\
         OBR|1|PL{n}^CONCORD|{run}-FL{n}^LAB|24323-8^Comprehensive metabolic panel^LN|||20240102070000+0000||||||||||||||||||F\r"
    );
    for i in 1..=obx {
        m.push_str(&format!(
            "OBX|{i}|NM|{}-{}^Analyte {i}^LN||{}.{}|mg/dl|70-99|N|||F|||20240102070000+0000\r",
            2000 + i,
            i % 10,
            80 + i,
            n % 10
        ));
    }
    m
}

pub async fn run(args: BenchMllpArgs) -> Result<(), String> {
    let server = BenchServer::start(
        args.database_url.as_deref(),
        args.keep.as_deref(),
        args.search_index,
    )
    .await?;
    let inbound = Hl7Inbound::new(
        server.engine.clone(),
        InboundConfig {
            tenant: server.tenant.clone(),
            default_offset: None,
            ..InboundConfig::default()
        },
    );
    let mllp = MllpServer::bind("127.0.0.1:0", MllpConfig::default(), inbound)
        .await
        .map_err(|e| format!("MLLP listener: {e}"))?
        .spawn()
        .map_err(|e| format!("MLLP listener: {e}"))?;
    let addr = mllp.local_addr();
    let mut setup = MllpClient::connect(addr, MllpConfig::default())
        .await
        .map_err(|e| e.to_string())?;
    setup
        .send(adt().as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let run_id = format!("{:x}", std::process::id());
    let connections = args.connections.max(1);
    let total = args.messages;
    println!(
        "concord bench mllp: {total} ORU^R01 ({} OBX each) over {connections} connections, {}, {}",
        args.obx,
        server.backend,
        if args.search_index {
            "every search parameter indexed"
        } else {
            "identifier index rows only"
        }
    );
    let started = Instant::now();
    let cpu_before = process_cpu();
    let mut tasks = Vec::new();
    for c in 0..connections {
        let (run_id, obx) = (run_id.clone(), args.obx);
        tasks.push(tokio::spawn(async move {
            let mut client = MllpClient::connect(addr, MllpConfig::default())
                .await
                .map_err(|e| e.to_string())?;
            let mut latencies = Vec::new();
            let mut not_aa = 0usize;
            for n in (c..total).step_by(connections) {
                let msg = oru(&run_id, n, obx);
                let t = Instant::now();
                let ack = client
                    .send(msg.as_bytes())
                    .await
                    .map_err(|e| e.to_string())?;
                latencies.push(t.elapsed());
                let code = Message::parse(&ack)
                    .ok()
                    .and_then(|m| m.get("MSA-1").map(|s| s.to_string()));
                if code.as_deref() != Some("AA") {
                    not_aa += 1;
                }
            }
            Ok::<(Vec<Duration>, usize), String>((latencies, not_aa))
        }));
    }
    let mut latencies = Vec::with_capacity(total);
    let mut not_aa = 0;
    for t in tasks {
        let (l, bad) = t.await.map_err(|e| e.to_string())??;
        latencies.extend(l);
        not_aa += bad;
    }
    let secs = started.elapsed().as_secs_f64();
    let cpu_each = cpu_micros_each(cpu_before, total);
    latencies.sort();
    println!(
        "  {:.0} ORU^R01/s ({} messages in {secs:.2} s; {} resources each), {not_aa} not AA",
        total as f64 / secs,
        latencies.len(),
        args.obx + 4
    );
    println!(
        "  latency p50 {}  p99 {}  max {}",
        ms(percentile(&latencies, 50.0)),
        ms(percentile(&latencies, 99.0)),
        ms(latencies.last().copied().unwrap_or_default())
    );
    if let Some(us) = cpu_each {
        // Steadier than the rate on a shared machine; 2,000/s on 2 cores
        // leaves at most 1 ms.
        println!(
            "  CPU {:.2} ms per message (user + system, every thread, client included)",
            us / 1000.0
        );
    }
    if let Some(rss) = peak_rss_mib() {
        println!("  peak RSS {rss:.0} MiB");
    }
    mllp.shutdown().await.map_err(|e| e.to_string())?;
    drop(server);
    Ok(())
}
