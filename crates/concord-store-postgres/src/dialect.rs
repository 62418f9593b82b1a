//! PostgreSQL's side of the shared search SQL (`concord-store-sql`).

use concord_store::search::LikePart;
use concord_store_sql::Dialect;

pub struct Postgres;

/// `text` with LIKE's wildcards and escape character escaped.
fn like_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

impl Dialect for Postgres {
    fn placeholder(&self, n: usize) -> String {
        format!("${n}")
    }

    /// Number columns are `numeric`: bind a double and convert it.
    fn real_param(&self, placeholder: &str) -> String {
        format!("({placeholder}::float8)::numeric")
    }

    fn real_expr(&self, expr: &str) -> String {
        format!("({expr})::float8")
    }

    /// Code-point order, as SQLite's BINARY collation, whatever the
    /// database's locale.
    fn text_ordered(&self, expr: &str) -> String {
        format!("({expr}) COLLATE \"C\"")
    }

    /// `LIKE 'prefix%'` (the string lookup index uses `text_pattern_ops`).
    fn starts_with(
        &self,
        column: &str,
        prefix: &str,
        bind: &mut dyn FnMut(String) -> String,
    ) -> String {
        let ph = bind(format!("{}%", like_literal(prefix)));
        format!("{column} LIKE {ph}")
    }

    fn contains(&self, column: &str, placeholder: &str) -> String {
        format!("strpos({column}, {placeholder}) > 0")
    }

    fn like(
        &self,
        column: &str,
        pattern: &[LikePart],
        bind: &mut dyn FnMut(String) -> String,
    ) -> String {
        let text: String = pattern
            .iter()
            .map(|p| match p {
                LikePart::AnyRun => "%".to_string(),
                LikePart::Literal(t) => like_literal(t),
            })
            .collect();
        format!("{column} LIKE {}", bind(text))
    }

    /// `tsvector` columns (simple configuration: the words are normalized
    /// already) with GIN indexes.
    fn fulltext(
        &self,
        narrative: bool,
        words: &[String],
        bind: &mut dyn FnMut(String) -> String,
    ) -> (String, String, String) {
        let column = if narrative { "narrative" } else { "content" };
        let predicate = if words.is_empty() {
            format!("ft.{column} <> ''")
        } else {
            format!(
                "ft.{column}_tsv @@ to_tsquery('simple', {})",
                bind(words.join(" & "))
            )
        };
        ("idx_fulltext ft".into(), "ft".into(), predicate)
    }

    fn in_json_texts(&self, column: &str, placeholder: &str) -> String {
        format!(
            "{column} IN (SELECT jsonb_array_elements_text(CAST({placeholder}::text AS jsonb)))"
        )
    }

    fn row_of_resource(&self, row: &str, res: &str) -> String {
        format!("{row}.tenant = {res}.tenant AND {row}.type = {res}.type AND {row}.id = {res}.id")
    }

    fn rows_owned_by(&self, row: &str, groups: &[(String, String)]) -> String {
        let each: Vec<String> = groups
            .iter()
            .map(|(t, ids)| format!("({row}.type = {t} AND {row}.id IN ({ids}))"))
            .collect();
        format!("({row}.tenant = $1 AND ({}))", each.join(" OR "))
    }
}

/// The dialect, for the SQL snapshot tests.
#[cfg(test)]
pub const DIALECT: Postgres = Postgres;
