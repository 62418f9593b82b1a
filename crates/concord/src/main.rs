//! `concord`: the one binary. It picks the storage backend; everything else
//! lives in the library crates.
#![forbid(unsafe_code)]

mod admin;
mod bench;
mod cli;
mod demo;
mod fhirpath;
mod generate;
mod import;
mod mllp;
mod reindex;
mod serve;
mod storage;
mod tls;
mod verify;

use clap::Parser;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use cli::{BenchCommand, Cli, Command};

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CONCORD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,concord=info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("concord: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => serve::run(args).await,
            Command::Demo(args) => demo::run(args).await,
            Command::Import(args) => import::run(args).await,
            Command::Migrate(args) => storage::migrate(args).await,
            Command::Reindex(args) => reindex::run(args).await,
            Command::Fhirpath(args) => fhirpath::run(args),
            Command::Bench(BenchCommand::Ingest(args)) => bench::ingest::run(args).await,
            Command::Bench(BenchCommand::Read(args)) => bench::read::run(args).await,
            Command::Admin(cmd) => admin::run(cmd).await,
            Command::Verify(args) => verify::run(args).await,
            Command::VerifyProof(args) => verify::run_proof(args),
            Command::Rekey(args) => storage::rekey(args),
            Command::Bench(BenchCommand::Mllp(args)) => bench::mllp::run(args).await,
            Command::Bench(BenchCommand::SqliteFloor(args)) => bench::sqlite_floor::run(args),
            Command::Bench(BenchCommand::Search(args)) => bench::search::run(args).await,
            Command::Bench(BenchCommand::Chart(args)) => bench::chart::run(args).await,
            Command::Bench(BenchCommand::PatientSearch(args)) => {
                bench::patient_search::run(args).await
            }
            Command::Generate(args) => generate::run(args),
            Command::Bench(BenchCommand::Generate(args)) => bench::generate::run(args),
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("concord: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}
