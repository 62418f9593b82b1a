//! What differs between the SQL dialects.

/// Implemented by each backend.
pub trait Dialect {
    /// The placeholder of the `n`-th bound value (1-based): `?1` or `$1`.
    fn placeholder(&self, n: usize) -> String;

    /// A bound real number compared with a stored number column.
    fn real_param(&self, placeholder: &str) -> String {
        placeholder.to_string()
    }

    /// A number-valued expression as a double (for sort keys).
    fn real_expr(&self, expr: &str) -> String {
        expr.to_string()
    }

    /// A text expression ordered by code point (byte order of UTF-8).
    fn text_ordered(&self, expr: &str) -> String {
        expr.to_string()
    }

    /// `column` starts with the text bound at `placeholder` (`prefix` is
    /// the raw prefix, for dialects that need a second bound value).
    fn starts_with(
        &self,
        column: &str,
        prefix: &str,
        bind: &mut dyn FnMut(String) -> String,
    ) -> String;

    /// `column` contains the text bound at `placeholder`.
    fn contains(&self, column: &str, placeholder: &str) -> String;

    /// `column` matches a pattern of literal pieces and `AnyRun` wildcards.
    fn like(
        &self,
        column: &str,
        pattern: &[concord_store::search::LikePart],
        bind: &mut dyn FnMut(String) -> String,
    ) -> String;

    /// Full-text rows: `(from, alias, predicate)` where `from` names the
    /// table (with `alias`, which has `tenant`, `type`, `id` columns) and the
    /// predicate holds for rows whose narrative (`narrative`) or content has
    /// every word (any text at all when `words` is empty).
    fn fulltext(
        &self,
        narrative: bool,
        words: &[String],
        bind: &mut dyn FnMut(String) -> String,
    ) -> (String, String, String);

    /// Whether index rows and resources share an integer owner key `rid`
    /// (then `_has` reaches its sources' reference rows by it).
    fn links_by_rid(&self) -> bool {
        false
    }

    /// `column` written so the database does not look it up in an index:
    /// a long `IN (…)` list on it is then tested per row (one hash or
    /// list lookup) instead of driving one index seek per listed value.
    fn unindexed(&self, column: &str) -> String {
        format!("({column} || '')")
    }

    /// `column` is one of the strings of the JSON array bound (as text) at
    /// `placeholder`: a list of any length in one bound value, so a long
    /// list (an access policy's care team) neither meets the database's
    /// limit on bound values nor makes a new statement per length.
    fn in_json_texts(&self, column: &str, placeholder: &str) -> String;

    /// A predicate tying index-table alias `row` to the resources row `res`
    /// (for correlated sort-key subqueries).
    fn row_of_resource(&self, row: &str, res: &str) -> String;

    /// A predicate: index row `row` belongs to one of the resources (of the
    /// tenant, placeholder 1) given as `(type placeholder, SQL list of id
    /// placeholders)` groups (includes).
    fn rows_owned_by(&self, row: &str, groups: &[(String, String)]) -> String;
}
