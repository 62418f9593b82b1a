//! `--audit on|off|compare` and `--auth on|off` for the throughput
//! benchmarks: one measurement in the setup asked for, or (`--audit
//! compare`) three — neither authorization nor audit, audit only, and
//! authorization with audit — and the overhead of each over the first.
//!
//! Compared setups run in processes of their own (this program again, told
//! its one setup by [`SETUP_ENV`]), `--rounds` times in rotating order, and
//! their medians are compared: run one after another in one process, the
//! later setups ran after servers that had come and gone, and measured
//! several points worse than the same setup alone.

use std::future::Future;
use std::process::{Command, Stdio};

use crate::cli::{AuditBench, AuthBench};

/// What a measurement runs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setup {
    /// Audit records written (as served) or dropped (baseline only).
    pub audit: bool,
    /// Every request carries a bearer token that the real guard checks.
    pub auth: bool,
}

impl Setup {
    /// Anonymous requests, audited: what the other benchmarks run.
    pub const AUDIT_ONLY: Setup = Setup {
        audit: true,
        auth: false,
    };

    /// The value of [`SETUP_ENV`] that asks a child process for this setup.
    fn env_value(self) -> String {
        let on = |b: bool| if b { "on" } else { "off" };
        format!("audit={},auth={}", on(self.audit), on(self.auth))
    }

    fn from_env_value(value: &str) -> Option<Setup> {
        [false, true]
            .into_iter()
            .flat_map(|audit| [false, true].map(|auth| Setup { audit, auth }))
            .find(|s| s.env_value() == value)
    }

    pub fn describe(self) -> &'static str {
        match (self.auth, self.audit) {
            (false, false) => "authorization off, audit off (baseline)",
            (false, true) => "authorization off, audit on",
            (true, false) => "authorization on, audit off",
            (true, true) => "authorization on, audit on (as served)",
        }
    }
}

/// Set in a child process of `--audit compare`: the one setup it measures.
pub const SETUP_ENV: &str = "CONCORD_BENCH_SETUP";

/// What `--audit compare` measures, the baseline first.
const COMPARED: [Setup; 3] = [
    Setup {
        audit: false,
        auth: false,
    },
    Setup {
        audit: true,
        auth: false,
    },
    Setup {
        audit: true,
        auth: true,
    },
];

/// Runs `once(setup)` as the flags ask; `unit` labels its figure
/// (`resources/s`, `reads/s`), which `once` prints on a `throughput:` line.
pub async fn run<F, Fut>(
    audit: AuditBench,
    auth: AuthBench,
    rounds: usize,
    unit: &str,
    mut once: F,
) -> Result<(), String>
where
    F: FnMut(Setup) -> Fut,
    Fut: Future<Output = Result<f64, String>>,
{
    if let Ok(value) = std::env::var(SETUP_ENV) {
        let setup = Setup::from_env_value(&value)
            .ok_or_else(|| format!("{SETUP_ENV}={value} is not a benchmark setup"))?;
        return once(setup).await.map(|_| ());
    }
    if audit == AuditBench::Compare {
        return compare(rounds.max(1), unit);
    }
    let setup = Setup {
        audit: audit == AuditBench::On,
        auth: auth == AuthBench::On,
    };
    once(setup).await.map(|_| ())
}

/// `rounds` rounds of the three setups, each in a child process.
fn compare(rounds: usize, unit: &str) -> Result<(), String> {
    let mut figures: Vec<Vec<f64>> = vec![Vec::new(); COMPARED.len()];
    let mut cpus: Vec<Vec<f64>> = vec![Vec::new(); COMPARED.len()];
    for round in 0..rounds {
        for k in 0..COMPARED.len() {
            let i = (k + round) % COMPARED.len();
            let (figure, cpu) = child(COMPARED[i])?;
            let cpu_text = cpu
                .map(|c| format!(", {c:.1} µs CPU each"))
                .unwrap_or_default();
            println!(
                "round {}: {:<40} {figure:.0} {unit}{cpu_text}",
                round + 1,
                COMPARED[i].describe()
            );
            figures[i].push(figure);
            cpus[i].extend(cpu);
        }
    }
    let medians: Vec<f64> = figures.iter_mut().map(|f| median(f)).collect();
    let base = medians[0];
    println!(
        "overhead over {base:.0} {unit} without authorization and audit \
         (medians of {rounds} round(s), each setup in a process of its own):"
    );
    for (setup, figure) in COMPARED.iter().zip(&medians).skip(1) {
        println!(
            "  {:<40} {figure:.0} {unit}  {:+.1}%",
            setup.describe(),
            (figure - base) / base * 100.0
        );
    }
    // CPU time per unit of work is steadier than throughput on a shared
    // machine (time other processes take is not counted).
    if cpus.iter().all(|c| c.len() == rounds) {
        let cpu: Vec<f64> = cpus.iter_mut().map(|c| median(c)).collect();
        println!(
            "CPU time per unit over {:.1} µs without authorization and audit (medians):",
            cpu[0]
        );
        for (setup, c) in COMPARED.iter().zip(&cpu).skip(1) {
            println!(
                "  {:<40} {c:.1} µs  {:+.1}%",
                setup.describe(),
                (c - cpu[0]) / cpu[0] * 100.0
            );
        }
    }
    Ok(())
}

/// Runs this benchmark again in a child process for `setup`; returns its
/// figure and, when it prints one, its CPU time per unit in µs.
fn child(setup: Setup) -> Result<(f64, Option<f64>), String> {
    let exe = std::env::current_exe().map_err(|e| format!("this program's path: {e}"))?;
    let out = Command::new(exe)
        .args(std::env::args_os().skip(1))
        .env(SETUP_ENV, setup.env_value())
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("starting a benchmark process: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "the benchmark process for '{}' failed: {}",
            setup.describe(),
            text.trim()
        ));
    }
    let figure = throughput(&text).ok_or_else(|| {
        format!(
            "the benchmark process for '{}' printed no throughput: {}",
            setup.describe(),
            text.trim()
        )
    })?;
    Ok((figure, line_figure(&text, "cpu:")))
}

/// The figure of a `throughput: N unit` line.
fn throughput(output: &str) -> Option<f64> {
    line_figure(output, "throughput:")
}

/// The number after `label` on the first line that starts with it.
fn line_figure(output: &str, label: &str) -> Option<f64> {
    output.lines().find_map(|l| {
        l.trim_start()
            .strip_prefix(label)?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    })
}

fn median(figures: &mut [f64]) -> f64 {
    figures.sort_by(f64::total_cmp);
    match figures.len() {
        0 => 0.0,
        n if n % 2 == 1 => figures[n / 2],
        n => (figures[n / 2 - 1] + figures[n / 2]) / 2.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setups_travel_to_child_processes_and_back() {
        for setup in COMPARED {
            assert_eq!(Setup::from_env_value(&setup.env_value()), Some(setup));
        }
        assert_eq!(Setup::from_env_value("audit=maybe"), None);
    }

    #[test]
    fn the_throughput_line_gives_the_figure_and_medians_are_middles() {
        let out =
            "bench read: 1000 Patients\nrequests: 5 ok\nthroughput:         2038 resources/s\n";
        assert_eq!(throughput(out), Some(2038.0));
        assert_eq!(throughput("no figure here"), None);
        let read = "throughput: 17000 reads/s\ncpu:        101.5 µs per read\n";
        assert_eq!(line_figure(read, "cpu:"), Some(101.5));
        assert_eq!(line_figure(out, "cpu:"), None);
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}
