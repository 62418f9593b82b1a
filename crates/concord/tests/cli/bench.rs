//! `concord bench read --audit compare`: each setup in a process of its
//! own, rounds in rotating order, medians compared.

use std::process::Command;

use super::{succeeded, BIN};

#[test]
fn audit_compare_runs_each_setup_in_its_own_process() {
    let out = Command::new(BIN)
        .args([
            "bench",
            "read",
            "--audit",
            "compare",
            "--rounds",
            "2",
            "--seconds",
            "1",
            "--resources",
            "20",
            "--connections",
            "2",
        ])
        .env("CONCORD_LOG", "warn")
        .output()
        .unwrap();
    let text = succeeded(&out);
    for setup in [
        "authorization off, audit off (baseline)",
        "authorization off, audit on",
        "authorization on, audit on (as served)",
    ] {
        for round in ["round 1:", "round 2:"] {
            assert!(
                text.lines()
                    .any(|l| l.starts_with(round) && l.contains(setup)),
                "{round} {setup}: {text}"
            );
        }
    }
    assert!(text.contains("medians of 2 round(s)"), "{text}");
    // Both compared setups get a figure and a percentage.
    let overheads = text
        .lines()
        .filter(|l| l.contains(" reads/s  ") && l.trim_end().ends_with('%'))
        .count();
    assert_eq!(overheads, 2, "{text}");
}

/// `concord bench mllp`: ORU^R01 over real MLLP sockets into a kept
/// database; every message acknowledged AA, with rate, latency and CPU per
/// message printed. Then `concord bench sqlite-floor` copies that
/// database's per-resource rows at each commit size asked, all of them
/// each time, and prints a figure per size and per table.
#[test]
fn mllp_bench_acknowledges_every_message_and_its_rows_give_the_storage_floor() {
    let dir = tempfile::tempdir().unwrap();
    let kept = dir.path().join("kept");
    let out = Command::new(BIN)
        .args([
            "bench",
            "mllp",
            "--messages",
            "40",
            "--connections",
            "4",
            "--keep",
        ])
        .arg(&kept)
        .env("CONCORD_LOG", "warn")
        .env_remove("CONCORD_DATABASE_URL")
        .output()
        .unwrap();
    let text = succeeded(&out);
    let rate = text
        .lines()
        .find(|l| l.contains(" ORU^R01/s ("))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(rate.contains("(40 messages in "), "{text}");
    assert!(rate.trim_end().ends_with(", 0 not AA"), "{text}");
    assert!(text.contains("latency p50 "), "{text}");
    let cpu = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("CPU "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|ms| ms.parse::<f64>().ok())
        .unwrap_or_else(|| panic!("no CPU line: {text}"));
    assert!(cpu > 0.0, "{text}");

    let db = kept.join("concord.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(
        count("SELECT COUNT(*) FROM resources WHERE type = 'DiagnosticReport'"),
        40
    );
    let mut rows = 0;
    for table in [
        "resources",
        "resource_history",
        "ledger",
        "fulltext",
        "idx_token",
        "idx_string",
        "idx_date",
        "idx_reference",
        "idx_quantity",
        "idx_number",
        "idx_uri",
        "idx_composite",
        "compartment",
        "patient_timeline",
    ] {
        rows += count(&format!("SELECT COUNT(*) FROM {table}"));
    }
    drop(conn);
    let out = Command::new(BIN)
        .args([
            "bench",
            "sqlite-floor",
            "--messages-per-commit",
            "1,8",
            "--breakdown",
            "4",
            "--from",
        ])
        .arg(&db)
        .env("CONCORD_LOG", "warn")
        .output()
        .unwrap();
    let text = succeeded(&out);
    // 40 results and the registration message: 41 Tasks.
    assert!(text.contains(": 41 messages ("), "{text}");
    assert!(text.contains(&format!("; {rows} rows, ")), "{text}");
    for size in ["1", "8"] {
        let line = text
            .lines()
            .find(|l| l.split_whitespace().next() == Some(size))
            .unwrap_or_else(|| panic!("no line for {size}: {text}"));
        assert!(line.trim_end().ends_with(&format!(" {rows}")), "{line}");
        assert!(line.contains(" ms "), "{line}");
    }
    for table in ["idx_reference", "resource_history", "fulltext"] {
        assert!(
            text.lines()
                .any(|l| l.trim_start().starts_with(table) && l.contains(" ms per message")),
            "{table}: {text}"
        );
    }
    // A database without HL7 v2 messages has nothing to count by.
    let empty = dir.path().join("empty");
    let out = Command::new(BIN)
        .args(["migrate", "--data-dir"])
        .arg(&empty)
        .env("CONCORD_LOG", "warn")
        .env_remove("CONCORD_DATABASE_URL")
        .output()
        .unwrap();
    succeeded(&out);
    let out = Command::new(BIN)
        .args(["bench", "sqlite-floor", "--from"])
        .arg(empty.join("concord.db"))
        .env("CONCORD_LOG", "warn")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no Task resources"), "{err}");
}
