//! `TestApp::spawn()` starts the production router on 127.0.0.1:0 over a fresh
//! temporary database, so API tests exercise exactly what `concord serve` runs.
//! The backend is SQLite unless `CONCORD_TEST_BACKEND=postgres` (then
//! `CONCORD_TEST_POSTGRES_URL` names the server).
#![forbid(unsafe_code)]

mod app;
mod corpora;

pub use app::TestApp;
pub use corpora::{r4_examples_dir, shared_corpus};
