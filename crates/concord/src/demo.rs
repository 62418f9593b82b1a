//! `concord demo`: the server on a local SQLite database, seeded on first
//! start with a small demo practice (see `demo/demo-bundle.json`; the
//! population generator of the clinician-workspace issue will replace it).

use concord_api::{ApiConfig, AppState};
use concord_core::Engine;
use concord_store::{Actor, TenantContext, DEFAULT_TENANT};

use crate::cli::{DemoArgs, StorageArgs};
use crate::{serve, storage};

const DEMO_BUNDLE: &str = include_str!("../demo/demo-bundle.json");

pub async fn run(args: DemoArgs) -> Result<(), String> {
    let storage_args = StorageArgs {
        data_dir: args.data_dir.clone(),
        database_url: None,
        // The demo needs no key (a plain SQLite file).
        key: Default::default(),
    };
    let (store, description) = storage::open(&storage_args).await?;
    let engine = Engine::new(store);
    let ctx = TenantContext::new(DEFAULT_TENANT, Actor::Operator("demo".into()), "demo-seed");
    let stored = engine
        .store()
        .count_by_type(&ctx)
        .await
        .map_err(|e| format!("cannot read the demo database: {e}"))?;
    if stored.is_empty() {
        let bundle: serde_json::Value =
            serde_json::from_str(DEMO_BUNDLE).map_err(|e| format!("demo data: {e}"))?;
        let (_, results) = engine
            .process_bundle(&ctx, bundle)
            .await
            .map_err(|e| format!("seeding the demo failed: {e}"))?;
        println!("seeded {} demo resources", results.len());
    }
    println!("Try: curl http://{}/Patient/_history", args.listen);
    let store = engine.store().clone();
    let key = concord_core::ledger::LedgerKey::load_or_create(&args.data_dir)?;
    let state = AppState {
        engine,
        config: ApiConfig::default(),
        audit: concord_core::audit::AuditWriter::spawn(store.clone()),
        ledger: Some(concord_core::ledger::MerkleLog::new(store, key)),
    };
    let result = serve::serve(state.clone(), args.listen, &description).await;
    serve::finish(&state).await;
    result
}
