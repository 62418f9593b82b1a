//! `--audit on|off|compare` for the throughput benchmarks: one measurement
//! with or without audit records, or both and the difference.

use std::future::Future;

use crate::cli::AuditBench;

/// Runs `once(audited)` as `mode` asks; `unit` labels its figure
/// (`resources/s`, `reads/s`).
pub async fn run<F, Fut>(mode: AuditBench, unit: &str, mut once: F) -> Result<(), String>
where
    F: FnMut(bool) -> Fut,
    Fut: Future<Output = Result<f64, String>>,
{
    match mode {
        AuditBench::On => once(true).await.map(|_| ()),
        AuditBench::Off => once(false).await.map(|_| ()),
        AuditBench::Compare => {
            let off = once(false).await?;
            let on = once(true).await?;
            println!(
                "audit overhead: {off:.0} {unit} without audit records, {on:.0} with: {:+.1}%",
                (on - off) / off * 100.0
            );
            Ok(())
        }
    }
}
