//! `--audit on|off|compare` and `--auth on|off` for the throughput
//! benchmarks: one measurement in the setup asked for, or (`--audit
//! compare`) three — neither authorization nor audit, audit only, and
//! authorization with audit — and the overhead of each over the first.

use std::future::Future;

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

    pub fn describe(self) -> &'static str {
        match (self.auth, self.audit) {
            (false, false) => "authorization off, audit off (baseline)",
            (false, true) => "authorization off, audit on",
            (true, false) => "authorization on, audit off",
            (true, true) => "authorization on, audit on (as served)",
        }
    }
}

/// Runs `once(setup)` as the flags ask; `unit` labels its figure
/// (`resources/s`, `reads/s`).
pub async fn run<F, Fut>(
    audit: AuditBench,
    auth: AuthBench,
    unit: &str,
    mut once: F,
) -> Result<(), String>
where
    F: FnMut(Setup) -> Fut,
    Fut: Future<Output = Result<f64, String>>,
{
    let auth_on = auth == AuthBench::On;
    match audit {
        AuditBench::On => once(Setup {
            audit: true,
            auth: auth_on,
        })
        .await
        .map(|_| ()),
        AuditBench::Off => once(Setup {
            audit: false,
            auth: auth_on,
        })
        .await
        .map(|_| ()),
        AuditBench::Compare => {
            let setups = [
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
            let mut figures = Vec::new();
            for setup in setups {
                figures.push((setup, once(setup).await?));
            }
            let base = figures[0].1;
            println!(
                "overhead over {:.0} {unit} without authorization and audit:",
                base
            );
            for (setup, figure) in &figures[1..] {
                println!(
                    "  {:<40} {figure:.0} {unit}  {:+.1}%",
                    setup.describe(),
                    (figure - base) / base * 100.0
                );
            }
            Ok(())
        }
    }
}
