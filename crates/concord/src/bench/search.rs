//! `concord bench search`: load a synthetic population (about 21 resources
//! per patient; 48,000 patients ≈ 1,000,000 resources) through the normal
//! write path with every search parameter indexed, then run the issue's
//! reference queries over HTTP for a fixed time each and print requests/s
//! and p50/p99. `--data-dir` keeps the database between runs, so the load
//! happens once.

use std::time::{Duration, Instant};

use concord_core::{Handling, SearchRequest};
use concord_store::{Actor, TenantContext};
use futures::StreamExt;

use super::http1;
use super::population::{patient_bundle, HBA1C, SURNAMES};
use super::server::BenchServer;
use super::stats::{ms, peak_rss_mib, percentile};
use crate::cli::BenchSearchArgs;

/// Makes the i-th request path of a query.
type PathMaker = Box<dyn Fn(usize) -> String>;

pub async fn run(args: BenchSearchArgs) -> Result<(), String> {
    let server =
        BenchServer::start_at(args.database_url.as_deref(), args.data_dir.as_deref()).await?;
    let ctx = TenantContext::new(
        server.tenant.clone(),
        Actor::Operator("bench".into()),
        "bench-search",
    );
    let have = count(&server, &ctx, "Patient").await?;
    println!(
        "bench search: storage {}, {have} patients present, {} wanted",
        server.backend, args.patients
    );
    if have < args.patients {
        load(&server, &ctx, have, args.patients, args.jobs).await?;
    }
    let total: u64 = server
        .engine
        .store()
        .count_by_type(&ctx)
        .await
        .map_err(|e| e.to_string())?
        .iter()
        .map(|(_, n)| n)
        .sum();
    println!("resources stored: {total}");

    let patients = sample_patients(&server, &ctx).await?;
    let queries: Vec<(&str, PathMaker)> = vec![
        (
            "Patient?name=",
            Box::new(|i| {
                format!(
                    "/Patient?name={}",
                    SURNAMES[i % SURNAMES.len()].to_lowercase()
                )
            }),
        ),
        (
            "Patient?birthdate=ge…",
            Box::new(|i| format!("/Patient?birthdate=ge{}-01-01", 1930 + i % 90)),
        ),
        ("Observation?patient=X&code=…&_sort=-date&_count=10", {
            let p = patients.clone();
            Box::new(move |i| {
                format!(
                    "/Observation?patient=Patient/{}&code=http://loinc.org|8867-4&_sort=-date&_count=10",
                    p[i % p.len()]
                )
            })
        }),
        (
            "Observation?code=…&value-quantity=gt…",
            Box::new(|i| {
                format!(
                    "/Observation?code=http://loinc.org|8480-6&value-quantity=gt{}",
                    150 + i % 40
                )
            }),
        ),
        (
            "Encounter?patient.name=…",
            Box::new(|i| {
                format!(
                    "/Encounter?patient.name={}",
                    SURNAMES[i % SURNAMES.len()].to_lowercase()
                )
            }),
        ),
        (
            "Patient?_has:Observation:patient:code=…",
            Box::new(|_| {
                format!("/Patient?_has:Observation:patient:code=http://loinc.org|{HBA1C}")
            }),
        ),
        ("Patient/$everything", {
            let p = patients.clone();
            Box::new(move |i| format!("/Patient/{}/$everything", p[i % p.len()]))
        }),
    ];
    println!(
        "{:<52} {:>9} {:>9} {:>9} {:>8}",
        "query", "req/s", "p50", "p99", "errors"
    );
    let addr = server.base.trim_start_matches("http://").to_string();
    let wanted = |label: &str| args.only.as_deref().is_none_or(|o| label.contains(o));
    for (label, make) in queries.iter().filter(|(label, _)| wanted(label)) {
        let paths: Vec<String> = (0..1000).map(make).collect();
        let (lat, errors, wall) = measure(&addr, &paths, args.connections, args.seconds).await?;
        println!(
            "{:<52} {:>9.0} {:>9} {:>9} {:>8}",
            label,
            lat.len() as f64 / wall.as_secs_f64(),
            ms(percentile(&lat, 50.0)),
            ms(percentile(&lat, 99.0)),
            errors
        );
    }
    if let Some(mib) = peak_rss_mib() {
        println!("peak resident memory: {mib:.0} MiB");
    }
    Ok(())
}

async fn count(server: &BenchServer, ctx: &TenantContext, rt: &str) -> Result<usize, String> {
    Ok(server
        .engine
        .store()
        .count_by_type(ctx)
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .find(|(t, _)| t == rt)
        .map_or(0, |(_, n)| n as usize))
}

/// Loads patients `from..to` as transactions, `jobs` at a time; prints the rate.
async fn load(
    server: &BenchServer,
    ctx: &TenantContext,
    from: usize,
    to: usize,
    jobs: usize,
) -> Result<(), String> {
    let started = Instant::now();
    let mut loaded = 0usize;
    let mut results = futures::stream::iter(from..to)
        .map(|n| {
            let engine = server.engine.clone();
            let ctx = ctx.clone();
            async move {
                let bundle = patient_bundle(n as u64);
                let size = bundle["entry"].as_array().map_or(0, Vec::len);
                engine
                    .process_bundle(&ctx, bundle)
                    .await
                    .map(|_| size)
                    .map_err(|e| format!("patient {n}: {e}"))
            }
        })
        .buffer_unordered(jobs.max(1));
    let mut last_report = Instant::now();
    while let Some(r) = results.next().await {
        loaded += r?;
        if last_report.elapsed() > Duration::from_secs(10) {
            last_report = Instant::now();
            println!(
                "  loaded {loaded} resources, {:.0}/s",
                loaded as f64 / started.elapsed().as_secs_f64()
            );
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "ingest (in-process transactions, every search parameter indexed): {loaded} resources in {secs:.0} s = {:.0} resources/s",
        loaded as f64 / secs
    );
    server
        .engine
        .store()
        .refresh_statistics()
        .await
        .map_err(|e| e.to_string())
}

async fn sample_patients(server: &BenchServer, ctx: &TenantContext) -> Result<Vec<String>, String> {
    let req = SearchRequest {
        resource_type: Some("Patient".into()),
        compartment: None,
        params: vec![("_count".into(), "500".into())],
        handling: Handling::Strict,
        base_url: String::new(),
    };
    let out = server
        .engine
        .search(ctx, &req)
        .await
        .map_err(|e| e.to_string())?;
    let ids: Vec<String> = out.matches.into_iter().map(|v| v.id).collect();
    if ids.is_empty() {
        return Err("no patients to query".into());
    }
    Ok(ids)
}

/// Runs `paths` round-robin on `connections` keep-alive connections for
/// `seconds`; returns sorted latencies, errors and wall time.
async fn measure(
    addr: &str,
    paths: &[String],
    connections: usize,
    seconds: u64,
) -> Result<(Vec<Duration>, usize, Duration), String> {
    let deadline = Instant::now() + Duration::from_secs(seconds.max(1));
    let mut workers = Vec::new();
    for w in 0..connections.max(1) {
        let mut conn = http1::Connection::open(addr, None).await?;
        let paths = paths.to_vec();
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0usize;
            let mut i = w * 389;
            while Instant::now() < deadline {
                let path = &paths[i % paths.len()];
                i += 1;
                let t0 = Instant::now();
                match conn.get(path).await {
                    Ok((200, _)) => latencies.push(t0.elapsed()),
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
    let mut all = Vec::new();
    let mut errors = 0;
    for w in workers {
        let (l, e) = w.await.map_err(|e| e.to_string())?;
        all.extend(l);
        errors += e;
    }
    let wall = started.elapsed();
    all.sort();
    Ok((all, errors, wall))
}
