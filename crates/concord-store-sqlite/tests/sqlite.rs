//! The backend-neutral conformance suite and SQLite-specific checks.

use concord_store::{conformance, Actor, ResourceStore, TenantContext};
use concord_store_sqlite::SqliteStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passes_the_conformance_suite() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("concord.db")).unwrap();
    conformance::run_all(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reopening_keeps_data_and_ledger_chain() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("concord.db");
    let ctx = TenantContext::new("t", Actor::System, "r");
    let body = serde_json::json!({"resourceType": "Patient", "id": "a"});
    let write = |id: &str| concord_store::PendingWrite {
        resource_type: "Patient".into(),
        id: id.into(),
        kind: concord_store::WriteKind::Update,
        precondition: concord_store::Precondition::None,
        resource: Some(body.clone()),
        index: Default::default(),
    };
    {
        let store = SqliteStore::open(&path).unwrap();
        store.commit(&ctx, vec![write("a")]).await.unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    store.commit(&ctx, vec![write("b")]).await.unwrap();
    assert!(store.read(&ctx, "Patient", "a").await.unwrap().is_some());
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mut stmt = conn
        .prepare("SELECT prev_hash, entry_hash FROM ledger ORDER BY seq")
        .unwrap();
    let rows: Vec<(Vec<u8>, Vec<u8>)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].0, vec![0u8; 32]);
    assert_eq!(rows[1].0, rows[0].1, "the chain continues across restarts");
}

/// A v1 database (token rows keyed by tenant/type/id only) is migrated to v2:
/// existing rows get the resource's `rid`, so conditional matching still
/// finds them and an update still replaces them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_v2_keys_existing_index_rows() {
    use concord_store::{Criterion, IndexRows, PendingWrite, Precondition, TokenIndex, WriteKind};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE schema_migrations (
                version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
        )
        .unwrap();
        conn.execute_batch(include_str!("../migrations/0001_init.sql"))
            .unwrap();
        conn.execute_batch(
            "INSERT INTO schema_migrations VALUES (1, 'init', 0);
             INSERT INTO resource_history (seq, tenant, type, id, version, last_updated, kind, content)
               VALUES (7, 't', 'Patient', 'old', 1, 0, 'create', '{\"resourceType\":\"Patient\",\"id\":\"old\"}');
             INSERT INTO resources VALUES ('t', 'Patient', 'old', 1, 0, 'create', 7);
             INSERT INTO idx_token (tenant, type, id, param, system, code)
               VALUES ('t', 'Patient', 'old', 'identifier', 'urn:mrn', '42');",
        )
        .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    let ctx = TenantContext::new("t", Actor::System, "r");
    let mrn = |code: &str| Criterion::Token {
        param: "identifier".into(),
        system: Some("urn:mrn".into()),
        code: code.into(),
    };
    let found = store
        .find_ids(&ctx, "Patient", &[mrn("42")], 5)
        .await
        .unwrap();
    assert_eq!(found, vec!["old"]);
    assert_eq!(
        store
            .index_rows(&ctx, "Patient", "old")
            .await
            .unwrap()
            .tokens
            .len(),
        1
    );
    let mut index = IndexRows::default();
    index.tokens.push(TokenIndex {
        param: "identifier".into(),
        system: Some("urn:mrn".into()),
        code: "43".into(),
    });
    let update = PendingWrite {
        resource_type: "Patient".into(),
        id: "old".into(),
        kind: WriteKind::Update,
        precondition: Precondition::None,
        resource: Some(serde_json::json!({"resourceType": "Patient", "id": "old"})),
        index,
    };
    store.commit(&ctx, vec![update]).await.unwrap();
    assert!(store
        .find_ids(&ctx, "Patient", &[mrn("42")], 5)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        store
            .find_ids(&ctx, "Patient", &[mrn("43")], 5)
            .await
            .unwrap(),
        vec!["old"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passes_the_auth_conformance_suite() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("concord.db")).unwrap();
    concord_store::conformance_auth::run_all(&store).await;
}

#[path = "sqlite/audit_links.rs"]
mod audit_links;
#[path = "sqlite/encryption.rs"]
mod encryption;
#[path = "sqlite/group_commit.rs"]
mod group_commit;

/// Identical index rows of one resource are stored once (the tables are
/// keyed by owner, parameter and place, migration 8); distinct rows that
/// differ only in a NULL system all stay, and an update replaces them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_index_rows_are_stored_once() {
    use concord_store::{
        CompartmentIndex, IndexRows, PendingWrite, Precondition, TokenIndex, WriteKind,
    };
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("concord.db")).unwrap();
    let ctx = TenantContext::new("t", Actor::System, "r");
    let token = |system: Option<&str>, code: &str| TokenIndex {
        param: "code".into(),
        system: system.map(str::to_string),
        code: code.into(),
    };
    let patient = CompartmentIndex {
        compartment_type: "Patient".into(),
        compartment_id: "p1".into(),
    };
    let index = IndexRows {
        tokens: vec![
            token(Some("http://loinc.org"), "8867-4"),
            token(Some("http://loinc.org"), "8867-4"),
            token(None, "8867-4"),
            token(None, "8867-4"),
        ],
        compartments: vec![patient.clone(), patient.clone()],
        ..IndexRows::default()
    };
    let write = |kind, index: IndexRows| PendingWrite {
        resource_type: "Observation".into(),
        id: "o1".into(),
        kind,
        precondition: Precondition::None,
        resource: Some(serde_json::json!({"resourceType": "Observation", "id": "o1"})),
        index,
    };
    store
        .commit(&ctx, vec![write(WriteKind::Create, index)])
        .await
        .unwrap();
    let got = store.index_rows(&ctx, "Observation", "o1").await.unwrap();
    assert_eq!(got.tokens.len(), 2, "{:?}", got.tokens);
    assert!(got.tokens.contains(&token(None, "8867-4")));
    assert!(got
        .tokens
        .contains(&token(Some("http://loinc.org"), "8867-4")));
    assert_eq!(got.compartments, vec![patient]);
    let second = IndexRows {
        tokens: vec![token(None, "x"), token(None, "x")],
        ..IndexRows::default()
    };
    store
        .commit(&ctx, vec![write(WriteKind::Update, second)])
        .await
        .unwrap();
    let got = store.index_rows(&ctx, "Observation", "o1").await.unwrap();
    assert_eq!(got.tokens, vec![token(None, "x")]);
    assert!(got.compartments.is_empty());
}
#[path = "sqlite/floor.rs"]
mod floor;
