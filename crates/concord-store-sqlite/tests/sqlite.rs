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
