//! `concord demo`: the server with authentication on a local SQLite
//! database. On first start it generates a population (`concord-synth`),
//! loads it through the engine's transaction path (validation, indexing,
//! ledger) one patient bundle per transaction, and creates demo accounts
//! (one per staff role, patients and a proxy). Later starts reuse the data.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Instant;

use concord_api::{router, ApiConfig, AppState, AuthMode};
use concord_auth::{AccountKind, AuthConfig, AuthServer, NewUser, Role};
use concord_core::audit::{Action, Agent, AuditRecord, AuditWriter, Category, Evidence};
use concord_core::Engine;
use concord_store::{Actor, TenantContext, DEFAULT_TENANT};
use concord_synth::{Generator, StaffRole};
use futures::StreamExt;
use serde_json::Value;

use crate::cli::{DemoArgs, StorageArgs};
use crate::{generate, serve, storage};

/// A demo login: username, the role or kind shown, and what it is linked to.
struct Login {
    username: String,
    kind: AccountKind,
    fhir_user: Option<String>,
    display: String,
}

/// Demo passwords are fixed (and printed): this is a local demo.
fn password(username: &str) -> String {
    format!("demo-{username}-2026")
}

pub async fn run(args: DemoArgs) -> Result<(), String> {
    let started = Instant::now();
    let storage_args = StorageArgs {
        data_dir: args.data_dir.clone(),
        database_url: None,
        // The demo needs no key (a plain SQLite file).
        key: Default::default(),
    };
    let (store, auth_store, description) = storage::open_with_auth(&storage_args).await?;
    let engine = Engine::new(store.clone());
    let ctx = TenantContext::new(DEFAULT_TENANT, Actor::Operator("demo".into()), "demo-seed");
    let g = generate::generator(args.seed, None)?;
    let stored = engine
        .store()
        .count_by_type(&ctx)
        .await
        .map_err(|e| format!("cannot read the demo database: {e}"))?;
    let audit = AuditWriter::spawn(store.clone());
    if stored.is_empty() {
        load(&engine, &audit, &ctx, &g, args.patients, args.jobs).await?;
    } else {
        let patients = stored
            .iter()
            .find(|(t, _)| t == "Patient")
            .map_or(0, |(_, n)| *n);
        println!(
            "using the existing demo data ({patients} patients) in {}",
            args.data_dir.display()
        );
    }
    let auth = AuthServer::new(
        auth_store,
        AuthConfig {
            tenant: DEFAULT_TENANT.to_string(),
            ..AuthConfig::default()
        },
    );
    let logins = logins(&g, args.patients);
    let existing = auth.list_users().await.map_err(|e| e.to_string())?;
    if existing.is_empty() {
        for login in &logins {
            auth.add_user(NewUser {
                username: login.username.clone(),
                display_name: login.display.clone(),
                kind: login.kind.clone(),
                password: password(&login.username),
                fhir_user: login.fhir_user.clone(),
                with_totp: matches!(login.kind, AccountKind::Staff(_)),
            })
            .await
            .map_err(|e| format!("cannot create demo account {}: {e}", login.username))?;
        }
        println!("created {} demo accounts", logins.len());
    }

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("no local address: {e}"))?;
    print_guide(&args.data_dir, addr, &logins);

    let key = concord_core::ledger::LedgerKey::load_or_create(&args.data_dir)?;
    let ledger = concord_core::ledger::MerkleLog::new(store.clone(), key);
    let signer = ledger.spawn_signer(std::time::Duration::from_secs(60));
    let state = AppState {
        engine,
        config: std::sync::Arc::new(ApiConfig {
            auth: AuthMode::Required(auth),
            ..ApiConfig::default()
        }),
        audit,
        ledger: Some(ledger),
    };
    println!("ready in {:.1}s", started.elapsed().as_secs_f64());
    println!("Concord FHIR R4 server: http://{addr}/metadata  (storage: {description})");
    let web = serve::web_state(&state, false);
    let app = router(state.clone())
        .merge(concord_web::router(web))
        .into_make_service_with_connect_info::<SocketAddr>();
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(serve::shutdown())
        .await
        .map_err(|e| format!("server error: {e}"));
    signer.abort();
    serve::finish(&state).await;
    result
}

/// Generates and loads the directory and `patients` patient bundles, a few
/// transactions at once, printing progress.
async fn load(
    engine: &Engine,
    audit: &AuditWriter,
    ctx: &TenantContext,
    g: &Generator,
    patients: u64,
    jobs: usize,
) -> Result<(), String> {
    let started = Instant::now();
    println!("generating and loading {patients} patients through the write path ({jobs} at once)…");
    let mut resources = transact(engine, audit, ctx, g.directory_bundle(), None).await?;
    let step = (patients / 10).max(1);
    let mut done = 0u64;
    let mut loads = futures::stream::iter(0..patients)
        .map(|i| async move {
            let patient = g.patient_id(i);
            transact(engine, audit, ctx, g.patient_bundle(i), Some(patient)).await
        })
        .buffer_unordered(jobs.max(1));
    while let Some(result) = loads.next().await {
        resources += result?;
        done += 1;
        if done.is_multiple_of(step) || done == patients {
            println!("  {done}/{patients} patients, {resources} resources");
        }
    }
    println!(
        "seeded {patients} patients ({resources} resources) in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// One transaction, audited as the operator's (one AuditEvent naming the
/// patient); the number of entries written.
async fn transact(
    engine: &Engine,
    audit: &AuditWriter,
    ctx: &TenantContext,
    bundle: Value,
    patient: Option<String>,
) -> Result<usize, String> {
    let (_, results) = engine
        .process_bundle(ctx, bundle)
        .await
        .map_err(|e| format!("loading the demo failed: {e}"))?;
    let mut n = 0;
    for r in results {
        r.map_err(|e| format!("loading the demo failed: {e}"))?;
        n += 1;
    }
    let record = AuditRecord {
        tenant: DEFAULT_TENANT.to_string(),
        recorded: concord_store::timestamp::now_millis(),
        category: Category::Rest,
        interaction: "transaction".into(),
        action: Action::Execute,
        status: 200,
        agent: Agent {
            who: "operator:demo".into(),
            name: Some("concord demo (seeding)".into()),
            ..Agent::default()
        },
        address: None,
        resource: patient.as_ref().map(|p| format!("Patient/{p}")),
        query: None,
        operation: None,
        patients: patient.into_iter().collect(),
        request_id: ctx.request_id.clone(),
        reason: None,
    };
    audit.record(record, Evidence::None).await;
    Ok(n)
}

/// The demo accounts: one per staff role (clinical ones linked to
/// generated Practitioners with care teams), three patients of the demo
/// physician and a proxy for a fourth.
fn logins(g: &Generator, patients: u64) -> Vec<Login> {
    let dir = g.directory();
    let clinician = |role: StaffRole| {
        dir.staff_of(0, role)
            .first()
            .map(|s| (format!("Practitioner/{}", s.id), s.display()))
    };
    let physician = clinician(StaffRole::Physician);
    let mut out = Vec::new();
    for role in Role::ALL {
        let linked = match role {
            Role::Physician => physician.clone(),
            Role::Nurse => clinician(StaffRole::Nurse),
            Role::MedicalAssistant => clinician(StaffRole::MedicalAssistant),
            _ => None,
        };
        out.push(Login {
            username: role.code().to_string(),
            kind: AccountKind::Staff(role),
            display: linked.as_ref().map_or_else(
                || format!("Demo {}", role.code().replace('-', " ")),
                |(_, name)| name.clone(),
            ),
            fhir_user: linked.map(|(reference, _)| reference),
        });
    }
    // Patients of the demo physician, so both sides of the story meet.
    let mut chosen: Vec<(String, String)> = Vec::new();
    for i in 0..patients.min(500) {
        let bundle = g.patient_bundle(i);
        let patient = &bundle["entry"][0]["resource"];
        let gp = patient["generalPractitioner"][0]["reference"]
            .as_str()
            .unwrap_or_default();
        if physician.as_ref().is_some_and(|(r, _)| r == gp)
            || (chosen.len() < 4 && i + 4 >= patients)
        {
            let name = format!(
                "{} {}",
                patient["name"][0]["given"][0].as_str().unwrap_or_default(),
                patient["name"][0]["family"].as_str().unwrap_or_default()
            );
            chosen.push((g.patient_id(i), name));
            if chosen.len() == 4 {
                break;
            }
        }
    }
    for (n, (id, name)) in chosen.iter().take(3).enumerate() {
        out.push(Login {
            username: format!("patient{}", n + 1),
            kind: AccountKind::Patient {
                patient: id.clone(),
            },
            fhir_user: None,
            display: name.clone(),
        });
    }
    if let Some((id, name)) = chosen.get(3) {
        out.push(Login {
            username: "guardian".into(),
            kind: AccountKind::Proxy {
                patients: vec![id.clone()],
            },
            fhir_user: None,
            display: format!("Proxy for {name}"),
        });
    }
    out
}

fn print_guide(data_dir: &Path, addr: SocketAddr, logins: &[Login]) {
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "concord".into());
    let dir = data_dir.display();
    println!();
    println!("Concord demo (clinician workspace): http://{addr}/ui/");
    println!("Sign in with one of these accounts (staff also enter a TOTP code):");
    println!("  {:<18} {:<30} who", "username", "password");
    for l in logins {
        let who = match &l.kind {
            AccountKind::Staff(role) => match &l.fhir_user {
                Some(r) => format!("{} — {} ({r})", role.code(), l.display),
                None => role.code().to_string(),
            },
            AccountKind::Patient { patient } => {
                format!("patient {} (Patient/{patient})", l.display)
            }
            AccountKind::Proxy { patients } => {
                format!("{} (Patient/{})", l.display, patients.join(", Patient/"))
            }
        };
        println!("  {:<18} {:<30} {who}", l.username, password(&l.username));
    }
    println!("Current TOTP code of a staff account (changes every 30 s):");
    println!("  {exe} admin user totp-code physician --data-dir {dir}");
    println!("FHIR API with an operator token (read-only system scopes), e.g. with curl:");
    println!("  TOKEN=$({exe} admin token --data-dir {dir} --base-url http://{addr})");
    println!("  curl -H \"Authorization: Bearer $TOKEN\" 'http://{addr}/Patient?_count=5'");
    println!();
}
