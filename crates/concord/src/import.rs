//! `concord import PATH`: Bundles (transaction, batch, or any other type as a
//! list of resources), single resources and NDJSON, through the normal write path.

use std::path::{Path, PathBuf};

use concord_core::{BundleKind, CoreError, Engine};
use concord_store::{Actor, TenantContext, DEFAULT_TENANT};
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;

use crate::cli::ImportArgs;
use crate::storage;

/// What one file contributed.
#[derive(Debug, Default)]
pub struct FileReport {
    pub resources: usize,
    pub errors: Vec<String>,
}

pub async fn run(args: ImportArgs) -> Result<(), String> {
    let (store, description) = storage::open(&args.storage).await?;
    let engine = Engine::new(store);
    let files = collect_files(&args.path)?;
    if files.is_empty() {
        return Err(format!(
            "no .json or .ndjson files under {}",
            args.path.display()
        ));
    }
    eprintln!("importing {} file(s) into {description}", files.len());
    let bar = ProgressBar::new(files.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} files  {msg}  [{elapsed_precise}]")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let ctx = TenantContext::new(DEFAULT_TENANT, Actor::Operator("cli".into()), "import");
    let mut reports = futures::stream::iter(files.iter())
        .map(|path| {
            let engine = engine.clone();
            let ctx = ctx.clone();
            async move { (path, import_file(&engine, &ctx, path).await) }
        })
        .buffer_unordered(args.jobs.max(1));
    let (mut resources, mut failed_files) = (0usize, 0usize);
    while let Some((path, report)) = reports.next().await {
        resources += report.resources;
        if !report.errors.is_empty() {
            failed_files += 1;
            for e in report.errors.iter().take(5) {
                bar.println(format!("{}: {e}", path.display()));
            }
        }
        bar.set_message(format!("{resources} resources"));
        bar.inc(1);
    }
    bar.finish_and_clear();
    // A cost-based planner (PostgreSQL) should know the new rows before the
    // first searches; a failure here costs speed, not data.
    if let Err(e) = engine.store().refresh_statistics().await {
        eprintln!("planner statistics not refreshed: {e}");
    }
    println!(
        "imported {resources} resources from {} file(s); {failed_files} file(s) had errors",
        files.len()
    );
    if failed_files > 0 {
        Err(format!(
            "{failed_files} file(s) could not be fully imported"
        ))
    } else {
        Ok(())
    }
}

/// Every .json / .ndjson file under `path` (or `path` itself), sorted.
pub fn collect_files(path: &Path) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if meta.is_file() {
        out.push(path.to_path_buf());
        return Ok(out);
    }
    let mut stack = vec![path.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for entry in entries.flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("json" | "ndjson")
            ) {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

fn describe(e: &CoreError) -> String {
    e.issues()
        .iter()
        .map(|i| match i.expression.first() {
            Some(at) => format!("{} ({at})", i.diagnostics),
            None => i.diagnostics.clone(),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

pub async fn import_file(engine: &Engine, ctx: &TenantContext, path: &Path) -> FileReport {
    let mut report = FileReport::default();
    let text = match tokio::fs::read(path).await {
        Ok(t) => t,
        Err(e) => {
            report.errors.push(format!("cannot read: {e}"));
            return report;
        }
    };
    if path.extension().and_then(|e| e.to_str()) == Some("ndjson") {
        for (n, line) in text.split(|b| *b == b'\n').enumerate() {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match serde_json::from_slice::<Value>(line) {
                Ok(resource) => import_resource(engine, ctx, resource, &mut report).await,
                Err(e) => report.errors.push(format!("line {}: not JSON: {e}", n + 1)),
            }
        }
        return report;
    }
    let value: Value = match serde_json::from_slice(&text) {
        Ok(v) => v,
        Err(e) => {
            report.errors.push(format!("not JSON: {e}"));
            return report;
        }
    };
    let bundle_type = value.get("type").and_then(Value::as_str);
    let is_bundle = value.get("resourceType").and_then(Value::as_str) == Some("Bundle");
    if is_bundle && matches!(bundle_type, Some("transaction" | "batch")) {
        match engine.process_bundle(ctx, value).await {
            Ok((kind, results)) => {
                for r in results {
                    match r {
                        Ok(_) => report.resources += 1,
                        Err(e) => report.errors.push(describe(&e)),
                    }
                }
                if kind == BundleKind::Transaction {
                    tracing::debug!(entries = report.resources, "transaction imported");
                }
            }
            Err(e) => report.errors.push(describe(&e)),
        }
    } else if is_bundle && bundle_type != Some("document") && bundle_type != Some("message") {
        let entries = value
            .get("entry")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for entry in entries {
            if let Some(resource) = entry.get("resource").cloned() {
                import_resource(engine, ctx, resource, &mut report).await;
            }
        }
    } else {
        import_resource(engine, ctx, value, &mut report).await;
    }
    report
}

async fn import_resource(
    engine: &Engine,
    ctx: &TenantContext,
    resource: Value,
    report: &mut FileReport,
) {
    let Some(rt) = resource
        .get("resourceType")
        .and_then(Value::as_str)
        .map(str::to_string)
    else {
        report.errors.push("a resource without resourceType".into());
        return;
    };
    let id = resource
        .get("id")
        .and_then(Value::as_str)
        .filter(|id| concord_fhir::ids::is_valid_id(id))
        .map(str::to_string);
    let result = match id {
        Some(id) => engine.update(ctx, &rt, &id, resource, None).await,
        None => engine.create(ctx, &rt, resource, None).await,
    };
    match result {
        Ok(_) => report.resources += 1,
        Err(e) => report.errors.push(format!("{rt}: {}", describe(&e))),
    }
}
