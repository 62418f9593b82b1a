//! `concord bench …`: figures, printed. Benchmarks are not tests.

mod http1;
pub mod ingest;
pub mod mllp;
pub mod read;
mod server;
mod stats;
