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
        .env("RUST_LOG", "warn")
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

/// `concord bench mllp`: ORU^R01 over real MLLP sockets into a temporary
/// database; every message acknowledged AA, with rate, latency and CPU per
/// message printed.
#[test]
fn mllp_bench_acknowledges_every_message_and_prints_its_figures() {
    let out = Command::new(BIN)
        .args(["bench", "mllp", "--messages", "40", "--connections", "4"])
        .env("RUST_LOG", "warn")
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
}
