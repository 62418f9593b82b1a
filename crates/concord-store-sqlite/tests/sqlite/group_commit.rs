//! Group commit: many concurrent commits share SQLite transactions, yet each
//! one is all-or-nothing on its own, preconditions are checked in order, and
//! the ledger chain stays unbroken.

use std::collections::HashSet;

use concord_store::{
    Actor, IndexRows, PendingWrite, Precondition, ResourceStore, StoreError, TenantContext,
    TokenIndex, WriteKind,
};
use concord_store_sqlite::SqliteStore;

fn write(id: &str, precondition: Precondition) -> PendingWrite {
    PendingWrite {
        resource_type: "Patient".into(),
        id: id.into(),
        kind: WriteKind::Update,
        precondition,
        resource: Some(serde_json::json!({"resourceType": "Patient", "id": id})),
        index: IndexRows {
            tokens: vec![TokenIndex {
                param: "identifier".into(),
                system: Some("urn:test".into()),
                code: id.into(),
            }],
            ..Default::default()
        },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_commits_fail_and_succeed_independently() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("group.db");
    let store = SqliteStore::open(&path).unwrap();
    let ctx = TenantContext::new("t", Actor::System, "r");
    store
        .commit(&ctx, vec![write("shared", Precondition::None)])
        .await
        .unwrap();

    let mut tasks = Vec::new();
    for n in 0..60 {
        let store = store.clone();
        let ctx = ctx.clone();
        tasks.push(tokio::spawn(async move {
            let writes = match n % 3 {
                // Everyone races to update version 1 of the same resource.
                0 => vec![write("shared", Precondition::VersionIs(1))],
                // A valid batch of two new resources.
                1 => vec![
                    write(&format!("a{n}"), Precondition::None),
                    write(&format!("b{n}"), Precondition::None),
                ],
                // An invalid batch: its first write must not survive.
                _ => vec![
                    write(&format!("c{n}"), Precondition::None),
                    write(&format!("c{n}"), Precondition::None),
                ],
            };
            (n, store.commit(&ctx, writes).await)
        }));
    }
    let mut shared_wins = 0;
    let mut stored = HashSet::new();
    for task in tasks {
        let (n, result) = task.await.unwrap();
        match (n % 3, result) {
            (0, Ok(done)) => {
                assert_eq!(done[0].version, 2);
                shared_wins += 1;
            }
            (0, Err(StoreError::VersionConflict { .. })) => {}
            (1, Ok(done)) => {
                assert_eq!(done.len(), 2);
                stored.insert(format!("a{n}"));
                stored.insert(format!("b{n}"));
            }
            (2, Err(StoreError::DuplicateInBatch { .. })) => {}
            (kind, other) => panic!("request {n} (kind {kind}): unexpected {other:?}"),
        }
    }
    assert_eq!(shared_wins, 1, "exactly one If-Match update wins");
    assert_eq!(stored.len(), 40);
    for n in 0..60 {
        let exists = |id: String| {
            let store = store.clone();
            let ctx = ctx.clone();
            async move { store.read(&ctx, "Patient", &id).await.unwrap().is_some() }
        };
        match n % 3 {
            1 => assert!(exists(format!("a{n}")).await && exists(format!("b{n}")).await),
            2 => assert!(!exists(format!("c{n}")).await, "c{n} of a failed batch"),
            _ => {}
        }
    }
    let current = store
        .read(&ctx, "Patient", "shared")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(current.version, 2);

    // The ledger: one entry per stored version, each chained to the one
    // before, leaf indexes without gaps — failed requests left no trace.
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mut stmt = conn
        .prepare("SELECT prev_hash, entry_hash, leaf_index FROM ledger ORDER BY seq")
        .unwrap();
    let rows: Vec<(Vec<u8>, Vec<u8>, i64)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows.len(), 1 + 1 + 40);
    for (i, pair) in rows.windows(2).enumerate() {
        assert_eq!(pair[1].0, pair[0].1, "chain broken after entry {i}");
        assert_eq!(pair[1].2, pair[0].2 + 1, "leaf index gap after entry {i}");
    }
    let index_rows: i64 = conn
        .query_row("SELECT count(*) FROM idx_token", [], |r| r.get(0))
        .unwrap();
    assert_eq!(index_rows, 41, "no index rows of failed requests");

    // The store keeps working after all of that, and across a reopen.
    drop(store);
    let store = SqliteStore::open(&path).unwrap();
    let done = store
        .commit(&ctx, vec![write("shared", Precondition::VersionIs(2))])
        .await
        .unwrap();
    assert_eq!(done[0].version, 3);
}
