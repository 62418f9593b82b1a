//! Accumulates bound values and hands out placeholders and table aliases.

use concord_store::search::SqlValue;

use crate::Dialect;

pub(crate) struct Builder<'d> {
    pub(crate) dialect: &'d dyn Dialect,
    pub(crate) params: Vec<SqlValue>,
    aliases: usize,
    /// Top-level conditions are all probed per row (no driving list).
    pub(crate) scan: bool,
}

impl<'d> Builder<'d> {
    /// A builder whose first bound value (placeholder 1) is the tenant.
    pub(crate) fn new(dialect: &'d dyn Dialect, tenant: &str) -> Builder<'d> {
        Builder {
            dialect,
            params: vec![SqlValue::Text(tenant.to_string())],
            aliases: 0,
            scan: false,
        }
    }

    /// The tenant's placeholder.
    pub(crate) fn tenant(&self) -> String {
        self.dialect.placeholder(1)
    }

    pub(crate) fn bind(&mut self, value: SqlValue) -> String {
        self.params.push(value);
        self.dialect.placeholder(self.params.len())
    }

    pub(crate) fn text(&mut self, value: &str) -> String {
        self.bind(SqlValue::Text(value.to_string()))
    }

    /// A comma-separated list of placeholders for `values`.
    pub(crate) fn text_list<S: AsRef<str>>(&mut self, values: &[S]) -> String {
        values
            .iter()
            .map(|v| self.text(v.as_ref()))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// A fresh alias with the given stem (`i1`, `ref2`, …).
    pub(crate) fn alias(&mut self, stem: &str) -> String {
        self.aliases += 1;
        format!("{stem}{}", self.aliases)
    }

    /// `alias.type = ?` / `alias.type IN (…)`; nothing for every type.
    pub(crate) fn type_filter(&mut self, column: &str, types: &[String]) -> Option<String> {
        match types {
            [] => None,
            [one] => Some(format!("{column} = {}", self.text(one))),
            many => Some(format!("{column} IN ({})", self.text_list(many))),
        }
    }
}

/// Joins predicates with AND (`1 = 1` when there are none).
pub(crate) fn and(parts: Vec<String>) -> String {
    if parts.is_empty() {
        "1 = 1".to_string()
    } else {
        parts.join(" AND ")
    }
}
