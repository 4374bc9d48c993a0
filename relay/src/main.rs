//! `porchlight`: the relay binary. Thin: parse flags, set up logging, run the server.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use porchlight_relay::config::{Config, Overrides};
use porchlight_relay::flow::{Format, Problem, Severity};
use porchlight_relay::profiles;
use porchlight_relay::server::Relay;
use porchlight_relay::store::{Durability, SqliteStore, Store};
use tracing_subscriber::EnvFilter;

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
}

#[derive(Subcommand)]
enum ProfilesCommand {
    /// Check a profile file (TOML, or JSON by extension); exits non-zero on errors.
    Check { file: PathBuf },
    /// Check a profile file and make it the site's chat profile.
    Import {
        file: PathBuf,
        /// The site's key
        #[arg(long, default_value = "demo")]
        site: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Print the site's chat profile.
    Export {
        /// The site's key
        #[arg(long, default_value = "demo")]
        site: String,
        #[arg(long, value_enum, default_value = "toml")]
        format: FormatArg,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Args, Clone)]
struct StoreArgs {
    /// Folder of the SQLite database [default: ./data]
    #[arg(long, env = "PORCHLIGHT_DATA")]
    data: Option<PathBuf>,
    /// TOML config file (its `data` is used)
    #[arg(long, env = "PORCHLIGHT_CONFIG")]
    config: Option<PathBuf>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum FormatArg {
    Toml,
    Json,
}

#[derive(Args, Clone, Default)]
struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, env = "PORCHLIGHT_ADDR")]
    addr: Option<SocketAddr>,
    /// Folder for the SQLite database [default: ./data]
    #[arg(long, env = "PORCHLIGHT_DATA")]
    data: Option<PathBuf>,
    /// TOML config file (see examples/porchlight.toml)
    #[arg(long, env = "PORCHLIGHT_CONFIG")]
    config: Option<PathBuf>,
    /// Folder with the built widget and console [default: ./dist]
    #[arg(long, env = "PORCHLIGHT_ASSETS")]
    assets: Option<PathBuf>,
    /// When an acknowledged message is safe: full (survives power loss) or normal
    /// (survives a crash) [default: full]
    #[arg(long, env = "PORCHLIGHT_DURABILITY")]
    durability: Option<Durability>,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
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
        Some(Command::Serve(args)) => serve(args).await,
        Some(Command::Profiles(command)) => profiles(command).await,
        None => serve(cli.serve).await,
    }
}

fn print_problems(problems: &[Problem]) {
    for problem in problems {
        eprintln!("{problem}");
    }
}

async fn open_store(args: StoreArgs) -> anyhow::Result<SqliteStore> {
    let config = Config::resolve(Overrides {
        data: args.data,
        config: args.config,
        ..Overrides::default()
    })?;
    SqliteStore::open(&config.data_dir)
        .with_context(|| format!("cannot open the data folder {}", config.data_dir.display()))
}

async fn profiles(command: ProfilesCommand) -> anyhow::Result<()> {
    match command {
        ProfilesCommand::Check { file } => match profiles::check_file(&file) {
            Ok((flow, warnings)) => {
                print_problems(&warnings);
                println!(
                    "ok: profile \"{}\" ({} steps, {} warning(s))",
                    flow.profile.name,
                    flow.profile.steps.len(),
                    warnings.len()
                );
                Ok(())
            }
            Err(profiles::FileError::Invalid { problems, .. }) => {
                print_problems(&problems);
                let errors = problems
                    .iter()
                    .filter(|problem| problem.severity == Severity::Error)
                    .count();
                anyhow::bail!("{} is not valid: {errors} error(s)", file.display())
            }
            Err(err) => Err(err.into()),
        },
        ProfilesCommand::Import { file, site, store } => {
            let store = open_store(store).await?;
            match profiles::import_file(&store, &site, &file).await {
                Ok((stored, warnings)) => {
                    print_problems(&warnings);
                    store.flush().await?;
                    println!(
                        "imported profile \"{}\" (#{}); it is now the chat profile of site \"{site}\"",
                        stored.name, stored.id
                    );
                    Ok(())
                }
                Err(profiles::FileError::Invalid { problems, .. }) => {
                    print_problems(&problems);
                    anyhow::bail!("{} is not valid; nothing was imported", file.display())
                }
                Err(err) => Err(err.into()),
            }
        }
        ProfilesCommand::Export {
            site,
            format,
            store,
        } => {
            let store = open_store(store).await?;
            let format = match format {
                FormatArg::Toml => Format::Toml,
                FormatArg::Json => Format::Json,
            };
            print!("{}", profiles::export(&store, &site, format).await?);
            Ok(())
        }
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let config = Config::resolve(Overrides {
        addr: args.addr,
        data: args.data,
        assets: args.assets,
        durability: args.durability,
        config: args.config,
    })?;
    let addr = config.addr;
    let data_dir = config.data_dir.clone();
    let (relay, admin) = Relay::open(config)
        .await
        .with_context(|| format!("cannot open the data folder {}", data_dir.display()))?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    println!("Porchlight is listening on http://{local}");
    println!("  Demo page: http://{local}/");
    println!("  Console:   http://{local}/console/");
    if let Some(admin) = admin {
        println!(
            "  First start: log in as {} with the one-time password {}",
            admin.email, admin.password
        );
    }
    tracing::info!(%local, data = %data_dir.display(), "relay started");
    relay.run(listener, shutdown_signal()).await?;
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
}
