//! `concord bench read`: create resources, then read them by id over HTTP with
//! N concurrent keep-alive connections for a fixed time; print requests/s and latency.

use std::time::{Duration, Instant};

use concord_store::{Actor, TenantContext};
use serde_json::json;

use super::audit_modes::Setup;
use super::http1;
use super::server::BenchServer;
use super::stats::{cpu_micros_each, ms, peak_rss_mib, percentile, process_cpu};
use crate::cli::BenchReadArgs;

pub async fn run(args: BenchReadArgs) -> Result<(), String> {
    super::audit_modes::run(args.audit, args.auth, args.rounds, "reads/s", |setup| {
        once(&args, setup)
    })
    .await
}

/// One measurement; returns reads/s.
async fn once(args: &BenchReadArgs, setup: Setup) -> Result<f64, String> {
    let server = BenchServer::start_in(args.database_url.as_deref(), false, setup).await?;
    let count = args.resources.max(1);
    let ids = seed(&server, count).await?;
    println!(
        "bench read: {count} Patients, {} connection(s), {} s, storage {}, {}",
        args.connections,
        args.seconds,
        server.backend,
        setup.describe()
    );
    let deadline = Instant::now() + Duration::from_secs(args.seconds.max(1));
    let mut workers = Vec::new();
    let addr = server.base.trim_start_matches("http://").to_string();
    for w in 0..args.connections.max(1) {
        // One real keep-alive connection per worker.
        let mut conn = http1::Connection::open(&addr, server.token.as_deref()).await?;
        let paths: Vec<String> = ids.iter().map(|id| format!("/Patient/{id}")).collect();
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(100_000);
            let mut errors = 0usize;
            let mut i = w * 7919;
            while Instant::now() < deadline {
                let path = &paths[i % paths.len()];
                i += 1;
                let t0 = Instant::now();
                match conn.get(path).await {
                    Ok((200, len)) if len > 0 => latencies.push(t0.elapsed()),
                    Ok(_) => errors += 1,
                    Err(_) => {
                        errors += 1;
                        break;
                    }
                }
            }
            (latencies, errors)
        }));
    }
    let started = Instant::now();
    let cpu_before = process_cpu();
    let mut all = Vec::new();
    let mut errors = 0;
    for w in workers {
        let (l, e) = w.await.map_err(|e| e.to_string())?;
        all.extend(l);
        errors += e;
    }
    // Audit records still queued are part of the work measured.
    server.audit.flush().await;
    let wall = started.elapsed();
    let cpu_each = cpu_micros_each(cpu_before, all.len());
    all.sort();
    println!("requests:   {} ok, {errors} failed", all.len());
    let throughput = all.len() as f64 / wall.as_secs_f64();
    println!("throughput: {throughput:.0} reads/s");
    if let Some(each) = cpu_each {
        println!("cpu:        {each:.1} µs per read (server and client, all threads)");
    }
    println!(
        "latency:    p50 {}  p99 {}  max {}",
        ms(percentile(&all, 50.0)),
        ms(percentile(&all, 99.0)),
        ms(all.last().copied().unwrap_or_default())
    );
    if let Some(mib) = peak_rss_mib() {
        println!("peak resident memory (server and client in one process): {mib:.0} MiB");
    }
    Ok(throughput)
}

async fn seed(server: &BenchServer, count: usize) -> Result<Vec<String>, String> {
    let ctx = TenantContext::new(
        server.tenant.clone(),
        Actor::Operator("bench".into()),
        "bench-seed",
    );
    let mut ids = Vec::with_capacity(count);
    for i in 0..count {
        let patient = json!({
            "resourceType": "Patient",
            "name": [{"family": format!("Bench{i}"), "given": ["Test"]}],
            "gender": if i % 2 == 0 { "female" } else { "male" },
            "birthDate": format!("19{:02}-0{}-1{}", 30 + i % 60, 1 + i % 9, i % 10),
        });
        let w = server
            .engine
            .create(&ctx, "Patient", patient, None)
            .await
            .map_err(|e| format!("seeding failed: {e}"))?;
        ids.push(w.id);
    }
    Ok(ids)
}
