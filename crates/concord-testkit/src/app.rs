//! A running Concord for one test.

use std::sync::Arc;

use concord_api::{router, ApiConfig, AppState};
use concord_core::Engine;
use concord_store::Store;
use concord_store_sqlite::SqliteStore;

pub struct TestApp {
    /// `http://127.0.0.1:PORT`
    pub base: String,
    pub client: reqwest::Client,
    pub engine: Engine,
    _dir: tempfile::TempDir,
    server: tokio::task::JoinHandle<()>,
}

impl TestApp {
    /// The production router over a fresh temporary store.
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(ApiConfig::default()).await
    }

    pub async fn spawn_with(config: ApiConfig) -> TestApp {
        let dir = tempfile::tempdir().expect("temporary directory");
        let store = test_store(&dir).await;
        let engine = Engine::new(store);
        let app = router(AppState {
            engine: engine.clone(),
            config,
        });
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
            _dir: dir,
            server,
        }
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

async fn test_store(dir: &tempfile::TempDir) -> Arc<dyn Store> {
    if std::env::var("CONCORD_TEST_BACKEND").as_deref() == Ok("postgres") {
        return postgres_store().await;
    }
    Arc::new(SqliteStore::open(dir.path().join("concord.db")).expect("open SQLite store"))
}

async fn postgres_store() -> Arc<dyn Store> {
    panic!("CONCORD_TEST_BACKEND=postgres but this build has no PostgreSQL backend yet")
}
