//! `floor::replay` copies every per-resource row of a database into a new
//! one, in transactions of the size asked, and nothing else.

use concord_store::{
    Actor, CompartmentIndex, FullTextIndex, IndexRows, PendingWrite, Precondition, ResourceStore,
    StringIndex, TenantContext, TokenIndex, WriteKind,
};
use concord_store_sqlite::{floor, SqliteStore};

fn observation(i: usize) -> PendingWrite {
    PendingWrite {
        resource_type: "Observation".into(),
        id: format!("o{i}"),
        kind: WriteKind::Update,
        precondition: Precondition::None,
        resource: Some(serde_json::json!({"resourceType": "Observation", "id": format!("o{i}")})),
        index: IndexRows {
            tokens: vec![TokenIndex {
                param: "code".into(),
                system: Some("http://loinc.org".into()),
                code: format!("{}-{}", 2000 + i, i % 10),
            }],
            strings: vec![StringIndex {
                param: "code:text".into(),
                value: format!("analyte {i}"),
                exact: format!("Analyte {i}"),
            }],
            compartments: vec![CompartmentIndex {
                compartment_type: "Patient".into(),
                compartment_id: "p1".into(),
            }],
            fulltext: vec![FullTextIndex {
                param: "_content".into(),
                words: format!("analyte {i}"),
            }],
            ..Default::default()
        },
    }
}

fn count(db: &std::path::Path, table: &str) -> i64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_floor_copies_every_per_resource_row_in_transactions_of_the_size_asked() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("source.db");
    let ctx = TenantContext::new("t", Actor::System, "r");
    {
        let store = SqliteStore::open(&src).unwrap();
        for batch in 0..5 {
            let writes = (0..7).map(|i| observation(batch * 7 + i)).collect();
            store.commit(&ctx, writes).await.unwrap();
        }
    }
    let source = floor::survey(&src).unwrap();
    assert_eq!(source.resources, 35);
    assert_eq!(source.tasks, 0);
    let rows_of = |name: &str| {
        source
            .tables
            .iter()
            .find(|t| t.name == name)
            .map(|t| t.rows)
            .unwrap_or_else(|| panic!("{name} not surveyed"))
    };
    for table in [
        "resources",
        "resource_history",
        "ledger",
        "idx_token",
        "idx_string",
        "compartment",
        "fulltext",
    ] {
        assert_eq!(rows_of(table) as i64, count(&src, table), "{table}");
        assert!(rows_of(table) >= 35, "{table}: {}", rows_of(table));
    }
    // Tables without per-resource rows are left out.
    assert!(source
        .tables
        .iter()
        .all(|t| t.name != "auth_users" && t.name != "schema_migrations"));
    let total: u64 = source.tables.iter().map(|t| t.rows).sum();

    for per_commit in [1, 4, 1000] {
        let dst = dir.path().join(format!("floor-{per_commit}.db"));
        let copied = floor::replay(&src, &source, &dst, per_commit, None).unwrap();
        assert_eq!(copied, total, "per_commit {per_commit}");
        for t in &source.tables {
            assert_eq!(
                count(&dst, &t.name),
                t.rows as i64,
                "{} at {per_commit}",
                t.name
            );
        }
        // The copy is a working Concord database: the store opens it and reads.
        let copy = SqliteStore::open(&dst).unwrap();
        let read = copy.read(&ctx, "Observation", "o34").await.unwrap();
        assert_eq!(read.map(|v| v.version), Some(1));
    }

    let only = dir.path().join("only-token.db");
    let copied = floor::replay(&src, &source, &only, 10, Some("idx_token")).unwrap();
    assert_eq!(copied, rows_of("idx_token"));
    assert_eq!(count(&only, "resources"), 0);
    // It never writes into an existing file, nor copies an unknown table.
    assert!(floor::replay(&src, &source, &only, 10, None).is_err());
    let missing = dir.path().join("missing.db");
    assert!(floor::replay(&src, &source, &missing, 10, Some("no_such_table")).is_err());
}
