//! A Concord server inside the benchmark process, on a temporary database.

use std::sync::Arc;

use concord_api::{router, ApiConfig, AppState, AuthMode};
use concord_auth::{AuthConfig, AuthServer};
use concord_core::audit::AuditWriter;
use concord_core::{Engine, IndexPolicy};
use concord_store::{AuthStore, Store};

use super::audit_modes::Setup;
use concord_store_postgres::PostgresStore;
use concord_store_sqlite::SqliteStore;

pub struct BenchServer {
    pub base: String,
    pub engine: Engine,
    pub backend: String,
    pub tenant: String,
    /// The audit writer (flushed before figures are final).
    pub audit: AuditWriter,
    /// With authorization on: the operator token every request carries.
    pub token: Option<String>,
    _dir: tempfile::TempDir,
    task: tokio::task::JoinHandle<()>,
}

impl BenchServer {
    /// A server on a temporary database, or with the SQLite database in
    /// `keep` (kept after the run) when given.
    pub async fn start(
        database_url: Option<&str>,
        keep: Option<&std::path::Path>,
        full_index: bool,
    ) -> Result<BenchServer, String> {
        BenchServer::open(database_url, keep, full_index, true, Setup::AUDIT_ONLY).await
    }

    /// Like [`BenchServer::start`], in `setup`: audit off drops the audit
    /// records instead of writing them (the baseline of `--audit compare`);
    /// authorization on serves the real authorization server and guard
    /// and mints an operator token ([`BenchServer::token`]).
    pub async fn start_in(
        database_url: Option<&str>,
        full_index: bool,
        setup: Setup,
    ) -> Result<BenchServer, String> {
        BenchServer::open(database_url, None, full_index, true, setup).await
    }

    /// A server on a kept SQLite directory (or PostgreSQL), every search
    /// parameter indexed, in the default tenant so a later run finds the data.
    pub async fn start_at(
        database_url: Option<&str>,
        data_dir: Option<&std::path::Path>,
    ) -> Result<BenchServer, String> {
        BenchServer::open(database_url, data_dir, true, false, Setup::AUDIT_ONLY).await
    }

    async fn open(
        database_url: Option<&str>,
        data_dir: Option<&std::path::Path>,
        full_index: bool,
        own_tenant: bool,
        setup: Setup,
    ) -> Result<BenchServer, String> {
        let dir = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
        let db_dir = match data_dir {
            Some(d) => {
                std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
                d.to_path_buf()
            }
            None => dir.path().to_path_buf(),
        };
        let (store, auth_store, backend): (Arc<dyn Store>, Arc<dyn AuthStore>, String) =
            match database_url {
                Some(url) => {
                    let pg = Arc::new(
                        PostgresStore::connect(url)
                            .await
                            .map_err(|e| e.to_string())?,
                    );
                    (pg.clone(), pg, "PostgreSQL".into())
                }
                None => {
                    // CONCORD_DB_KEY set: the database is encrypted (SQLCipher).
                    let key = crate::storage::db_key(&Default::default())?;
                    let encrypted = if key.is_some() { ", encrypted" } else { "" };
                    let sqlite = Arc::new(
                        SqliteStore::open_with_key(db_dir.join("concord.db"), key)
                            .map_err(|e| e.to_string())?,
                    );
                    (
                        sqlite.clone(),
                        sqlite,
                        if data_dir.is_some() {
                            format!("SQLite ({}{encrypted})", db_dir.display())
                        } else {
                            format!("SQLite (temporary file{encrypted})")
                        },
                    )
                }
            };
        let policy = if full_index {
            IndexPolicy::AllSearchParameters
        } else {
            IndexPolicy::Identifiers
        };
        let audit = if setup.audit {
            AuditWriter::spawn(store.clone())
        } else {
            AuditWriter::discard_for_benchmark()
        };
        let engine = Engine::new(store).with_index_policy(policy);
        let mut config = ApiConfig {
            max_body_bytes: 256 * 1024 * 1024,
            ..ApiConfig::default()
        };
        if database_url.is_some() && own_tenant {
            // A tenant of its own, so repeated runs on one database don't mix.
            config.tenant = format!("bench-{}", std::process::id());
        }
        let tenant = config.tenant.clone();
        let auth = setup.auth.then(|| {
            AuthServer::new(
                auth_store,
                AuthConfig {
                    tenant: tenant.clone(),
                    ..AuthConfig::default()
                },
            )
        });
        if let Some(a) = &auth {
            config.auth = AuthMode::Required(a.clone());
        }
        let app = router(AppState {
            engine: engine.clone(),
            config: std::sync::Arc::new(config),
            audit: audit.clone(),
            ledger: None,
        })
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| format!("bind: {e}"))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let base = format!("http://{addr}");
        let token = match &auth {
            Some(a) => Some(
                a.operator_token(&base, "bench", "system/*.*")
                    .await
                    .map_err(|e| format!("operator token: {e}"))?,
            ),
            None => None,
        };
        Ok(BenchServer {
            base,
            token,
            engine,
            backend,
            tenant,
            audit,
            _dir: dir,
            task,
        })
    }
}

impl Drop for BenchServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
