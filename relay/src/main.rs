//! `porchlight`: the relay binary. Thin: parse flags, set up logging, dispatch to a
//! subcommand in `cli/`.

mod cli;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use cli::agents::AgentsCommand;
use cli::backup::{BackupArgs, RestoreArgs};
use cli::kb::KbCommand;
use cli::migrate::MigrateArgs;
use cli::profiles::ProfilesCommand;
use cli::serve::ServeArgs;

/// jemalloc, not glibc's allocator: after 10,000 visitors connect, glibc's per-thread
/// arenas keep what the burst fragmented (31 KiB per idle visitor; jemalloc 17 KiB,
/// at the same CPU per message: docs/measuring.md).
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Parser)]
#[command(name = "porchlight", version, about = "Self-hosted website chat relay")]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the widget, the console and their sockets (the default).
    Serve(ServeArgs),
    /// Check, import and export chat profiles.
    #[command(subcommand)]
    Profiles(ProfilesCommand),
    /// Import, crawl, search and delete the knowledge the AI agent answers from.
    #[command(subcommand)]
    Kb(KbCommand),
    /// Agents' accounts: a new one-time password for one locked out.
    #[command(subcommand)]
    Agents(AgentsCommand),
    /// Copy the data folder (database and chat files) while the relay runs.
    Backup(BackupArgs),
    /// Put a backup back (the relay stopped).
    Restore(RestoreArgs),
    /// Copy a data folder into an empty PostgreSQL database (the relay stopped).
    Migrate(MigrateArgs),
}

/// Threads for blocking work: the store's reads (on its few reader connections),
/// password hashing (a few at once), the built-in model, `tokio::fs` (attachments,
/// uploads, pages) and DNS lookups. More would mostly wait for a reader connection:
/// with tokio's default of 512, 10,000 visitors opening chats 200 at a time took
/// 6.9 to 8.2 s instead of 5.9 to 6.3 s (`loadgen`, docs/measuring.md).
const BLOCKING_THREADS: usize = 16;

fn main() -> std::process::ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(BLOCKING_THREADS)
        .build();
    let outcome = match runtime {
        Ok(runtime) => runtime.block_on(run()),
        Err(err) => Err(err.into()),
    };
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            // One plain sentence for people; no backtrace.
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("PORCHLIGHT_LOG")
                .unwrap_or_else(|_| EnvFilter::new("info,tower_http=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Serve(args)) => cli::serve::run(args).await,
        Some(Command::Profiles(command)) => cli::profiles::run(command).await,
        Some(Command::Kb(command)) => cli::kb::run(command).await,
        Some(Command::Agents(command)) => cli::agents::run(command).await,
        Some(Command::Backup(args)) => cli::backup::backup(args).await,
        Some(Command::Restore(args)) => cli::backup::restore(args).await,
        Some(Command::Migrate(args)) => cli::migrate::migrate(args).await,
        None => cli::serve::run(cli.serve).await,
    }
}
