//! `concord bench patient-search`: 100,000 generated patients (Patient
//! resources only, from `concord-synth`: names, birth dates, MRNs and phones
//! as the demo population has them), then the web UI's patient search
//! (`/ui/patients?name=…`, `birthdate=`, `mrn=`, `phone=`) for a signed-in
//! front-desk user and a physician, and the same searches on the FHIR API
//! with an operator token. Prints p50/p95 per query kind (target: p50 ≤ 20 ms).
//! The physician is one of the directory's, general practitioner of about a
//! fifth of the patients: the care-team rule confines their search.

use std::time::{Duration, Instant};

use concord_auth::Role;
use concord_store::TenantContext;
use serde_json::{json, Value};

use super::stats::{ms, percentile};
use super::web_bench::WebBench;
use crate::cli::BenchPatientSearchArgs;
use crate::generate::generator;

/// Patients per transaction while loading.
const CHUNK: usize = 1000;

fn put(resource: Value) -> Value {
    let url = format!(
        "{}/{}",
        resource["resourceType"].as_str().unwrap_or(""),
        resource["id"].as_str().unwrap_or("")
    );
    json!({"resource": resource, "request": {"method": "PUT", "url": url}})
}

async fn present(bench: &WebBench, ctx: &TenantContext) -> Result<usize, String> {
    let counts = bench
        .engine
        .store()
        .count_by_type(ctx)
        .await
        .map_err(|e| e.to_string())?;
    Ok(counts
        .iter()
        .find(|(t, _)| t == "Patient")
        .map_or(0, |(_, n)| *n as usize))
}

/// The text of `path` in a Patient (`name.0.family`-like, arrays by index).
fn at<'a>(p: &'a Value, path: &[&str]) -> &'a str {
    let mut v = p;
    for k in path {
        v = match k.parse::<usize>() {
            Ok(i) => &v[i],
            Err(_) => &v[*k],
        };
    }
    v.as_str().unwrap_or("")
}

pub async fn run(args: BenchPatientSearchArgs) -> Result<(), String> {
    let bench = WebBench::start(args.database_url.as_deref(), args.keep.as_deref()).await?;
    let ctx = &bench.ctx;
    let g = generator(1, Some("2026-01-01".into()))?;
    let have = present(&bench, ctx).await?;
    if have < args.patients {
        let started = Instant::now();
        bench
            .engine
            .process_bundle(ctx, g.directory_bundle())
            .await
            .map_err(|e| format!("directory: {e}"))?;
        let mut next = have;
        while next < args.patients {
            let end = (next + CHUNK).min(args.patients);
            let entries: Vec<Value> = (next..end).map(|i| put(g.patient_only(i as u64))).collect();
            let bundle = json!({"resourceType": "Bundle", "type": "transaction", "entry": entries});
            bench
                .engine
                .process_bundle(ctx, bundle)
                .await
                .map_err(|e| format!("patients {next}..{end}: {e}"))?;
            next = end;
        }
        let secs = started.elapsed().as_secs_f64();
        println!(
            "bench patient-search: {} patients loaded in {secs:.1} s ({:.0}/s, {})",
            args.patients - have,
            (args.patients - have) as f64 / secs.max(1e-9),
            bench.backend
        );
    }
    println!(
        "bench patient-search: {} patients, {}",
        present(&bench, ctx).await?,
        bench.backend
    );
    // Criteria taken from patients spread over the population.
    let n = args.requests.max(1);
    let sample: Vec<Value> = (0..n)
        .map(|k| g.patient_only(((k * 7919) % args.patients.max(1)) as u64))
        .collect();
    let family = |p: &Value| at(p, &["name", "0", "family"]).to_string();
    let prefix = |p: &Value| family(p).chars().take(3).collect::<String>();
    let birth = |p: &Value| at(p, &["birthDate"]).to_string();
    let mrn = |p: &Value| at(p, &["identifier", "0", "value"]).to_string();
    let phone = |p: &Value| at(p, &["telecom", "0", "value"]).to_string();
    type Kind<'a> = (
        &'a str,
        &'a str,
        &'a str,
        Box<dyn Fn(&Value) -> String + 'a>,
    );
    let kinds: Vec<Kind> = vec![
        ("name (family)", "name", "name", Box::new(family)),
        ("name (3-letter prefix)", "name", "name", Box::new(prefix)),
        ("birth date", "birthdate", "birthdate", Box::new(birth)),
        ("MRN", "mrn", "identifier", Box::new(mrn)),
        ("phone", "phone", "phone", Box::new(phone)),
    ];
    let base = &bench.base;
    let desk = bench.sign_in(Role::FrontDesk, None).await?;
    // A physician of the first provider: the general practitioner of
    // thousands of the loaded patients, so the care-team rule confines the
    // search to a large set (the policy keeps at most 5,000 of them).
    let pcp = g
        .directory()
        .staff_of(0, concord_synth::StaffRole::Physician)
        .first()
        .map(|s| format!("Practitioner/{}", s.id))
        .ok_or("the directory has no physician")?;
    let physician = bench.sign_in(Role::Physician, Some(pcp)).await?;
    let token = bench
        .auth
        .operator_token(base, "bench", "system/Patient.rs")
        .await
        .map_err(|e| e.to_string())?;
    let bearer = ("authorization", format!("Bearer {token}"));
    println!(
        "{:<44} {:>10} {:>10} {:>12}",
        "query (one request at a time)", "p50", "p95", "bytes (last)"
    );
    let report = |label: String, (lat, size): (Vec<Duration>, usize)| {
        println!(
            "{label:<44} {:>10} {:>10} {size:>12}",
            ms(percentile(&lat, 50.0)),
            ms(percentile(&lat, 95.0)),
        );
    };
    for (label, ui, api, value) in &kinds {
        let values: Vec<String> = sample.iter().map(value.as_ref()).collect();
        let enc = |v: &str| form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
        let ui_urls: Vec<String> = values
            .iter()
            .map(|v| format!("{base}/ui/patients?{ui}={}", enc(v)))
            .collect();
        let api_urls: Vec<String> = values
            .iter()
            .map(|v| format!("{base}/Patient?{api}={}&_count=50", enc(v)))
            .collect();
        // Warm-up: the first few of each.
        let warm = &ui_urls[..ui_urls.len().min(5)];
        bench.time_gets(warm, desk.header()).await?;
        report(
            format!("UI front desk: {label}"),
            bench.time_gets(&ui_urls, desk.header()).await?,
        );
        if *ui == "name" {
            report(
                format!("UI physician (care team): {label}"),
                bench.time_gets(&ui_urls, physician.header()).await?,
            );
        }
        report(
            format!("FHIR API: Patient?{api}=…&_count=50"),
            bench.time_gets(&api_urls, bearer.clone()).await?,
        );
    }
    println!("target: p50 ≤ 20 ms with 100,000 patients");
    Ok(())
}
