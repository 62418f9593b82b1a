//! `concord serve`.

use std::net::SocketAddr;
use std::sync::Arc;

use concord_api::{router, ApiConfig, AppState, AuthMode};
use concord_auth::{AuthConfig, AuthServer};
use concord_core::audit::AuditWriter;
use concord_core::ledger::{LedgerKey, MerkleLog};
use concord_core::{Engine, IndexPolicy};
use concord_interfaces::Monitor;

use crate::cli::ServeArgs;
use crate::storage;

pub async fn run(args: ServeArgs) -> Result<(), String> {
    let interfaces = crate::mllp::load_config(&args.mllp)?;
    let monitor = Arc::new(Monitor::new(interfaces));
    let (store, auth_store, description) = storage::open_with_auth(&args.storage).await?;
    let mut config = ApiConfig {
        base_url: args.base_url.clone(),
        max_body_bytes: args.max_body_mb.saturating_mul(1024 * 1024),
        hl7v2_default_offset: args.mllp.hl7v2_default_offset.clone(),
        hl7v2_monitor: monitor.clone(),
        rate_limits: concord_api::RateLimits::new(
            args.limits.rate_login_per_address,
            args.limits.rate_login_per_username,
            args.limits.rate_token_per_address,
            args.limits.rate_token_per_client,
        ),
        ..ApiConfig::default()
    };
    let tls = crate::tls::server_config(&args.tls, &args.storage.data_dir, args.listen)?;
    config.tls = tls.is_some();
    if args.auth {
        let auth = AuthServer::new(
            auth_store,
            AuthConfig {
                tenant: config.tenant.clone(),
                issuer: args.base_url.clone(),
                break_glass_ttl: args.break_glass_minutes.max(1) * 60,
                ..AuthConfig::default()
            },
        );
        config.auth = AuthMode::Required(auth);
    }
    let policy = if args.search_index {
        IndexPolicy::AllSearchParameters
    } else {
        IndexPolicy::Identifiers
    };
    let key = LedgerKey::load_or_create(&args.storage.data_dir)?;
    let ledger = MerkleLog::new(store.clone(), key);
    let signer = ledger.spawn_signer(std::time::Duration::from_secs(
        args.tree_head_interval_secs.max(1),
    ));
    let state = AppState {
        audit: AuditWriter::spawn(store.clone()),
        engine: Engine::new(store)
            .with_index_policy(policy)
            .with_search_budget(
                (args.search_timeout_secs > 0)
                    .then(|| std::time::Duration::from_secs(args.search_timeout_secs)),
            ),
        config: std::sync::Arc::new(config),
        ledger: Some(ledger),
    };
    let mllp = crate::mllp::start(
        &args.mllp,
        state.engine.clone(),
        state.config.tenant.clone(),
        monitor.clone(),
    )
    .await?;
    let outbound =
        crate::mllp::start_outbound(state.engine.clone(), state.config.tenant.clone(), &monitor)
            .await?;
    let result = match tls {
        Some(tls) => serve_tls(state.clone(), args.listen, &description, tls).await,
        None => serve(state.clone(), args.listen, &description).await,
    };
    signer.abort();
    if let Some(outbound) = outbound {
        // Stops between messages; un-ACKed ones are sent after the restart.
        outbound.shutdown().await;
    }
    finish(&state).await;
    if let Some(server) = mllp {
        // Lets each connection finish the message it is on.
        if let Err(e) = server.shutdown().await {
            tracing::warn!(error = %e, "MLLP listener did not stop cleanly");
        }
    }
    result
}

/// On shutdown: commit the buffered AuditEvents, then sign a last tree head.
pub async fn finish(state: &AppState) {
    state.audit.flush().await;
    if let Some(log) = &state.ledger {
        if let Err(e) = log.issue_if_grown().await {
            tracing::warn!(error = %e, "no final tree head");
        }
    }
}

/// Binds, prints the URL, and serves until Ctrl-C / SIGTERM.
pub async fn serve(state: AppState, listen: SocketAddr, description: &str) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("no local address: {e}"))?;
    // One line: callers read the first line and may close the pipe then.
    println!(
        "Concord FHIR R4 server: http://{addr}/metadata  (storage: {description})  clinician workspace: http://{addr}/ui/"
    );
    let web = web_state(&state, false);
    let app = router(state)
        .merge(concord_web::router(web))
        .into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown())
        .await
        .map_err(|e| format!("server error: {e}"))
}

/// The web UI's state, sharing the API's engine, authorization server and
/// audit writer. `secure_cookies`: the server speaks TLS.
pub fn web_state(state: &AppState, secure_cookies: bool) -> concord_web::WebState {
    concord_web::WebState {
        engine: state.engine.clone(),
        auth: state.config.auth.server().cloned(),
        audit: state.audit.clone(),
        config: concord_web::WebConfig {
            tenant: state.config.tenant.clone(),
            secure_cookies,
        },
    }
}

/// As [`serve`], over HTTPS.
pub async fn serve_tls(
    state: AppState,
    listen: SocketAddr,
    description: &str,
    tls: Arc<rustls::ServerConfig>,
) -> Result<(), String> {
    use axum::serve::ListenerExt;
    let tcp = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let listener =
        crate::tls::TlsListener::new(tcp, tls).map_err(|e| format!("no local address: {e}"))?;
    let addr = axum::serve::Listener::local_addr(&listener)
        .map_err(|e| format!("no local address: {e}"))?;
    // One line: callers read the first line and may close the pipe then.
    println!(
        "Concord FHIR R4 server: https://{addr}/metadata  (storage: {description})  clinician workspace: https://{addr}/ui/"
    );
    let web = web_state(&state, true);
    let app = router(state)
        .merge(concord_web::router(web))
        .into_make_service_with_connect_info::<SocketAddr>();
    // `tap_io` gives the connection its peer address (ConnectInfo) for the
    // audit trail and the rate limits.
    axum::serve(listener.tap_io(|_| {}), app)
        .with_graceful_shutdown(shutdown())
        .await
        .map_err(|e| format!("server error: {e}"))
}

pub async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
