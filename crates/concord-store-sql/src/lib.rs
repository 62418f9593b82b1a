//! The search SQL both store backends run: a [`SearchPlan`] becomes SQL text
//! plus bound values. Everything that differs between SQLite and PostgreSQL
//! (placeholders, numeric casts, collation, prefix matching, how an index
//! row finds its resource) is a [`Dialect`] method the backend implements.
//! SQL lives only in the store crates: here and in the two backends.
#![forbid(unsafe_code)]

mod builder;
mod conditions;
mod dialect;
mod matched;
mod select;
mod tables;
mod timeline;

pub use dialect::Dialect;
pub use select::{count_sql, driver_estimate_sql, search_sql, search_sql_with};

/// Index rows counted by [`driver_estimate_sql`] before a search reads in
/// page order instead.
pub const BROAD_DRIVER: usize = 2000;

use concord_store::search::SqlValue;

/// SQL text and the values bound to its placeholders, in order (`?1`/`$1` …).
#[derive(Debug, Clone, PartialEq)]
pub struct Sql {
    pub text: String,
    pub params: Vec<SqlValue>,
}
