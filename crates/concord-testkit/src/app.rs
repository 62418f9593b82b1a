//! A running Concord for one test.

use std::sync::Arc;

use concord_api::{router, ApiConfig, AppState, AuthMode};
use concord_auth::{AuthConfig, AuthServer};
use concord_core::audit::AuditWriter;
use concord_core::ledger::{LedgerKey, MerkleLog};
use concord_core::Engine;
use concord_store::{AuthStore, Store, TenantContext};
use concord_store_postgres::PostgresStore;
use concord_store_sqlite::SqliteStore;

pub struct TestApp {
    /// `http://127.0.0.1:PORT`
    pub base: String,
    pub client: reqwest::Client,
    pub engine: Engine,
    /// The authorization server, when spawned with [`TestApp::spawn_with_auth`].
    pub auth: Option<AuthServer>,
    state: AppState,
    _dir: tempfile::TempDir,
    server: tokio::task::JoinHandle<()>,
}

impl TestApp {
    /// The production router over a fresh temporary store.
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(ApiConfig::default()).await
    }

    pub async fn spawn_with(config: ApiConfig) -> TestApp {
        TestApp::start(config, false).await
    }

    /// The production router with the engine adjusted by `adjust` (e.g. a
    /// search time budget).
    pub async fn spawn_with_engine(adjust: impl FnOnce(Engine) -> Engine) -> TestApp {
        TestApp::start_adjusted(ApiConfig::default(), false, adjust).await
    }

    /// The production router with `AuthMode::Required`: every FHIR request
    /// needs a token, and the SMART authorization server is served.
    pub async fn spawn_with_auth() -> TestApp {
        TestApp::start(ApiConfig::default(), true).await
    }

    /// As [`TestApp::spawn_with_auth`], with other settings (e.g. rate limits).
    pub async fn spawn_with_auth_config(config: ApiConfig) -> TestApp {
        TestApp::start(config, true).await
    }

    async fn start(config: ApiConfig, with_auth: bool) -> TestApp {
        TestApp::start_adjusted(config, with_auth, |e| e).await
    }

    async fn start_adjusted(
        mut config: ApiConfig,
        with_auth: bool,
        adjust: impl FnOnce(Engine) -> Engine,
    ) -> TestApp {
        let dir = tempfile::tempdir().expect("temporary directory");
        let (store, auth_store, tenant) = test_store(&dir).await;
        if let Some(tenant) = tenant {
            config.tenant = tenant;
        }
        let auth = with_auth.then(|| {
            AuthServer::new(
                auth_store,
                AuthConfig {
                    tenant: config.tenant.clone(),
                    ..AuthConfig::default()
                },
            )
        });
        if let Some(server) = &auth {
            config.auth = AuthMode::Required(server.clone());
        }
        let key = LedgerKey::load_or_create(&dir.path().join("keys")).expect("ledger key");
        let ledger = MerkleLog::new(store.clone(), key);
        let engine = adjust(Engine::new(store.clone()));
        let state = AppState {
            engine: engine.clone(),
            config: std::sync::Arc::new(config),
            audit: AuditWriter::spawn(store),
            ledger: Some(ledger),
        };
        let web = concord_web::WebState {
            engine: engine.clone(),
            auth: auth.clone(),
            audit: state.audit.clone(),
            config: concord_web::WebConfig {
                tenant: state.config.tenant.clone(),
                secure_cookies: false,
            },
        };
        // The production routers: the FHIR API and the web UI beside it.
        let app = router(state.clone()).merge(concord_web::router(web));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind port 0");
        let addr = listener.local_addr().expect("local address");
        let server = tokio::spawn(async move {
            let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
            let _ = axum::serve(listener, app).await;
        });
        TestApp {
            base: format!("http://{addr}"),
            client: reqwest::Client::new(),
            engine,
            auth,
            state,
            _dir: dir,
            server,
        }
    }

    /// The app's state (audit writer, Merkle log).
    pub fn state(&self) -> &AppState {
        &self.state
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
async fn test_store(
    dir: &tempfile::TempDir,
) -> (Arc<dyn Store>, Arc<dyn AuthStore>, Option<String>) {
    if std::env::var("CONCORD_TEST_BACKEND").as_deref() == Ok("postgres") {
        let url = std::env::var("CONCORD_TEST_POSTGRES_URL")
            .expect("CONCORD_TEST_BACKEND=postgres needs CONCORD_TEST_POSTGRES_URL");
        let store = PostgresStore::connect(&url)
            .await
            .expect("connect to the PostgreSQL test database");
        let tenant = format!("test-{}", uuid::Uuid::new_v4().simple());
        let store = Arc::new(store);
        return (store.clone(), store, Some(tenant));
    }
    let store =
        Arc::new(SqliteStore::open(dir.path().join("concord.db")).expect("open SQLite store"));
    (store.clone(), store, None)
}
