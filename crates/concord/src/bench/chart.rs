//! `concord bench chart`: the web UI's chart summary of one large record
//! (5,000 observations and 300 encounters by default), rendered by the
//! server for a signed-in physician over HTTP, the production routers on a
//! temporary SQLite database (or PostgreSQL with `--database-url`). Prints
//! where the time goes (the summary's searches) and p50/p95 of the page.
//!
//! The record is synthetic load data (codes are LOINC vital-sign and lab
//! codes; values are arbitrary numbers, not clinical content).

use std::sync::Arc;
use std::time::Instant;

use concord_auth::{AccountKind, Role};
use concord_core::Engine;
use concord_store::TenantContext;
use serde_json::{json, Value};

use super::stats::{ms, percentile};
use super::web_bench::WebBench;
use crate::cli::BenchChartArgs;

const LABS: [(&str, &str, &str); 4] = [
    ("2823-3", "Potassium", "mmol/L"),
    ("2345-7", "Glucose", "mg/dL"),
    ("2160-0", "Creatinine", "mg/dL"),
    ("718-7", "Hemoglobin", "g/dL"),
];

fn when(i: usize) -> String {
    // One item every ~2 days going back from 2026.
    let day = i * 2;
    let year = 2026 - (day / 365) as i64;
    let doy = day % 365;
    format!(
        "{year:04}-{:02}-{:02}T{:02}:00:00Z",
        1 + doy / 31 % 12,
        1 + doy % 28,
        8 + i % 10
    )
}

fn observation(i: usize, patient: &str, encounter: &str) -> Value {
    let subject = json!({"reference": format!("Patient/{patient}")});
    let cat = |c: &str| json!([{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": c}]}]);
    if i % 5 < 2 {
        json!({"resourceType": "Observation", "status": "final", "category": cat("vital-signs"),
            "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}], "text": "Blood pressure"},
            "subject": subject, "encounter": {"reference": encounter}, "effectiveDateTime": when(i),
            "component": [
                {"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]}, "valueQuantity": {"value": 110 + i % 40, "unit": "mmHg", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}},
                {"code": {"coding": [{"system": "http://loinc.org", "code": "8462-4"}]}, "valueQuantity": {"value": 70 + i % 20, "unit": "mmHg", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}}]})
    } else {
        let (code, name, unit) = LABS[i % LABS.len()];
        let mut o = json!({"resourceType": "Observation", "status": "final", "category": cat("laboratory"),
            "code": {"coding": [{"system": "http://loinc.org", "code": code}], "text": name},
            "subject": subject, "effectiveDateTime": when(i),
            "valueQuantity": {"value": 1 + i % 9, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}});
        if i.is_multiple_of(7) {
            o["interpretation"] = json!([{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "code": "H"}]}]);
        }
        o
    }
}

async fn load(engine: &Engine, ctx: &TenantContext, resources: Vec<Value>) -> Result<(), String> {
    for chunk in resources.chunks(500) {
        let entries: Vec<Value> = chunk
            .iter()
            .map(
                |r| json!({"resource": r, "request": {"method": "POST", "url": r["resourceType"]}}),
            )
            .collect();
        let bundle = json!({"resourceType": "Bundle", "type": "transaction", "entry": entries});
        engine
            .process_bundle(ctx, bundle)
            .await
            .map_err(|e| format!("load: {e}"))?;
    }
    Ok(())
}

pub async fn run(args: BenchChartArgs) -> Result<(), String> {
    let bench = WebBench::start(args.database_url.as_deref(), args.keep.as_deref()).await?;
    let (engine, ctx) = (&bench.engine, &bench.ctx);
    let practitioner = engine
        .create(
            ctx,
            "Practitioner",
            json!({"resourceType": "Practitioner", "name": [{"family": "Bench"}]}),
            None,
        )
        .await
        .map_err(|e| e.to_string())?
        .id;
    let patient = engine
        .create(
            ctx,
            "Patient",
            json!({"resourceType": "Patient", "name": [{"family": "Large", "given": ["Record"]}],
            "birthDate": "1950-01-01", "gender": "female",
            "generalPractitioner": [{"reference": format!("Practitioner/{practitioner}")}]}),
            None,
        )
        .await
        .map_err(|e| e.to_string())?
        .id;
    let started = Instant::now();
    let encounters: Vec<Value> = (0..args.encounters)
        .map(|i| {
            json!({"resourceType": "Encounter", "status": "finished",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
            "subject": {"reference": format!("Patient/{patient}")},
            "period": {"start": when(i * 10)}})
        })
        .collect();
    load(engine, ctx, encounters).await?;
    let obs: Vec<Value> = (0..args.observations)
        .map(|i| observation(i, &patient, &format!("Encounter/{}", i % 7)))
        .map(|mut o| {
            if let Some(m) = o.as_object_mut() {
                m.remove("encounter");
            }
            o
        })
        .collect();
    load(engine, ctx, obs).await?;
    println!(
        "bench chart: {} observations and {} encounters loaded in {:.1} s ({})",
        args.observations,
        args.encounters,
        started.elapsed().as_secs_f64(),
        bench.backend
    );
    let session = bench
        .sign_in(
            Role::Physician,
            Some(format!("Practitioner/{practitioner}")),
        )
        .await?;
    let base = &bench.base;
    // Where the time goes: the summary's searches through the engine with
    // the physician's access policy (as the page runs them), and a few
    // variants (date-bounded, unsorted, by code) for comparison.
    println!("engine searches of the summary (p50 of 10 each):");
    let principal = concord_auth::Principal {
        subject: concord_auth::Subject::User {
            id: session.1.clone(),
            kind: AccountKind::Staff(Role::Physician),
        },
        scopes: concord_auth::ScopeSet::parse("user/*.cruds")?,
        client_id: None,
        patient: None,
        encounter: None,
        fhir_user: Some(format!("Practitioner/{practitioner}")),
        token_id: None,
    };
    let policy = concord_core::policy::load(engine, ctx, None, principal)
        .await
        .map_err(|e| e.to_string())?;
    let confined = ctx.clone().with_access(Arc::new(policy));
    let subject = format!("Patient/{patient}");
    for (rtype, query) in [
        ("Condition", "_count=200"),
        ("MedicationRequest", "status=active&_count=100"),
        ("Immunization", "_sort=-date&_count=10"),
        ("Observation", "category=vital-signs&_sort=-date&_count=60"),
        ("Observation", "category=laboratory&_sort=-date&_count=200"),
        ("Encounter", "_sort=-date&_count=5"),
        (
            "Observation",
            "category=laboratory&date=ge2025-06-01&_sort=-date&_count=200",
        ),
        ("Observation", "category=laboratory&_count=200"),
        ("Observation", "_sort=-date&_count=200"),
        ("Observation", "code=2823-3&_sort=-date&_count=50"),
    ] {
        let mut params: Vec<(String, String)> = vec![("patient".into(), subject.clone())];
        params.extend(
            form_urlencoded::parse(query.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())),
        );
        let req = concord_core::SearchRequest {
            resource_type: Some(rtype.into()),
            compartment: None,
            params,
            handling: concord_core::Handling::Strict,
            base_url: String::new(),
        };
        let mut samples = Vec::new();
        for _ in 0..10 {
            let t = Instant::now();
            engine
                .search(&confined, &req)
                .await
                .map_err(|e| e.to_string())?;
            samples.push(t.elapsed());
        }
        samples.sort();
        println!("  {rtype}?{query}: p50 {}", ms(percentile(&samples, 50.0)));
    }
    // The start page costs the session and the access policy only.
    let home_urls: Vec<String> = (0..50).map(|_| format!("{base}/ui/")).collect();
    let (home, _) = bench.time_gets(&home_urls, session.header()).await?;
    println!(
        "start page (session + access policy only, 50 requests): p50 {}, p95 {}",
        ms(percentile(&home, 50.0)),
        ms(percentile(&home, 95.0)),
    );
    let url = format!("{base}/ui/patients/{patient}");
    let urls: Vec<String> = (0..args.requests.max(1)).map(|_| url.clone()).collect();
    // Warm-up.
    bench
        .time_gets(&urls[..urls.len().min(5)], session.header())
        .await?;
    let (samples, size) = bench.time_gets(&urls, session.header()).await?;
    println!(
        "chart summary ({} requests, one at a time, {size} bytes of HTML, {}): p50 {}, p95 {}, max {}  (target p50 ≤ 50 ms)",
        samples.len(),
        bench.backend,
        ms(percentile(&samples, 50.0)),
        ms(percentile(&samples, 95.0)),
        ms(percentile(&samples, 100.0)),
    );
    Ok(())
}
