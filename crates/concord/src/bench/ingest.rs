//! `concord bench ingest PATH`: POST every transaction Bundle to an in-process
//! server; print resources/s, per-bundle p50/p99 and peak memory.

use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::Value;

use super::audit_modes::Setup;
use super::server::BenchServer;
use super::stats::{cpu_micros_each, ms, peak_rss_mib, percentile, process_cpu};
use crate::cli::BenchIngestArgs;
use crate::import::collect_files;

pub async fn run(args: BenchIngestArgs) -> Result<(), String> {
    super::audit_modes::run(args.audit, args.auth, args.rounds, "resources/s", |setup| {
        once(&args, setup)
    })
    .await
}

/// One measurement; returns resources/s.
async fn once(args: &BenchIngestArgs, setup: Setup) -> Result<f64, String> {
    let mut files = collect_files(&args.path)?;
    files.retain(|f| f.extension().and_then(|e| e.to_str()) == Some("json"));
    if let Some(limit) = args.limit {
        files.truncate(limit);
    }
    if files.is_empty() {
        return Err(format!("no .json Bundles under {}", args.path.display()));
    }
    let server =
        BenchServer::start_in(args.database_url.as_deref(), args.search_index, setup).await?;
    let client = reqwest::Client::new();
    let url = format!("{}/", server.base);
    println!(
        "bench ingest: {} bundle(s), {} in flight, storage {}, index {}, {}",
        files.len(),
        args.concurrency,
        server.backend,
        if args.search_index {
            "every search parameter"
        } else {
            "identifiers"
        },
        setup.describe()
    );
    let token = server.token.clone();
    let started = Instant::now();
    let cpu_before = process_cpu();
    let mut results = futures::stream::iter(files.iter())
        .map(|path| {
            let client = client.clone();
            let url = url.clone();
            let token = token.clone();
            async move {
                let body = tokio::fs::read(path)
                    .await
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                let t0 = Instant::now();
                let mut request = client
                    .post(&url)
                    .header("content-type", "application/fhir+json")
                    .body(body);
                if let Some(t) = &token {
                    request = request.bearer_auth(t);
                }
                let response = request
                    .send()
                    .await
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                let status = response.status();
                let reply: Value = response
                    .json()
                    .await
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                let elapsed = t0.elapsed();
                if !status.is_success() {
                    let why = reply["issue"][0]["diagnostics"]
                        .as_str()
                        .unwrap_or("")
                        .to_string();
                    return Err(format!("{}: HTTP {status}: {why}", path.display()));
                }
                let entries = reply["entry"].as_array().map_or(0, Vec::len);
                Ok::<(usize, Duration), String>((entries, elapsed))
            }
        })
        .buffer_unordered(args.concurrency.max(1));
    let (mut resources, mut latencies, mut failures) = (0usize, Vec::new(), 0usize);
    while let Some(result) = results.next().await {
        match result {
            Ok((n, d)) => {
                resources += n;
                latencies.push(d);
            }
            Err(e) => {
                failures += 1;
                eprintln!("failed: {e}");
            }
        }
    }
    server.audit.flush().await;
    let wall = started.elapsed();
    latencies.sort();
    println!(
        "bundles loaded:     {} ({} failed)",
        latencies.len(),
        failures
    );
    println!("resources stored:   {resources}");
    println!("wall time:          {:.2} s", wall.as_secs_f64());
    let throughput = resources as f64 / wall.as_secs_f64();
    println!("throughput:         {throughput:.0} resources/s");
    if let Some(each) = cpu_micros_each(cpu_before, resources) {
        println!("cpu:                {each:.1} µs per resource (server and client, all threads)");
    }
    println!(
        "per-bundle latency: p50 {}  p99 {}  max {}",
        ms(percentile(&latencies, 50.0)),
        ms(percentile(&latencies, 99.0)),
        ms(latencies.last().copied().unwrap_or_default())
    );
    if let Some(mib) = peak_rss_mib() {
        println!("peak resident memory (server and client in one process): {mib:.0} MiB");
    }
    drop(server);
    if failures > 0 {
        Err(format!("{failures} bundle(s) failed"))
    } else {
        Ok(throughput)
    }
}
