//! The generator's output: valid for Concord's validator, loadable through
//! the engine's transaction path, deterministic, and with the variety the
//! demo and the clinician workspace rely on.

mod load;
mod population;

use concord_synth::{Config, Generator};
use serde_json::Value;

pub const REFERENCE_DATE: &str = "2026-11-26";

pub fn generator(seed: u64) -> Generator {
    Generator::new(&Config {
        seed,
        reference_date: REFERENCE_DATE.into(),
    })
    .expect("generator")
}

/// Every resource of a Bundle's entries.
pub fn resources(bundle: &Value) -> impl Iterator<Item = &Value> {
    bundle["entry"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| &e["resource"])
}
