//! A Concord server with the web UI inside the benchmark process, on a
//! temporary (or kept) SQLite database or on PostgreSQL, with staff
//! sign-in like a browser's: for `concord bench chart` and `concord bench
//! patient-search`.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use concord_api::{router, ApiConfig, AppState, AuthMode};
use concord_auth::totp::{totp_at, TotpAlgorithm};
use concord_auth::{AccountKind, AuthConfig, AuthServer, NewUser, Role};
use concord_core::audit::AuditWriter;
use concord_core::Engine;
use concord_store::{Actor, AuthStore, Store, TenantContext};
use concord_store_postgres::PostgresStore;
use concord_store_sqlite::SqliteStore;

const PASSWORD: &str = "bench web password 1";

pub struct WebBench {
    pub base: String,
    pub engine: Engine,
    /// "SQLite" or "PostgreSQL".
    pub backend: &'static str,
    /// An operator context for loading data.
    pub ctx: TenantContext,
    pub auth: AuthServer,
    pub http: reqwest::Client,
    _dir: tempfile::TempDir,
    task: tokio::task::JoinHandle<()>,
}

/// A signed-in staff member: the session cookie's value and the account id.
pub struct Session(pub String, pub String);

fn cookie(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

impl WebBench {
    /// Starts the API and web routers on PostgreSQL (`database_url`, a
    /// tenant of this process's own) or SQLite (in `keep`, else a temporary
    /// folder, default tenant).
    pub async fn start(
        database_url: Option<&str>,
        keep: Option<&Path>,
    ) -> Result<WebBench, String> {
        let dir = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
        let mut config = ApiConfig::default();
        let (store, auth_store, backend): (Arc<dyn Store>, Arc<dyn AuthStore>, _) =
            match database_url {
                Some(url) => {
                    let s = Arc::new(
                        PostgresStore::connect(url)
                            .await
                            .map_err(|e| e.to_string())?,
                    );
                    config.tenant = format!("bench-{}", std::process::id());
                    (s.clone(), s, "PostgreSQL")
                }
                None => {
                    let folder = match keep {
                        Some(k) => {
                            std::fs::create_dir_all(k)
                                .map_err(|e| format!("{}: {e}", k.display()))?;
                            k.to_path_buf()
                        }
                        None => dir.path().to_path_buf(),
                    };
                    let s = Arc::new(
                        SqliteStore::open(folder.join("concord.db")).map_err(|e| e.to_string())?,
                    );
                    (s.clone(), s, "SQLite")
                }
            };
        let auth = AuthServer::new(
            auth_store,
            AuthConfig {
                tenant: config.tenant.clone(),
                ..AuthConfig::default()
            },
        );
        let engine = Engine::new(store.clone());
        let ctx = TenantContext::new(
            config.tenant.clone(),
            Actor::Operator("bench".into()),
            "bench-web",
        );
        let state = AppState {
            engine: engine.clone(),
            config: std::sync::Arc::new(ApiConfig {
                auth: AuthMode::Required(auth.clone()),
                ..config
            }),
            audit: AuditWriter::spawn(store),
            ledger: None,
        };
        let web = crate::serve::web_state(&state, false);
        let app = router(state)
            .merge(concord_web::router(web))
            .into_make_service_with_connect_info::<std::net::SocketAddr>();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| format!("bind: {e}"))?;
        let base = format!(
            "http://{}",
            listener.local_addr().map_err(|e| e.to_string())?
        );
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| e.to_string())?;
        Ok(WebBench {
            base,
            engine,
            backend,
            ctx,
            auth,
            http,
            _dir: dir,
            task,
        })
    }

    /// Adds a staff account (a name unique to this process, so reruns on
    /// one PostgreSQL database do not clash) and signs it in through the
    /// login form with its TOTP code.
    pub async fn sign_in(&self, role: Role, fhir_user: Option<String>) -> Result<Session, String> {
        let username = format!("bench.{}.{}", role.code(), std::process::id());
        let user = self
            .auth
            .add_user(NewUser {
                username: username.clone(),
                display_name: "Bench User".into(),
                kind: AccountKind::Staff(role),
                password: PASSWORD.into(),
                fhir_user,
                with_totp: true,
            })
            .await
            .map_err(|e| e.to_string())?;
        let secret = user.totp_secret.ok_or("no TOTP secret")?;
        let account = user.user.id.clone();
        let base = &self.base;
        let form = self
            .http
            .get(format!("{base}/ui/login"))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let pre = cookie(&form, "concord_ui_pre").ok_or("no pre-session cookie")?;
        let page = form.text().await.map_err(|e| e.to_string())?;
        let marker = "name=\"_csrf\" value=\"";
        let start = page.find(marker).ok_or("no CSRF token")? + marker.len();
        let csrf = page[start..].split('"').next().unwrap_or("").to_string();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|e| e.to_string())?
            .as_secs();
        let code = totp_at(&secret, now, 6, TotpAlgorithm::Sha1);
        let body = format!(
            "_csrf={csrf}&username={username}&password={}&totp={code}",
            PASSWORD.replace(' ', "+")
        );
        let signed = self
            .http
            .post(format!("{base}/ui/login"))
            .header("cookie", format!("concord_ui_pre={pre}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        cookie(&signed, "concord_ui")
            .map(|c| Session(c, account))
            .ok_or_else(|| "sign-in refused".to_string())
    }

    /// Times `GET url` for each of `urls` in turn (one at a time), with the
    /// header `name: value`; returns the sorted latencies and the last
    /// response's size. Any answer but 2xx is an error.
    pub async fn time_gets(
        &self,
        urls: &[String],
        header: (&str, String),
    ) -> Result<(Vec<Duration>, usize), String> {
        let mut samples = Vec::with_capacity(urls.len());
        let mut size = 0;
        for url in urls {
            let t = Instant::now();
            let r = self
                .http
                .get(url)
                .header(header.0, header.1.as_str())
                .send()
                .await
                .map_err(|e| e.to_string())?;
            if !r.status().is_success() {
                return Err(format!("{url} answered {}", r.status()));
            }
            size = r.bytes().await.map_err(|e| e.to_string())?.len();
            samples.push(t.elapsed());
        }
        samples.sort();
        Ok((samples, size))
    }
}

impl Session {
    /// The request header carrying this session.
    pub fn header(&self) -> (&'static str, String) {
        ("cookie", format!("concord_ui={}", self.0))
    }
}

impl Drop for WebBench {
    fn drop(&mut self) {
        self.task.abort();
    }
}
