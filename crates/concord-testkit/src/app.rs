//! A running Concord for one test.

use std::sync::Arc;

use concord_api::{router, ApiConfig, AppState};
use concord_core::Engine;
use concord_store::{Store, TenantContext};
use concord_store_postgres::PostgresStore;
use concord_store_sqlite::SqliteStore;

pub struct TestApp {
    /// `http://127.0.0.1:PORT`
    pub base: String,
    pub client: reqwest::Client,
    pub engine: Engine,
    state: AppState,
    _dir: tempfile::TempDir,
    server: tokio::task::JoinHandle<()>,
}

impl TestApp {
    /// The production router over a fresh temporary store.
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(ApiConfig::default()).await
    }

    pub async fn spawn_with(mut config: ApiConfig) -> TestApp {
        let dir = tempfile::tempdir().expect("temporary directory");
        let (store, tenant) = test_store(&dir).await;
        if let Some(tenant) = tenant {
            config.tenant = tenant;
        }
        let engine = Engine::new(store);
        let state = AppState {
            engine: engine.clone(),
            config,
        };
        let app = router(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind port 0");
        let addr = listener.local_addr().expect("local address");
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        TestApp {
            base: format!("http://{addr}"),
            client: reqwest::Client::new(),
            engine,
            state,
            _dir: dir,
            server,
        }
    }

    /// The store context the app's requests use (its tenant), for checking
    /// stored data directly.
    pub fn context(&self) -> TenantContext {
        self.state.context("test")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/{}", self.base, path.trim_start_matches('/'))
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// A fresh SQLite file, or (with `CONCORD_TEST_BACKEND=postgres`) the shared
/// test database with a tenant of this app's own, so tests never see each other.
async fn test_store(dir: &tempfile::TempDir) -> (Arc<dyn Store>, Option<String>) {
    if std::env::var("CONCORD_TEST_BACKEND").as_deref() == Ok("postgres") {
        let url = std::env::var("CONCORD_TEST_POSTGRES_URL")
            .expect("CONCORD_TEST_BACKEND=postgres needs CONCORD_TEST_POSTGRES_URL");
        let store = PostgresStore::connect(&url)
            .await
            .expect("connect to the PostgreSQL test database");
        let tenant = format!("test-{}", uuid::Uuid::new_v4().simple());
        return (Arc::new(store), Some(tenant));
    }
    let store = SqliteStore::open(dir.path().join("concord.db")).expect("open SQLite store");
    (Arc::new(store), None)
}
