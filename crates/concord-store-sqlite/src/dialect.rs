//! SQLite's side of the shared search SQL (`concord-store-sql`).

use concord_store::search::LikePart;
use concord_store_sql::Dialect;

pub struct Sqlite;

impl Dialect for Sqlite {
    fn placeholder(&self, n: usize) -> String {
        format!("?{n}")
    }

    /// A range on the index (BINARY collation compares UTF-8 bytes), so
    /// `LIKE`'s ASCII case folding never applies.
    fn starts_with(
        &self,
        column: &str,
        prefix: &str,
        bind: &mut dyn FnMut(String) -> String,
    ) -> String {
        let low = bind(prefix.to_string());
        let high = bind(format!("{prefix}{}", char::MAX));
        format!("({column} >= {low} AND {column} < {high})")
    }

    fn contains(&self, column: &str, placeholder: &str) -> String {
        format!("instr({column}, {placeholder}) > 0")
    }

    /// `GLOB` (case-sensitive), with its wildcards in literals bracketed.
    fn like(
        &self,
        column: &str,
        pattern: &[LikePart],
        bind: &mut dyn FnMut(String) -> String,
    ) -> String {
        let mut glob = String::new();
        for part in pattern {
            match part {
                LikePart::AnyRun => glob.push('*'),
                LikePart::Literal(text) => {
                    for ch in text.chars() {
                        match ch {
                            '*' | '?' | '[' => {
                                glob.push('[');
                                glob.push(ch);
                                glob.push(']');
                            }
                            other => glob.push(other),
                        }
                    }
                }
            }
        }
        format!("{column} GLOB {}", bind(glob))
    }

    /// FTS5 (`fulltext`, rowid = the resource's rid) with column filters.
    fn fulltext(
        &self,
        narrative: bool,
        words: &[String],
        bind: &mut dyn FnMut(String) -> String,
    ) -> (String, String, String) {
        let column = if narrative { "narrative" } else { "content" };
        let predicate = if words.is_empty() {
            format!("fulltext.{column} <> ''")
        } else {
            let query: Vec<String> = words
                .iter()
                .map(|w| format!("{column} : \"{w}\""))
                .collect();
            format!("fulltext MATCH {}", bind(query.join(" AND ")))
        };
        ("fulltext".into(), "fulltext".into(), predicate)
    }

    fn links_by_rid(&self) -> bool {
        true
    }

    /// Unary `+`: SQLite's documented way to keep a term off the index.
    fn unindexed(&self, column: &str) -> String {
        format!("+{column}")
    }

    fn in_json_texts(&self, column: &str, placeholder: &str) -> String {
        format!("{column} IN (SELECT value FROM json_each({placeholder}))")
    }

    fn row_of_resource(&self, row: &str, res: &str) -> String {
        format!("{row}.rid = {res}.rid")
    }

    /// By `rid` (unique across tenants): one primary-key lookup per type.
    fn rows_owned_by(&self, row: &str, groups: &[(String, String)]) -> String {
        let each: Vec<String> = groups
            .iter()
            .map(|(t, ids)| {
                format!(
                    "SELECT rs.rid FROM resources rs WHERE rs.tenant = ?1 AND rs.type = {t} AND rs.id IN ({ids})"
                )
            })
            .collect();
        format!("{row}.rid IN ({})", each.join(" UNION ALL "))
    }
}

/// The dialect, for the SQL snapshot tests.
#[cfg(test)]
pub const DIALECT: Sqlite = Sqlite;
