//! Choosing and opening the backend: the only place that names one.

use std::sync::Arc;

use concord_store::Store;
use concord_store_postgres::PostgresStore;
use concord_store_sqlite::SqliteStore;

use crate::cli::StorageArgs;

/// Opens the configured store (running migrations) and describes it for humans.
pub async fn open(args: &StorageArgs) -> Result<(Arc<dyn Store>, String), String> {
    match &args.database_url {
        Some(url) => {
            let store = PostgresStore::connect(url)
                .await
                .map_err(|e| format!("cannot open PostgreSQL: {e}"))?;
            Ok((Arc::new(store), "PostgreSQL".to_string()))
        }
        None => {
            std::fs::create_dir_all(&args.data_dir).map_err(|e| {
                format!(
                    "cannot create data directory {}: {e}",
                    args.data_dir.display()
                )
            })?;
            let path = args.data_dir.join("concord.db");
            let store = SqliteStore::open(&path)
                .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
            Ok((Arc::new(store), format!("SQLite at {}", path.display())))
        }
    }
}

pub async fn migrate(args: StorageArgs) -> Result<(), String> {
    let (_, description) = open(&args).await?;
    println!("migrations applied: {description}");
    Ok(())
}
