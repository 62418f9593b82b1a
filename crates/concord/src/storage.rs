//! Choosing and opening the backend: the only place that names one.

use std::sync::Arc;

use concord_store::{AuthStore, Store};
use concord_store_postgres::PostgresStore;
use concord_store_sqlite::{DbKey, SqliteStore};

use crate::cli::{DbKeyArgs, RekeyArgs, StorageArgs};

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
            let key = db_key(&args.key)?;
            let encrypted = key.is_some();
            let store = Arc::new(
                SqliteStore::open_with_key(&path, key)
                    .map_err(|e| format!("cannot open {}: {e}", path.display()))?,
            );
            let description = format!(
                "SQLite at {}{}",
                path.display(),
                if encrypted { ", encrypted" } else { "" }
            );
            Ok((store.clone(), store, description))
        }
    }
}

pub async fn migrate(args: StorageArgs) -> Result<(), String> {
    let (_, description) = open(&args).await?;
    println!("migrations applied: {description}");
    Ok(())
}

fn read_key_file(path: &std::path::Path) -> Result<DbKey, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the key file {}: {e}", path.display()))?;
    DbKey::new(&text).map_err(|e| format!("{e} ({})", path.display()))
}

/// The SQLite key: `--db-key-file` / `CONCORD_DB_KEY_FILE`, or the key
/// itself in `CONCORD_DB_KEY`; none means a plain database.
pub fn db_key(args: &DbKeyArgs) -> Result<Option<DbKey>, String> {
    let from_env = std::env::var("CONCORD_DB_KEY")
        .ok()
        .filter(|k| !k.trim().is_empty());
    match (&args.db_key_file, from_env) {
        (Some(_), Some(_)) => {
            Err("give the database key once: CONCORD_DB_KEY or --db-key-file, not both".into())
        }
        (Some(file), None) => read_key_file(file).map(Some),
        (None, Some(key)) => DbKey::new(&key).map(Some),
        (None, None) => Ok(None),
    }
}

/// `concord rekey`: the server must be stopped.
pub fn rekey(args: RekeyArgs) -> Result<(), String> {
    let path = args.data_dir.join("concord.db");
    if !path.exists() {
        return Err(format!("no database at {}", path.display()));
    }
    let old = db_key(&args.key)?;
    let new = match (&args.new_key_file, args.decrypt) {
        (Some(file), false) => Some(read_key_file(file)?),
        (None, true) => None,
        _ => return Err("give --new-key-file FILE, or --decrypt".into()),
    };
    concord_store_sqlite::rekey(&path, old.as_ref(), new.as_ref())
        .map_err(|e| format!("rekey failed: {e}"))?;
    println!(
        "{}: {}",
        path.display(),
        if new.is_some() {
            "now encrypted with the new key"
        } else {
            "now a plain SQLite file"
        }
    );
    Ok(())
}
