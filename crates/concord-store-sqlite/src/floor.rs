//! The storage floor of a workload: the rows a Concord database holds for
//! its resources (current versions, history, ledger, full text, search
//! index rows, compartments, timeline), copied into a new database with the
//! same schema and settings by SQLite alone — no parsing, mapping,
//! validation or index extraction — in transactions of a chosen number of
//! resources. The CPU this takes (measured by the caller) is what SQLite
//! needs to store those rows at that commit size: no change above the store
//! can make the same writes cheaper (`concord bench sqlite-floor`).

use std::path::Path;

use concord_store::{StoreError, StoreResult};
use rusqlite::{params, Connection};

use crate::error::backend;
use crate::pool::{PAGE_SIZE, WRITER_CACHE_KIB};

/// One table the floor copies, and the column its transactions are cut on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FloorTable {
    pub name: String,
    /// `rid` (resources, index tables), `seq` (history, ledger) or `rowid`
    /// (the full-text table).
    key: &'static str,
    columns: Vec<String>,
    /// Rows in the source database.
    pub rows: u64,
}

/// What a source database holds, from [`survey`].
#[derive(Debug, Clone)]
pub struct FloorSource {
    pub tables: Vec<FloorTable>,
    /// Resources (current versions) in the source.
    pub resources: u64,
    /// `Task` resources: one per HL7 v2 message the inbound layer stored.
    pub tasks: u64,
    /// The largest key of any table: the transactions cover 1..=this.
    last_key: i64,
}

/// Tables copied by a key other than `rid`.
const SEQ_TABLES: [&str; 2] = ["resource_history", "ledger"];
const FULL_TEXT: &str = "fulltext";

/// Lists the tables of `src` that hold per-resource rows, with their row
/// counts: `resource_history`, `ledger`, `fulltext` and every table with a
/// `rid` column (so a new index table is included without a change here).
pub fn survey(src: &Path) -> StoreResult<FloorSource> {
    let conn = Connection::open_with_flags(src, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(backend)?;
    let names: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .and_then(|mut s| {
            s.query_map([], |r| r.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()
        })
        .map_err(backend)?;
    let mut tables = Vec::new();
    for name in names {
        let columns: Vec<String> = conn
            .prepare("SELECT name FROM pragma_table_info(?1)")
            .and_then(|mut s| {
                s.query_map([&name], |r| r.get::<_, String>(0))?
                    .collect::<Result<Vec<_>, _>>()
            })
            .map_err(backend)?;
        let key = if SEQ_TABLES.contains(&name.as_str()) {
            "seq"
        } else if name == FULL_TEXT {
            "rowid"
        } else if columns.iter().any(|c| c == "rid") {
            "rid"
        } else {
            continue;
        };
        let rows: i64 = conn
            .query_row(
                &format!("SELECT COUNT(*) FROM {}", quoted(&name)),
                [],
                |r| r.get(0),
            )
            .map_err(backend)?;
        tables.push(FloorTable {
            name,
            key,
            columns,
            rows: rows.max(0) as u64,
        });
    }
    let count =
        |sql: &str| -> StoreResult<i64> { conn.query_row(sql, [], |r| r.get(0)).map_err(backend) };
    let resources = count("SELECT COUNT(*) FROM resources")?;
    let tasks = count("SELECT COUNT(*) FROM resources WHERE type = 'Task'")?;
    let mut last_key = 0;
    for t in &tables {
        let max = count(&format!(
            "SELECT COALESCE(MAX({}), 0) FROM {}",
            t.key,
            quoted(&t.name)
        ))?;
        last_key = last_key.max(max);
    }
    Ok(FloorSource {
        tables,
        resources: resources.max(0) as u64,
        tasks: tasks.max(0) as u64,
        last_key,
    })
}

/// Copies the rows of `source` (at `src`) into a new database at `dst`,
/// created with Concord's schema and the writer's settings (page size,
/// cache, WAL, `synchronous=NORMAL`, checkpoints every 16,384 pages), one
/// transaction per `per_commit` keys (rids or history sequence numbers:
/// about `per_commit` resources). `only`: copy that table alone (to see
/// what each table costs). Returns the rows copied.
pub fn replay(
    src: &Path,
    source: &FloorSource,
    dst: &Path,
    per_commit: i64,
    only: Option<&str>,
) -> StoreResult<u64> {
    if dst.exists() {
        return Err(StoreError::Backend(format!(
            "{} exists: the floor writes a new database",
            dst.display()
        )));
    }
    let mut conn = Connection::open(dst).map_err(backend)?;
    conn.execute_batch(&format!(
        "PRAGMA page_size = {PAGE_SIZE}; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
         PRAGMA cache_size = -{WRITER_CACHE_KIB}; PRAGMA mmap_size = 0;
         PRAGMA wal_autocheckpoint = 16384;"
    ))
    .map_err(backend)?;
    crate::migrate::run(&mut conn)?;
    conn.execute("ATTACH DATABASE ?1 AS src", [src.to_string_lossy()])
        .map_err(backend)?;
    let tables: Vec<&FloorTable> = source
        .tables
        .iter()
        .filter(|t| only.is_none_or(|o| o == t.name))
        .collect();
    if tables.is_empty() {
        return Err(StoreError::Backend(format!(
            "no table {} in the source",
            only.unwrap_or_default()
        )));
    }
    let statements: Vec<String> = tables.iter().map(|t| copy_sql(t)).collect();
    let per_commit = per_commit.max(1);
    let mut copied = 0u64;
    let mut first = 1i64;
    while first <= source.last_key {
        let last = first.saturating_add(per_commit - 1);
        let tx = conn.transaction().map_err(backend)?;
        for sql in &statements {
            let n = tx
                .prepare_cached(sql)
                .and_then(|mut s| s.execute(params![first, last]))
                .map_err(backend)?;
            copied += n as u64;
        }
        tx.commit().map_err(backend)?;
        first = last.saturating_add(1);
    }
    Ok(copied)
}

fn copy_sql(t: &FloorTable) -> String {
    let mut columns: Vec<String> = t.columns.iter().map(|c| quoted(c)).collect();
    if t.key == "rowid" {
        columns.insert(0, "rowid".into());
    }
    let list = columns.join(", ");
    format!(
        "INSERT INTO main.{name} ({list}) SELECT {list} FROM src.{name} WHERE {key} BETWEEN ?1 AND ?2",
        name = quoted(&t.name),
        key = t.key
    )
}

fn quoted(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}
