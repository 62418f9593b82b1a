//! `concord bench …`: figures, printed. Benchmarks are not tests.

pub mod ingest;
pub mod read;
mod server;
mod stats;
