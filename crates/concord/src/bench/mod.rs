//! `concord bench …`: figures, printed. Benchmarks are not tests.

mod audit_modes;
pub mod chart;
pub mod generate;
mod http1;
pub mod ingest;
pub mod mllp;
pub mod patient_search;
mod population;
pub mod read;
pub mod search;
mod server;
pub mod sqlite_floor;
mod stats;
mod web_bench;
