//! The generated search SQL of representative queries in SQLite's dialect,
//! pinned by snapshots (`src/snapshots/`). The cases are shared with the
//! other backend: `concord-store-sql/testdata/sql_snapshots.rs`.

use super::dialect::DIALECT;

include!("../../concord-store-sql/testdata/sql_snapshots.rs");
