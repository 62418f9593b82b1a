use std::collections::BTreeMap;
use std::sync::Arc;

use concord_core::Engine;
use concord_store::{Actor, TenantContext, DEFAULT_TENANT};
use concord_store_sqlite::SqliteStore;

use crate::{generator, resources};

/// The bundles go through the engine's transaction path (validation,
/// indexing, ledger) on a real SQLite store; the stored counts match what
/// was generated, and loading again changes no counts (PUT at fixed ids).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bundles_load_through_the_engine_and_reload_idempotently() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path().join("concord.db")).unwrap());
    let engine = Engine::new(store);
    let ctx = TenantContext::new(DEFAULT_TENANT, Actor::Operator("test".into()), "synth-test");
    let g = generator(11);
    let mut bundles = vec![g.directory_bundle()];
    bundles.extend((0..8).map(|i| g.patient_bundle(i)));
    let mut expected: BTreeMap<String, usize> = BTreeMap::new();
    for b in &bundles {
        for r in resources(b) {
            *expected
                .entry(r["resourceType"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
    }
    for round in 0..2 {
        for b in &bundles {
            let (_, results) = engine
                .process_bundle(&ctx, b.clone())
                .await
                .expect("transaction");
            for r in results {
                r.unwrap_or_else(|e| panic!("round {round}: entry failed: {e:?}"));
            }
        }
        let stored: BTreeMap<String, usize> = engine
            .store()
            .count_by_type(&ctx)
            .await
            .unwrap()
            .into_iter()
            .map(|(t, n)| (t, n as usize))
            .collect();
        assert_eq!(stored, expected, "round {round}");
    }
}
