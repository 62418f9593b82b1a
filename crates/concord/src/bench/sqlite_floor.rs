//! `concord bench sqlite-floor`: what SQLite alone needs to store the rows
//! of a workload. The rows a database holds for its resources (history,
//! ledger, full text, search index, compartments, timeline) are copied
//! into a new database with Concord's schema and writer settings
//! (`concord_store_sqlite::floor`), with as many messages per transaction
//! as asked; the process's CPU time per message is printed. No parsing,
//! mapping, validation or index extraction runs: a server writing the same
//! rows at the same commit size cannot use less.

use std::path::Path;

use concord_store_sqlite::floor::{self, FloorSource};

use crate::bench::stats::process_cpu;
use crate::cli::BenchSqliteFloorArgs;

pub fn run(args: BenchSqliteFloorArgs) -> Result<(), String> {
    let source = floor::survey(&args.from).map_err(|e| e.to_string())?;
    if source.tasks == 0 {
        return Err(format!(
            "{}: no Task resources, so no HL7 v2 messages to count by (use a database kept by `concord bench mllp --keep DIR`)",
            args.from.display()
        ));
    }
    let per_message = source.resources as f64 / source.tasks as f64;
    let total_rows: u64 = source.tables.iter().map(|t| t.rows).sum();
    println!(
        "concord bench sqlite-floor: {} messages ({} resources, {:.1} per message; {total_rows} rows, {:.0} per message) from {}",
        source.tasks,
        source.resources,
        per_message,
        total_rows as f64 / source.tasks as f64,
        args.from.display()
    );
    let dir = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
    println!(
        "  messages per commit   CPU per message (user + system)   one writer's ceiling   rows copied"
    );
    for &messages in &args.messages_per_commit {
        let (cpu, rows) = measure(&args.from, &source, dir.path(), messages, None)?;
        // SQLite has one writer: it stores at most 1 / floor messages a second.
        let ceiling = if cpu > 0.0 {
            format!("{:.0}/s", 1000.0 / cpu)
        } else {
            "-".to_string()
        };
        println!(
            "  {messages:>19}   {:>26.3} ms   {ceiling:>20}   {rows:>11}",
            cpu
        );
        if rows != total_rows {
            return Err(format!("copied {rows} rows of {total_rows}"));
        }
    }
    println!(
        "  per table, {} messages per commit (each table copied alone):",
        args.breakdown
    );
    for table in &source.tables {
        let (cpu, rows) = measure(
            &args.from,
            &source,
            dir.path(),
            args.breakdown,
            Some(&table.name),
        )?;
        println!(
            "    {:<20} {:>8.3} ms per message  ({rows} rows)",
            table.name, cpu
        );
    }
    Ok(())
}

/// Copies into a new file in `dir`; returns the CPU milliseconds per
/// message the copy took and the rows copied.
fn measure(
    src: &Path,
    source: &FloorSource,
    dir: &Path,
    messages_per_commit: u64,
    only: Option<&str>,
) -> Result<(f64, u64), String> {
    let per_commit =
        (messages_per_commit as f64 * source.resources as f64 / source.tasks as f64).round() as i64;
    let dst = dir.join(format!(
        "floor-{messages_per_commit}-{}.db",
        only.unwrap_or("all")
    ));
    let before = process_cpu();
    let rows = floor::replay(src, source, &dst, per_commit, only).map_err(|e| e.to_string())?;
    let cpu = match (before, process_cpu()) {
        (Some(b), Some(a)) => a.saturating_sub(b).as_secs_f64() * 1000.0 / source.tasks as f64,
        _ => f64::NAN,
    };
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", dst.display()));
    }
    Ok((cpu, rows))
}
