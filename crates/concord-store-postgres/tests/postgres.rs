//! Integration tests against a real PostgreSQL, named by
//! `CONCORD_TEST_POSTGRES_URL` (see `scripts/setup-test-postgres.sh`).
//! Without it every test prints a loud SKIPPED line and passes.

use std::sync::Arc;

use concord_store::{
    Actor, ChangeFeed, IndexRows, PendingWrite, Precondition, ResourceStore, Store, StoreError,
    TenantContext, WriteKind, WriteOutcome,
};
use concord_store_postgres::PostgresStore;
use serde_json::json;
use sha2::{Digest, Sha256};

fn test_url() -> Option<String> {
    match std::env::var("CONCORD_TEST_POSTGRES_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            eprintln!("\n*** SKIPPED: CONCORD_TEST_POSTGRES_URL not set ***\n");
            println!("SKIPPED: CONCORD_TEST_POSTGRES_URL not set");
            None
        }
    }
}

fn unique_tenant(name: &str) -> TenantContext {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    TenantContext::new(format!("pgtest-{name}-{nanos:x}"), Actor::System, name)
}

fn patient_write(kind: WriteKind, id: &str, family: &str, pre: Precondition) -> PendingWrite {
    PendingWrite {
        resource_type: "Patient".into(),
        id: id.into(),
        kind,
        precondition: pre,
        resource: Some(json!({"resourceType": "Patient", "id": id, "name": [{"family": family}]})),
        index: IndexRows::default(),
    }
}

fn delete_write(id: &str) -> PendingWrite {
    PendingWrite {
        resource_type: "Patient".into(),
        id: id.into(),
        kind: WriteKind::Delete,
        precondition: Precondition::None,
        resource: None,
        index: IndexRows::default(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_suite() {
    let Some(url) = test_url() else { return };
    let store = PostgresStore::connect(&url).await.unwrap();
    assert_eq!(store.backend_name(), "postgresql");
    concord_store::conformance::run_all(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_if_match_updates_have_one_winner() {
    let Some(url) = test_url() else { return };
    let store = Arc::new(PostgresStore::connect(&url).await.unwrap());
    let ctx = unique_tenant("ifmatch");
    store
        .commit(
            &ctx,
            vec![patient_write(
                WriteKind::Create,
                "race",
                "A",
                Precondition::None,
            )],
        )
        .await
        .unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = Arc::clone(&store);
            let ctx = ctx.clone();
            tokio::spawn(async move {
                let w = patient_write(
                    WriteKind::Update,
                    "race",
                    &format!("W{i}"),
                    Precondition::VersionIs(1),
                );
                store.commit(&ctx, vec![w]).await
            })
        })
        .collect();
    let mut wins = 0;
    let mut conflicts = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(done) => {
                assert_eq!(done[0].version, 2);
                assert_eq!(done[0].outcome, WriteOutcome::Updated);
                wins += 1;
            }
            Err(StoreError::VersionConflict {
                expected: 1,
                current: Some(2),
                ..
            }) => conflicts += 1,
            Err(other) => panic!("unexpected error: {other:?}"),
        }
    }
    assert_eq!((wins, conflicts), (1, 7));
    let current = store.read(&ctx, "Patient", "race").await.unwrap().unwrap();
    assert_eq!(current.version, 2);
    let events = store.changes_after(&ctx, 0, 100).await.unwrap();
    assert_eq!(events.len(), 2, "one create and one winning update");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_creates_of_one_id_have_one_winner() {
    let Some(url) = test_url() else { return };
    let store = Arc::new(PostgresStore::connect(&url).await.unwrap());
    let ctx = unique_tenant("create-race");
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = Arc::clone(&store);
            let ctx = ctx.clone();
            tokio::spawn(async move {
                let w = patient_write(
                    WriteKind::Create,
                    "new",
                    &format!("C{i}"),
                    Precondition::None,
                );
                store.commit(&ctx, vec![w]).await
            })
        })
        .collect();
    let mut wins = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => wins += 1,
            Err(StoreError::AlreadyExists { .. }) => {}
            Err(other) => panic!("unexpected error: {other:?}"),
        }
    }
    assert_eq!(wins, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_updates_of_a_new_id_all_apply() {
    let Some(url) = test_url() else { return };
    let store = Arc::new(PostgresStore::connect(&url).await.unwrap());
    let ctx = unique_tenant("upsert-race");
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = Arc::clone(&store);
            let ctx = ctx.clone();
            tokio::spawn(async move {
                let w = patient_write(
                    WriteKind::Update,
                    "up",
                    &format!("U{i}"),
                    Precondition::None,
                );
                store.commit(&ctx, vec![w]).await
            })
        })
        .collect();
    let mut versions = Vec::new();
    for task in tasks {
        versions.push(task.await.unwrap().unwrap()[0].version);
    }
    versions.sort_unstable();
    assert_eq!(versions, (1..=8).collect::<Vec<i64>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crossing_batches_do_not_fail() {
    let Some(url) = test_url() else { return };
    let store = Arc::new(PostgresStore::connect(&url).await.unwrap());
    let ctx = unique_tenant("crossing");
    let seed = vec![
        patient_write(WriteKind::Create, "x", "X", Precondition::None),
        patient_write(WriteKind::Create, "y", "Y", Precondition::None),
    ];
    store.commit(&ctx, seed).await.unwrap();
    // Batches naming the same two resources in opposite orders.
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = Arc::clone(&store);
            let ctx = ctx.clone();
            tokio::spawn(async move {
                let (a, b) = if i % 2 == 0 { ("x", "y") } else { ("y", "x") };
                let batch = vec![
                    patient_write(WriteKind::Update, a, "A", Precondition::None),
                    patient_write(WriteKind::Update, b, "B", Precondition::None),
                ];
                store.commit(&ctx, batch).await
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    for id in ["x", "y"] {
        let cur = store.read(&ctx, "Patient", id).await.unwrap().unwrap();
        assert_eq!(cur.version, 9);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_are_idempotent() {
    let Some(url) = test_url() else { return };
    let first = PostgresStore::connect(&url).await.unwrap();
    let second = PostgresStore::connect(&url).await.unwrap();
    // Concurrent starters serialize on the advisory lock.
    let (a, b) = tokio::join!(PostgresStore::connect(&url), PostgresStore::connect(&url));
    a.unwrap();
    b.unwrap();
    let ctx = unique_tenant("migrate");
    first
        .commit(
            &ctx,
            vec![patient_write(
                WriteKind::Create,
                "m",
                "M",
                Precondition::None,
            )],
        )
        .await
        .unwrap();
    assert!(second.read(&ctx, "Patient", "m").await.unwrap().is_some());
    assert!(PostgresStore::schema_version() >= 1);
    let db = raw_client(&url).await;
    let rows = db
        .query(
            "SELECT version, count(*) FROM schema_migrations GROUP BY version ORDER BY version",
            &[],
        )
        .await
        .unwrap();
    // Only this build's versions: a database shared with other branches'
    // test runs may also record theirs.
    let known = PostgresStore::schema_versions();
    let recorded: Vec<(i64, i64)> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .filter(|(v, _)| known.contains(v))
        .collect();
    let mut expected: Vec<(i64, i64)> = PostgresStore::schema_versions()
        .into_iter()
        .map(|v| (v, 1))
        .collect();
    expected.sort_unstable();
    assert_eq!(recorded, expected, "each migration recorded exactly once");
}

/// A plain connection for looking at the tables directly.
async fn raw_client(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ledger_is_one_linear_chain() {
    let Some(url) = test_url() else { return };
    let store = Arc::new(PostgresStore::connect(&url).await.unwrap());
    // Concurrent writers in several tenants all append to the one chain.
    let tasks: Vec<_> = (0..6)
        .map(|i| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let ctx = unique_tenant(&format!("ledger{i}"));
                for j in 0..3 {
                    let w =
                        patient_write(WriteKind::Update, &format!("l{j}"), "L", Precondition::None);
                    store.commit(&ctx, vec![w]).await.unwrap();
                }
                store.commit(&ctx, vec![delete_write("l0")]).await.unwrap();
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let mut db = raw_client(&url).await;
    // One snapshot: the chain and its head, as committed.
    let snapshot = db
        .build_transaction()
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .unwrap();
    let tx_rows = snapshot
        .query(
            "SELECT l.type, l.id, l.version, l.content_hash, l.prev_hash, l.entry_hash, h.content
             FROM ledger l
             LEFT JOIN resource_history h
               ON h.tenant = l.tenant AND h.type = l.type AND h.id = l.id AND h.version = l.version
             ORDER BY l.seq",
            &[],
        )
        .await
        .unwrap();
    let head: Vec<u8> = snapshot
        .query_one("SELECT entry_hash FROM ledger_head", &[])
        .await
        .unwrap()
        .get(0);
    assert!(tx_rows.len() >= 24);
    let mut prev = vec![0u8; 32];
    for row in &tx_rows {
        let rt: String = row.get(0);
        let id: String = row.get(1);
        let version: i64 = row.get(2);
        let content_hash: Vec<u8> = row.get(3);
        let prev_hash: Vec<u8> = row.get(4);
        let entry_hash: Vec<u8> = row.get(5);
        let content: Option<String> = row.get(6);
        assert_eq!(prev_hash, prev, "chain broken at {rt}/{id}/{version}");
        // An audit batch's leaf hashes the batch's events (checked by
        // `concord verify`, crates/concord/tests/cli/ledger.rs); every other
        // leaf hashes its resource version's content.
        if rt != concord_store::audit_log::BATCH_TYPE {
            let expected_content = content
                .map(|c| Sha256::digest(c.as_bytes()).to_vec())
                .unwrap_or_else(|| Sha256::digest(b"").to_vec());
            assert_eq!(content_hash, expected_content, "{rt}/{id}/{version}");
        }
        let mut h = Sha256::new();
        h.update(&prev_hash);
        h.update(format!("{rt}/{id}/{version}").as_bytes());
        h.update(&content_hash);
        assert_eq!(entry_hash, h.finalize().to_vec());
        prev = entry_hash;
    }
    assert_eq!(head, prev, "ledger_head is the last entry");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_database_is_unavailable() {
    // Needs no server: nothing listens on port 1.
    let err = PostgresStore::connect("postgres://nobody:secret@127.0.0.1:1/none")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    assert!(!err.to_string().contains("secret"));
    let err = PostgresStore::connect("not a url at all ://")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Backend(_)), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_conformance_suite() {
    let Some(url) = test_url() else { return };
    let store = PostgresStore::connect(&url).await.unwrap();
    concord_store::conformance_auth::run_all(&store).await;
}

/// `url` with one more query parameter.
fn with_param(url: &str, param: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{param}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_connections_follow_sslmode() {
    let Some(url) = test_url() else { return };
    let plain = PostgresStore::connect(&url).await.unwrap();
    assert!(
        !plain.connection_encrypted().await.unwrap(),
        "no sslmode: plain TCP"
    );
    let tls = PostgresStore::connect(&with_param(&url, "sslmode=require"))
        .await
        .expect("the test server has ssl = on (Debian's snakeoil certificate)");
    assert!(
        tls.connection_encrypted().await.unwrap(),
        "sslmode=require: TLS"
    );
    // verify-full against the public roots: the self-signed certificate is refused.
    let refused = PostgresStore::connect(&with_param(&url, "sslmode=verify-full")).await;
    assert!(refused.is_err(), "an untrusted certificate is refused");
    let snakeoil = "/etc/ssl/certs/ssl-cert-snakeoil.pem";
    if std::path::Path::new(snakeoil).exists() {
        // Trusting the server's own certificate: the chain verifies
        // (verify-ca); its name is the machine's, not 127.0.0.1 (verify-full).
        let ca = with_param(&url, &format!("sslmode=verify-ca&sslrootcert={snakeoil}"));
        let store = PostgresStore::connect(&ca).await.expect("verify-ca");
        assert!(store.connection_encrypted().await.unwrap());
        if url.contains("127.0.0.1") {
            let full = with_param(&url, &format!("sslmode=verify-full&sslrootcert={snakeoil}"));
            assert!(
                PostgresStore::connect(&full).await.is_err(),
                "name mismatch"
            );
        }
    }
}
