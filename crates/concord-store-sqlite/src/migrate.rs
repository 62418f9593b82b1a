//! Versioned migrations, applied in order on open, each in its own transaction.

use concord_store::{timestamp, StoreResult};
use rusqlite::{params, Connection};

use crate::error::backend;

/// (version, name, SQL), in order. Never edit a released migration; add a new one.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../migrations/0001_init.sql")),
    (
        2,
        "search_index",
        include_str!("../migrations/0002_search_index.sql"),
    ),
    (
        3,
        "search_lookup",
        include_str!("../migrations/0003_search_lookup.sql"),
    ),
    (4, "auth", include_str!("../migrations/0004_auth.sql")),
    (
        5,
        "merkle_log",
        include_str!("../migrations/0005_merkle_log.sql"),
    ),
    (
        6,
        "audit_log",
        include_str!("../migrations/0006_audit_log.sql"),
    ),
    (
        7,
        "search_owner_covering",
        include_str!("../migrations/0007_search_owner_covering.sql"),
    ),
    (
        8,
        "index_without_rowid",
        include_str!("../migrations/0008_index_without_rowid.sql"),
    ),
    (
        9,
        "audit_links_upto",
        include_str!("../migrations/0009_audit_links_upto.sql"),
    ),
    (
        10,
        "patient_timeline",
        include_str!("../migrations/0010_patient_timeline.sql"),
    ),
    (
        11,
        "tree_head_size",
        include_str!("../migrations/0011_tree_head_size.sql"),
    ),
    (
        12,
        "composite_number",
        include_str!("../migrations/0012_composite_number.sql"),
    ),
    (
        13,
        "audit_foreign_id",
        include_str!("../migrations/0013_audit_foreign_id.sql"),
    ),
    (
        14,
        "outbox_is_history",
        include_str!("../migrations/0014_outbox_is_history.sql"),
    ),
];

pub fn run(conn: &mut Connection) -> StoreResult<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
    )
    .map_err(backend)?;
    for (version, name, sql) in MIGRATIONS {
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(backend)?;
        let done: bool = tx
            .query_row(
                "SELECT EXISTS(SELECT 1 FROM schema_migrations WHERE version = ?1)",
                [version],
                |r| r.get(0),
            )
            .map_err(backend)?;
        if !done {
            tx.execute_batch(sql).map_err(backend)?;
            tx.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
                params![version, name, timestamp::now_millis()],
            )
            .map_err(backend)?;
            tracing::info!(version, name, "applied migration");
        }
        tx.commit().map_err(backend)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::MIGRATIONS;
    use rusqlite::Connection;

    /// Migration 8 keeps every distinct index row of a version-7 database
    /// (NULL systems and targets included), drops exact duplicates, and
    /// leaves one b-tree per table in owner order plus the lookup indexes.
    #[test]
    fn without_rowid_migration_keeps_distinct_rows() {
        let conn = Connection::open_in_memory().unwrap();
        for (version, _, sql) in MIGRATIONS.iter().filter(|m| m.0 < 8) {
            conn.execute_batch(sql)
                .unwrap_or_else(|e| panic!("migration {version}: {e}"));
        }
        conn.execute_batch(
            "INSERT INTO idx_token (tenant, type, id, param, system, code, rid) VALUES
               ('t', 'Observation', 'o1', 'code', 'http://loinc.org', '8867-4', 7),
               ('t', 'Observation', 'o1', 'code', 'http://loinc.org', '8867-4', 7),
               ('t', 'Observation', 'o1', 'code', NULL, '8867-4', 7),
               ('t', 'Observation', 'o1', 'status', NULL, 'final', 7),
               ('t', 'Patient', 'p1', 'gender', NULL, 'female', 3);
             INSERT INTO idx_reference (tenant, type, id, param, target_type, target_id, url, rid)
             VALUES ('t', 'Observation', 'o1', 'subject', 'Patient', 'p1', NULL, 7),
                    ('t', 'Observation', 'o1', 'subject', 'Patient', 'p1', NULL, 7),
                    ('t', 'Observation', 'o1', 'derived-from', NULL, NULL, 'http://x/y', 7);
             INSERT INTO idx_date (tenant, type, id, param, low, high, rid)
             VALUES ('t', 'Observation', 'o1', 'date', 10, 20, 7);
             INSERT INTO compartment (tenant, compartment_type, compartment_id, type, id, rid)
             VALUES ('t', 'Patient', 'p1', 'Observation', 'o1', 7),
                    ('t', 'Patient', 'p1', 'Observation', 'o1', 7),
                    ('t', 'Patient', 'p1', 'Patient', 'p1', 3);",
        )
        .unwrap();
        let (_, _, eighth) = MIGRATIONS.iter().find(|m| m.0 == 8).unwrap();
        conn.execute_batch(eighth).unwrap();
        let rows = |sql: &str| -> Vec<String> {
            let mut s = conn.prepare(sql).unwrap();
            let mut out: Vec<String> = s
                .query_map([], |r| r.get::<_, String>(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            out.sort();
            out
        };
        assert_eq!(
            rows(
                "SELECT rid || ' ' || param || ' ' || coalesce(system, '-') || ' ' || code
                   || ' ' || tenant || ' ' || type || ' ' || id FROM idx_token"
            ),
            [
                "3 gender - female t Patient p1",
                "7 code - 8867-4 t Observation o1",
                "7 code http://loinc.org 8867-4 t Observation o1",
                "7 status - final t Observation o1",
            ]
        );
        assert_eq!(
            rows(
                "SELECT param || ' ' || coalesce(target_type, '-') || ' ' || coalesce(target_id, '-')
                   || ' ' || coalesce(url, '-') FROM idx_reference WHERE rid = 7"
            ),
            ["derived-from - - http://x/y", "subject Patient p1 -"]
        );
        assert_eq!(
            rows("SELECT param || ' ' || low || ' ' || high FROM idx_date"),
            ["date 10 20"]
        );
        assert_eq!(
            rows("SELECT rid || ' ' || type || ' ' || id FROM compartment"),
            ["3 Patient p1", "7 Observation o1"]
        );
        // One b-tree per table (no rowid), the lookup indexes rebuilt.
        for table in crate::commit::INDEX_TABLES {
            let sql: String = conn
                .query_row(
                    "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?1",
                    [table],
                    |r| r.get(0),
                )
                .unwrap();
            assert!(sql.contains("WITHOUT ROWID"), "{table}: {sql}");
            let lookup: i64 = conn
                .query_row(
                    "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND tbl_name = ?1
                       AND name LIKE '%_lookup'",
                    [table],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(lookup, 1, "{table}");
        }
        // New rows keep their place: a second version's rows replace by rid.
        conn.execute_batch(
            "DELETE FROM idx_token WHERE rid = 7;
             INSERT INTO idx_token (rid, param, ord, tenant, type, id, system, code)
             VALUES (7, 'code', 0, 't', 'Observation', 'o1', NULL, 'x');",
        )
        .unwrap();
        assert_eq!(rows("SELECT code FROM idx_token WHERE rid = 7"), ["x"]);
    }
    /// Migration 10 gives data stored before it the timeline rows the write
    /// path derives (`IndexRows::timeline`): one per resource and `patient`
    /// target, `newest` the largest `date` end or i64::MIN without one.
    #[test]
    fn timeline_migration_derives_rows_like_the_write_path() {
        use concord_store::{DateIndex, IndexRows, ReferenceIndex};
        let conn = Connection::open_in_memory().unwrap();
        for (version, _, sql) in MIGRATIONS.iter().filter(|m| m.0 < 10) {
            conn.execute_batch(sql)
                .unwrap_or_else(|e| panic!("migration {version}: {e}"));
        }
        let reference = |param: &str, id: Option<&str>| ReferenceIndex {
            param: param.into(),
            target_type: Some("Patient".into()),
            target_id: id.map(str::to_string),
            url: None,
        };
        let date = |param: &str, high: i64| DateIndex {
            param: param.into(),
            low: 0,
            high,
        };
        let stored: Vec<(i64, IndexRows)> = vec![
            (
                1,
                IndexRows {
                    references: vec![
                        reference("patient", Some("p1")),
                        reference("subject", Some("p1")),
                    ],
                    dates: vec![date("date", 20), date("date", 50), date("issued", 90)],
                    ..Default::default()
                },
            ),
            (
                2,
                IndexRows {
                    references: vec![
                        reference("patient", Some("p1")),
                        reference("patient", Some("p2")),
                    ],
                    ..Default::default()
                },
            ),
            (
                3,
                IndexRows {
                    references: vec![reference("patient", None), reference("subject", Some("p3"))],
                    dates: vec![date("date", 5)],
                    ..Default::default()
                },
            ),
        ];
        let mut expected = Vec::new();
        for (rid, rows) in &stored {
            for (ord, r) in (0_i64..).zip(&rows.references) {
                conn.execute(
                    "INSERT INTO idx_reference (rid, param, ord, tenant, type, id, target_type, target_id, url)
                     VALUES (?1, ?2, ?3, 't', 'Observation', ?4, ?5, ?6, NULL)",
                    rusqlite::params![rid, r.param, ord, format!("o{rid}"), r.target_type, r.target_id],
                )
                .unwrap();
            }
            for (ord, d) in (0_i64..).zip(&rows.dates) {
                conn.execute(
                    "INSERT INTO idx_date (rid, param, ord, tenant, type, id, low, high)
                     VALUES (?1, ?2, ?3, 't', 'Observation', ?4, ?5, ?6)",
                    rusqlite::params![rid, d.param, ord, format!("o{rid}"), d.low, d.high],
                )
                .unwrap();
            }
            for t in rows.timeline() {
                expected.push(format!("{rid} o{rid} {} {}", t.target_id, t.newest));
            }
        }
        let (_, _, tenth) = MIGRATIONS.iter().find(|m| m.0 == 10).unwrap();
        conn.execute_batch(tenth).unwrap();
        let mut s = conn
            .prepare("SELECT rid || ' ' || id || ' ' || target_id || ' ' || newest FROM patient_timeline")
            .unwrap();
        let mut got: Vec<String> = s
            .query_map([], |r| r.get::<_, String>(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        got.sort();
        expected.sort();
        assert_eq!(
            got,
            [
                "1 o1 p1 50".to_string(),
                format!("2 o2 p1 {}", i64::MIN),
                format!("2 o2 p2 {}", i64::MIN),
            ]
        );
        assert_eq!(got, expected);
    }

    /// Migration 14 drops the outbox once every outbox row is the history
    /// row of the same seq; the change feed then reads the same events
    /// from `resource_history`. A database where they differ keeps its
    /// outbox and the migration fails.
    #[test]
    fn outbox_migration_keeps_the_change_feed() {
        let at_13 = || {
            let conn = Connection::open_in_memory().unwrap();
            for (_, _, sql) in MIGRATIONS.iter().filter(|m| m.0 < 14) {
                conn.execute_batch(sql).unwrap();
            }
            conn.execute_batch(
                "INSERT INTO resource_history (tenant, type, id, version, last_updated, kind, content)
                 VALUES ('t', 'Patient', 'p1', 1, 100, 'create', '{}'),
                        ('u', 'Patient', 'p9', 1, 101, 'create', '{}'),
                        ('t', 'Patient', 'p1', 2, 102, 'delete', NULL);
                 INSERT INTO outbox (tenant, type, id, version, kind, at)
                 VALUES ('t', 'Patient', 'p1', 1, 'create', 100),
                        ('u', 'Patient', 'p9', 1, 'create', 101),
                        ('t', 'Patient', 'p1', 2, 'delete', 102);",
            )
            .unwrap();
            conn
        };
        let (_, _, fourteenth) = MIGRATIONS.iter().find(|m| m.0 == 14).unwrap();
        let conn = at_13();
        conn.execute_batch(fourteenth).unwrap();
        let events = crate::read::changes_after(&conn, "t", 0, 10).unwrap();
        let seen: Vec<(i64, String, i64, String, i64)> = events
            .iter()
            .map(|e| {
                (
                    e.sequence,
                    e.id.clone(),
                    e.version,
                    format!("{:?}", e.kind),
                    e.at,
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                (1, "p1".into(), 1, "Create".into(), 100),
                (3, "p1".into(), 2, "Delete".into(), 102),
            ]
        );
        assert_eq!(
            crate::read::changes_after(&conn, "t", 1, 10).unwrap().len(),
            1
        );
        let outbox: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE name = 'outbox'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(outbox, 0);

        let differs = at_13();
        differs
            .execute_batch("UPDATE outbox SET version = 5 WHERE seq = 2")
            .unwrap();
        assert!(differs.execute_batch(fourteenth).is_err());
    }
}
