//! Choosing and opening the backend: the only place that names one.

use std::sync::Arc;

use concord_store::{AuthStore, Store};
use concord_store_postgres::PostgresStore;
use concord_store_sqlite::SqliteStore;

use crate::cli::StorageArgs;

/// Opens the configured store (running migrations) and describes it for humans.
pub async fn open(args: &StorageArgs) -> Result<(Arc<dyn Store>, String), String> {
    let (store, _, description) = open_with_auth(args).await?;
    Ok((store, description))
}

/// The store, the same backend as the security layer's [`AuthStore`], and a description.
pub async fn open_with_auth(
    args: &StorageArgs,
) -> Result<(Arc<dyn Store>, Arc<dyn AuthStore>, String), String> {
    match &args.database_url {
        Some(url) => {
            let store = Arc::new(
                PostgresStore::connect(url)
                    .await
                    .map_err(|e| format!("cannot open PostgreSQL: {e}"))?,
            );
            Ok((store.clone(), store, "PostgreSQL".to_string()))
        }
        None => {
            std::fs::create_dir_all(&args.data_dir).map_err(|e| {
                format!(
                    "cannot create data directory {}: {e}",
                    args.data_dir.display()
                )
            })?;
            let path = args.data_dir.join("concord.db");
            let store = Arc::new(
                SqliteStore::open(&path)
                    .map_err(|e| format!("cannot open {}: {e}", path.display()))?,
            );
            let description = format!("SQLite at {}", path.display());
            Ok((store.clone(), store, description))
        }
    }
}

pub async fn migrate(args: StorageArgs) -> Result<(), String> {
    let (_, description) = open(&args).await?;
    println!("migrations applied: {description}");
    Ok(())
}
