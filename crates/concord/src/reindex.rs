//! `concord reindex`: recompute every live resource's search-index rows.

use std::time::Instant;

use concord_core::Engine;
use concord_store::{Actor, TenantContext, DEFAULT_TENANT};

use crate::cli::StorageArgs;
use crate::storage;

pub async fn run(args: StorageArgs) -> Result<(), String> {
    let (store, description) = storage::open(&args).await?;
    let engine = Engine::new(store);
    let ctx = TenantContext::new(DEFAULT_TENANT, Actor::Operator("cli".into()), "reindex");
    eprintln!("reindexing {description}");
    let started = Instant::now();
    let done = engine
        .reindex(&ctx, |n| {
            if n % 10_000 < concord_core::REINDEX_BATCH as u64 {
                eprintln!("  {n} resources");
            }
        })
        .await
        .map_err(|e| e.to_string())?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "reindexed {done} resources in {secs:.1} s ({:.0}/s)",
        done as f64 / secs.max(1e-9)
    );
    Ok(())
}
