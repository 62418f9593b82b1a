//! Commands and options. Every option can also be set with a `CONCORD_*`
//! environment variable.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "concord",
    version,
    about = "Concord: an open-source EHR on FHIR R4",
    long_about = "Concord is an Electronic Health Record built on FHIR R4 (4.0.1).\n\
                  Run `concord demo` to try it with sample data, `concord serve` to run it for real.\n\
                  Every option can also be given as an environment variable (shown as [env: …])."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the FHIR R4 server (REST API) over SQLite (default) or PostgreSQL.
    Serve(ServeArgs),
    /// Run the server with authentication on a local SQLite database, seeded
    /// on first start with a generated population and demo logins.
    Demo(DemoArgs),
    /// Generate a synthetic population (FHIR R4 / US Core) as transaction
    /// Bundles or NDJSON files.
    Generate(GenerateArgs),
    /// Load FHIR Bundles or NDJSON (files or folders) through the normal write path.
    Import(ImportArgs),
    /// Apply pending database migrations and exit.
    Migrate(StorageArgs),
    /// Recompute the search index of every stored resource and exit.
    Reindex(StorageArgs),
    /// Evaluate a FHIRPath expression against a resource and print the result as JSON.
    Fhirpath(FhirPathArgs),
    /// Measure Concord and print the figures.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Accounts and operator tokens.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Check the tamper-evident ledger: recompute every entry from the stored
    /// resource versions, the hash chain, the Merkle tree and each signed tree
    /// head; name each modified, deleted, inserted or reordered entry (exit 1).
    Verify(VerifyArgs),
    /// Check an inclusion proof (the JSON of `GET …/_history/{vid}/$ledger-proof`)
    /// or a consistency proof (`GET /$ledger-consistency?first=N`) with only
    /// the ledger's public key.
    VerifyProof(VerifyProofArgs),
    /// Change the SQLite database's encryption key (SQLCipher): encrypt a
    /// plain database, rotate the key, or (--decrypt) remove it.
    Rekey(RekeyArgs),
}

#[derive(Debug, Clone, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub storage: StorageArgs,
    /// The ledger public key (base64), if not the key file in the data directory.
    #[arg(long)]
    pub public_key: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct VerifyProofArgs {
    /// The ledger public key, base64 (from `/.well-known/concord-ledger-key`).
    #[arg(long)]
    pub public_key: String,
    /// The proof file (JSON).
    pub proof: PathBuf,
}

/// Whether a benchmark writes audit records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AuditBench {
    /// Audit every request, as `concord serve` does.
    On,
    /// Drop the audit records (the baseline).
    Off,
    /// Run without authorization and audit, with audit only, and with
    /// both; print each overhead.
    Compare,
}

/// Whether a benchmark's requests carry a bearer token checked by the guard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AuthBench {
    /// No authorization server: requests are anonymous (the baseline).
    Off,
    /// The real authorization server and guard: every request carries an
    /// operator token (`system/*.*`) that is validated on every request.
    On,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Manage user accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Print a short-lived operator access token (system/ scopes) for scripts and benchmarks.
    Token(TokenArgs),
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add an account. The password is read from CONCORD_NEW_PASSWORD or the
    /// first line of standard input (never from the command line). Staff get
    /// a TOTP secret, printed once as an otpauth:// URI.
    Add(UserAddArgs),
    /// List accounts (no secrets).
    List(StorageArgs),
    /// Deactivate an account: sign-in refused, sessions and tokens revoked.
    Disable(UserNameArgs),
    /// Re-activate an account.
    Enable(UserNameArgs),
    /// Set a temporary password (from CONCORD_NEW_PASSWORD or standard input)
    /// that the user must change at next sign-in; revokes sessions and tokens.
    ResetPassword(UserNameArgs),
    /// Print the current TOTP code (RFC 6238) of a local account, for demos
    /// and scripts.
    TotpCode(UserNameArgs),
}

#[derive(Debug, Clone, Args)]
pub struct UserAddArgs {
    pub username: String,
    /// staff, patient or proxy.
    #[arg(long, default_value = "staff")]
    pub kind: String,
    /// Staff role: physician, nurse, medical-assistant, front-desk, billing,
    /// practice-admin, security-officer, system-admin.
    #[arg(long)]
    pub role: Option<String>,
    /// Linked Patient id (once for a patient, one or more for a proxy).
    #[arg(long = "patient")]
    pub patients: Vec<String>,
    /// Display name.
    #[arg(long)]
    pub name: Option<String>,
    /// FHIR reference of the person, e.g. Practitioner/123.
    #[arg(long)]
    pub fhir_user: Option<String>,
    /// Enrol TOTP for a patient or proxy too (always for staff).
    #[arg(long)]
    pub totp: bool,
    #[command(flatten)]
    pub storage: StorageArgs,
}

#[derive(Debug, Clone, Args)]
pub struct UserNameArgs {
    pub username: String,
    #[command(flatten)]
    pub storage: StorageArgs,
}

#[derive(Debug, Clone, Args)]
pub struct TokenArgs {
    /// Space-separated system/ scopes, e.g. 'system/*.*' or 'system/Patient.rs'.
    #[arg(long, default_value = "system/*.rs")]
    pub scope: String,
    /// Who the token is for (recorded as the subject).
    #[arg(long, default_value = "operator")]
    pub operator: String,
    /// Issuer and audience to put in the token: the server's base URL (the
    /// server refuses tokens issued for another base URL).
    #[arg(
        long,
        env = "CONCORD_BASE_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub base_url: String,
    #[command(flatten)]
    pub storage: StorageArgs,
}

/// Where the data lives.
#[derive(Debug, Clone, Args)]
pub struct StorageArgs {
    /// Directory for the embedded SQLite database (created if missing).
    #[arg(long, env = "CONCORD_DATA_DIR", default_value = "./concord-data")]
    pub data_dir: PathBuf,
    /// Use PostgreSQL instead of SQLite, e.g. postgres://user:pass@host/db.
    #[arg(long, env = "CONCORD_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    #[command(flatten)]
    pub key: DbKeyArgs,
}

/// The SQLite database's encryption key (SQLCipher). Without one the
/// database is a plain SQLite file. See docs/security.md.
#[derive(Debug, Clone, Default, Args)]
pub struct DbKeyArgs {
    /// A file holding the SQLite database key: 64 hex digits (a raw 256-bit
    /// key, e.g. `openssl rand -hex 32`) or a passphrase. The key itself may
    /// instead be given in CONCORD_DB_KEY.
    #[arg(long, env = "CONCORD_DB_KEY_FILE")]
    pub db_key_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct RekeyArgs {
    /// Directory of the SQLite database (the server must be stopped).
    #[arg(long, env = "CONCORD_DATA_DIR", default_value = "./concord-data")]
    pub data_dir: PathBuf,
    /// The current key (or CONCORD_DB_KEY); none for a plain database.
    #[command(flatten)]
    pub key: DbKeyArgs,
    /// A file holding the new key (64 hex digits or a passphrase).
    #[arg(long, conflicts_with = "decrypt")]
    pub new_key_file: Option<PathBuf>,
    /// Remove the encryption (write a plain SQLite file).
    #[arg(long)]
    pub decrypt: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "CONCORD_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub storage: StorageArgs,
    /// Public base URL used in links (default: from each request's Host header).
    #[arg(long, env = "CONCORD_BASE_URL")]
    pub base_url: Option<String>,
    /// Largest request body accepted, in MiB.
    #[arg(long, env = "CONCORD_MAX_BODY_MB", default_value_t = 32)]
    pub max_body_mb: usize,
    /// Write the index rows of every search parameter (the default).
    /// `--search-index=false` keeps only identifier rows: faster ingest, but
    /// search then finds resources only by `_id`, `_lastUpdated` and identifier.
    #[arg(long, env = "CONCORD_SEARCH_INDEX", num_args = 0..=1, default_missing_value = "true",
          default_value_t = true, value_parser = clap::builder::BoolishValueParser::new())]
    pub search_index: bool,
    /// Stop a search query that runs longer than this (seconds; 0 = no
    /// limit) and answer 400 `too-costly`.
    #[arg(long, env = "CONCORD_SEARCH_TIMEOUT_SECS", default_value_t = concord_core::DEFAULT_SEARCH_BUDGET.as_secs())]
    pub search_timeout_secs: u64,
    /// Require SMART on FHIR access tokens and serve the authorization server
    /// (`/auth/*`, `/.well-known/smart-configuration`); every interaction then
    /// goes through the read and write guards (see docs/security.md).
    /// Off by default (local demos).
    #[arg(long, env = "CONCORD_AUTH", num_args = 0..=1, default_missing_value = "true",
          default_value_t = false, value_parser = clap::builder::BoolishValueParser::new())]
    pub auth: bool,
    /// How long break-the-glass emergency access lasts, in minutes.
    #[arg(long, env = "CONCORD_BREAK_GLASS_MINUTES", default_value_t = 60)]
    pub break_glass_minutes: i64,

    /// Sign a tree head of the ledger's Merkle log this often (seconds),
    /// when it grew; also on demand (`POST /$ledger-tree-head`) and at shutdown.
    #[arg(long, env = "CONCORD_TREE_HEAD_INTERVAL_SECS", default_value_t = 60)]
    pub tree_head_interval_secs: u64,
    #[command(flatten)]
    pub mllp: MllpArgs,
    #[command(flatten)]
    pub tls: TlsArgs,
    #[command(flatten)]
    pub limits: RateLimitArgs,
}

/// HTTPS (see docs/security.md, "Transport and storage").
#[derive(Debug, Clone, Args)]
pub struct TlsArgs {
    /// Serve HTTPS with this PEM certificate chain (with --tls-key).
    #[arg(long, env = "CONCORD_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key (PKCS#8, PKCS#1 or SEC1) of --tls-cert.
    #[arg(long, env = "CONCORD_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// Serve HTTPS with a self-signed development certificate, made once in
    /// the data directory (tls-self-signed.crt) and reused.
    #[arg(long, env = "CONCORD_TLS_SELF_SIGNED", num_args = 0..=1, default_missing_value = "true",
          default_value_t = false, value_parser = clap::builder::BoolishValueParser::new())]
    pub tls_self_signed: bool,
}

/// Rate limits of sign-in and token requests, per minute (0: no limit).
#[derive(Debug, Clone, Args)]
pub struct RateLimitArgs {
    /// Sign-in attempts (POST /auth/login) per client address per minute.
    #[arg(long, env = "CONCORD_RATE_LOGIN_PER_ADDRESS", default_value_t = 30)]
    pub rate_login_per_address: u32,
    /// Sign-in attempts per username per minute.
    #[arg(long, env = "CONCORD_RATE_LOGIN_PER_USERNAME", default_value_t = 10)]
    pub rate_login_per_username: u32,
    /// Token requests (POST /auth/token) per client address per minute.
    #[arg(long, env = "CONCORD_RATE_TOKEN_PER_ADDRESS", default_value_t = 300)]
    pub rate_token_per_address: u32,
    /// Token requests per client_id per minute.
    #[arg(long, env = "CONCORD_RATE_TOKEN_PER_CLIENT", default_value_t = 120)]
    pub rate_token_per_client: u32,
}

/// The HL7 v2 MLLP listener of `concord serve`.
#[derive(Debug, Clone, Args)]
pub struct MllpArgs {
    /// Also receive HL7 v2 messages over MLLP on this address, e.g. 127.0.0.1:2575.
    #[arg(long, env = "CONCORD_MLLP_LISTEN")]
    pub mllp_listen: Option<SocketAddr>,
    /// Largest HL7 v2 message accepted, in KiB (larger ones get an AR).
    #[arg(long, env = "CONCORD_MLLP_MAX_MESSAGE_KB", default_value_t = 4096)]
    pub mllp_max_message_kb: usize,
    /// Close MLLP connections idle this many seconds.
    #[arg(long, env = "CONCORD_MLLP_IDLE_TIMEOUT_SECS", default_value_t = 300)]
    pub mllp_idle_timeout_secs: u64,
    /// UTC offset assumed for HL7 v2 times sent without one, e.g. +01:00
    /// (default: such times keep only their date).
    #[arg(long, env = "CONCORD_HL7V2_DEFAULT_OFFSET", value_parser = parse_offset)]
    pub hl7v2_default_offset: Option<String>,
    /// HL7 v2 interface configuration (JSON): the outbound endpoints that
    /// receive lab orders and immunizations. See docs/hl7v2.md.
    #[arg(long, env = "CONCORD_HL7V2_CONFIG")]
    pub hl7v2_config: Option<PathBuf>,
}

fn parse_offset(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let ok = b.len() == 6
        && (b[0] == b'+' || b[0] == b'-')
        && b[1..3].iter().all(u8::is_ascii_digit)
        && b[3] == b':'
        && b[4..6].iter().all(u8::is_ascii_digit);
    if ok {
        Ok(s.to_string())
    } else {
        Err("expected an offset like +01:00 or -05:00".into())
    }
}

#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Address to listen on.
    #[arg(long, env = "CONCORD_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Directory for the demo's SQLite database.
    #[arg(long, env = "CONCORD_DATA_DIR", default_value = "./concord-demo")]
    pub data_dir: PathBuf,
    /// Patients to generate on first start.
    #[arg(long, env = "CONCORD_DEMO_PATIENTS", default_value_t = 200)]
    pub patients: u64,
    /// Seed of the generated population.
    #[arg(long, env = "CONCORD_DEMO_SEED", default_value_t = 1)]
    pub seed: u64,
    /// Patient bundles loaded at once.
    #[arg(long, env = "CONCORD_IMPORT_JOBS", default_value_t = 4)]
    pub jobs: usize,
}

/// Output layout of `concord generate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GenerateFormat {
    /// directory.json plus one transaction Bundle per patient.
    Bundles,
    /// One NDJSON file per resource type.
    Ndjson,
}

#[derive(Debug, Clone, Args)]
pub struct GenerateArgs {
    /// Patients to generate.
    #[arg(long, default_value_t = 100)]
    pub patients: u64,
    /// Seed: the same seed and reference date give byte-identical output.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Folder to write (created if missing).
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, value_enum, default_value = "bundles")]
    pub format: GenerateFormat,
    /// "Today" for the population (YYYY-MM-DD; default: today, UTC).
    /// Histories end before it and appointments are booked after it.
    #[arg(long)]
    pub reference_date: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct BenchGenerateArgs {
    /// Patients to generate (and serialize to JSON, in memory).
    #[arg(long, env = "CONCORD_BENCH_PATIENTS", default_value_t = 5000)]
    pub patients: u64,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
}

#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// A file or folder of .json Bundles/resources and .ndjson files.
    pub path: PathBuf,
    #[command(flatten)]
    pub storage: StorageArgs,
    /// How many files to load at once.
    #[arg(long, env = "CONCORD_IMPORT_JOBS", default_value_t = 4)]
    pub jobs: usize,
}

#[derive(Debug, Clone, Args)]
pub struct FhirPathArgs {
    /// The expression, e.g. "Patient.name.given".
    pub expression: String,
    /// A JSON resource to evaluate against (none: an empty context).
    #[arg(long, env = "CONCORD_FHIRPATH_INPUT")]
    pub input: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Load transaction Bundles through the HTTP API; print resources/s and per-bundle latency.
    Ingest(BenchIngestArgs),
    /// Read resources by id over HTTP with concurrent connections; print requests/s and latency.
    Read(BenchReadArgs),
    /// Load a synthetic population (about 1,000,000 resources by default) and
    /// time the reference search queries; print requests/s and p50/p99.
    Search(BenchSearchArgs),
    /// Send ORU^R01 messages over MLLP to an in-process listener; print ORU/s and latency.
    Mllp(BenchMllpArgs),
    /// Copy the rows a database holds for its resources (history, ledger,
    /// full text, search index) into a new SQLite database by SQLite alone,
    /// at several commit sizes; print the CPU per message: the storage
    /// floor of that workload (e.g. a database kept by `bench mllp --keep`).
    SqliteFloor(BenchSqliteFloorArgs),
    /// Render the web UI's chart summary of one large patient record
    /// (5,000 observations, 300 encounters by default); print p50/p95.
    Chart(BenchChartArgs),
    /// Load 100,000 generated patients (by default) and time the web UI's
    /// patient search (name, birth date, MRN, phone) and the same FHIR API
    /// searches; print p50/p95 per query kind.
    PatientSearch(BenchPatientSearchArgs),
    /// Generate a synthetic population in memory; print patients/s and resources/s.
    Generate(BenchGenerateArgs),
}

#[derive(Debug, Clone, Args)]
pub struct BenchChartArgs {
    /// Observations in the patient's record.
    #[arg(long, env = "CONCORD_BENCH_OBSERVATIONS", default_value_t = 5000)]
    pub observations: usize,
    /// Encounters in the patient's record.
    #[arg(long, env = "CONCORD_BENCH_ENCOUNTERS", default_value_t = 300)]
    pub encounters: usize,
    /// Chart summary requests timed (after a warm-up).
    #[arg(long, env = "CONCORD_BENCH_REQUESTS", default_value_t = 200)]
    pub requests: usize,
    /// Keep the SQLite database in this (new or empty) folder, e.g. to
    /// inspect query plans afterwards (default: a temporary one).
    #[arg(long)]
    pub keep: Option<PathBuf>,
    /// Benchmark PostgreSQL (a tenant of its own) instead of SQLite.
    #[arg(long, env = "CONCORD_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct BenchPatientSearchArgs {
    /// Patients loaded (Patient resources only, from the population generator).
    #[arg(long, env = "CONCORD_BENCH_PATIENTS", default_value_t = 100_000)]
    pub patients: usize,
    /// Requests timed per query kind (one at a time, after a warm-up).
    #[arg(long, env = "CONCORD_BENCH_REQUESTS", default_value_t = 100)]
    pub requests: usize,
    /// Keep the SQLite database in this folder; a rerun with as many
    /// patients already there skips the load (default: a temporary one).
    #[arg(long)]
    pub keep: Option<PathBuf>,
    /// Benchmark PostgreSQL (a tenant of its own) instead of SQLite.
    #[arg(long, env = "CONCORD_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct BenchSearchArgs {
    /// Patients in the population (about 21 resources each).
    #[arg(long, env = "CONCORD_BENCH_PATIENTS", default_value_t = 48_000)]
    pub patients: usize,
    /// Keep the SQLite database here between runs (default: a temporary one).
    #[arg(long, env = "CONCORD_BENCH_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Patients (one transaction of ~21 resources each) loaded at once. 16
    /// keeps ~340 resources in flight, about one Synthea Bundle (a quarter
    /// of what `bench ingest` keeps in flight); with 4 (~84 resources) each
    /// commit rewrote its index pages for few resources.
    #[arg(long, env = "CONCORD_BENCH_JOBS", default_value_t = 16)]
    pub jobs: usize,
    /// Concurrent connections per query.
    #[arg(long, env = "CONCORD_BENCH_CONNECTIONS", default_value_t = 2)]
    pub connections: usize,
    /// Seconds per query.
    #[arg(long, env = "CONCORD_BENCH_SECONDS", default_value_t = 5)]
    pub seconds: u64,
    /// Run only the queries whose label contains this text (e.g. `name=`).
    #[arg(long, env = "CONCORD_BENCH_ONLY")]
    pub only: Option<String>,
    /// Benchmark PostgreSQL instead of SQLite.
    #[arg(long, env = "CONCORD_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct BenchIngestArgs {
    /// A folder (or file) of transaction Bundles, e.g. ../shared/corpora/synthea.
    pub path: PathBuf,
    /// Bundles in flight at once (4: with 2 the writer idles while both
    /// Bundles are being parsed and validated; 4 stays under 300 MB).
    #[arg(long, env = "CONCORD_BENCH_CONCURRENCY", default_value_t = 4)]
    pub concurrency: usize,
    /// Stop after this many bundles.
    #[arg(long, env = "CONCORD_BENCH_LIMIT")]
    pub limit: Option<usize>,
    /// Write the index rows of every search parameter (the default).
    /// `--search-index=false` keeps only identifier rows: faster ingest, but
    /// search then finds resources only by `_id`, `_lastUpdated` and identifier.
    #[arg(long, env = "CONCORD_SEARCH_INDEX", num_args = 0..=1, default_missing_value = "true",
          default_value_t = true, value_parser = clap::builder::BoolishValueParser::new())]
    pub search_index: bool,
    /// Benchmark PostgreSQL instead of a temporary SQLite database.
    #[arg(long, env = "CONCORD_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Audit records: on (as served), off (baseline) or compare (no
    /// authorization and audit, audit only, both).
    #[arg(long, value_enum, default_value = "on")]
    pub audit: AuditBench,
    /// Bearer tokens checked by the authorization guard on every request.
    #[arg(long, value_enum, default_value = "off")]
    pub auth: AuthBench,
    /// With `--audit compare`: rounds of the three setups, each run in a
    /// process of its own, the order rotating from round to round; the
    /// medians are compared.
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
}

#[derive(Debug, Clone, Args)]
pub struct BenchReadArgs {
    /// Concurrent connections.
    #[arg(long, env = "CONCORD_BENCH_CONNECTIONS", default_value_t = 8)]
    pub connections: usize,
    /// How long to measure, in seconds.
    #[arg(long, env = "CONCORD_BENCH_SECONDS", default_value_t = 10)]
    pub seconds: u64,
    /// Resources to create and read back.
    #[arg(long, env = "CONCORD_BENCH_RESOURCES", default_value_t = 1000)]
    pub resources: usize,
    /// Benchmark PostgreSQL instead of a temporary SQLite database.
    #[arg(long, env = "CONCORD_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Audit records: on (as served), off (baseline) or compare (no
    /// authorization and audit, audit only, both).
    #[arg(long, value_enum, default_value = "on")]
    pub audit: AuditBench,
    /// Bearer tokens checked by the authorization guard on every request.
    #[arg(long, value_enum, default_value = "off")]
    pub auth: AuthBench,
    /// With `--audit compare`: rounds of the three setups, each run in a
    /// process of its own, the order rotating from round to round; the
    /// medians are compared.
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
}

#[derive(Debug, Clone, Args)]
pub struct BenchMllpArgs {
    /// Messages to send.
    #[arg(long, env = "CONCORD_BENCH_MESSAGES", default_value_t = 5000)]
    pub messages: usize,
    /// OBX segments per message.
    #[arg(long, env = "CONCORD_BENCH_OBX", default_value_t = 10)]
    pub obx: usize,
    /// Concurrent MLLP connections.
    #[arg(long, env = "CONCORD_BENCH_CONNECTIONS", default_value_t = 4)]
    pub connections: usize,
    /// Index every search parameter, as `concord serve` does by default
    /// (`=false`: identifier rows only).
    #[arg(long, env = "CONCORD_SEARCH_INDEX", num_args = 0..=1, default_missing_value = "true",
          default_value_t = true, value_parser = clap::builder::BoolishValueParser::new())]
    pub search_index: bool,
    /// Benchmark PostgreSQL instead of a temporary SQLite database.
    #[arg(long, env = "CONCORD_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Keep the SQLite database in this (new or empty) folder, e.g. for
    /// `concord bench sqlite-floor` (default: a temporary one).
    #[arg(long)]
    pub keep: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct BenchSqliteFloorArgs {
    /// The SQLite database to copy (not encrypted), e.g.
    /// `DIR/concord.db` after `concord bench mllp --keep DIR`.
    #[arg(long)]
    pub from: PathBuf,
    /// Messages per transaction to measure (one `Task` per HL7 v2
    /// message in the source sets the resources per message).
    #[arg(long, value_delimiter = ',', default_values_t = [1, 4, 16, 64, 1000])]
    pub messages_per_commit: Vec<u64>,
    /// Messages per transaction of the per-table breakdown.
    #[arg(long, default_value_t = 16)]
    pub breakdown: u64,
}
