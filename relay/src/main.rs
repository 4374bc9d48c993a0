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
    /// Import, crawl, search and delete the knowledge the AI agent answers from.
    #[command(subcommand)]
    Kb(KbCommand),
}

#[derive(Subcommand)]
enum KbCommand {
    /// Import a Markdown, HTML or text file, or every such file under a folder.
    Import {
        path: PathBuf,
        /// The site's key
        #[arg(long, default_value = "demo")]
        site: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Crawl a help site from a start page or a sitemap (same origin, robots.txt).
    Crawl {
        url: String,
        #[arg(long, default_value_t = 200)]
        max_pages: usize,
        /// Links followed from the start page
        #[arg(long, default_value_t = 3)]
        max_depth: usize,
        #[arg(long, default_value = "demo")]
        site: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Print the passages that best match a question.
    Search {
        query: String,
        #[arg(long, default_value_t = 5)]
        limit: usize,
        /// Print a JSON array of {title, heading, source, anchor, score, text}
        #[arg(long)]
        json: bool,
        #[arg(long, default_value = "demo")]
        site: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List the site's documents.
    List {
        #[arg(long, default_value = "demo")]
        site: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Delete a document (by the id `kb list` shows).
    Delete {
        id: i64,
        #[arg(long, default_value = "demo")]
        site: String,
        #[command(flatten)]
        store: StoreArgs,
    },
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
        Some(Command::Kb(command)) => kb::run(command).await,
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

mod kb {
    //! `porchlight kb ...`: knowledge from the command line.

    use std::io::Write;
    use std::sync::Arc;

    use anyhow::Context;
    use porchlight_relay::config::{Config, Overrides};
    use porchlight_relay::knowledge::{self, crawl, import};
    use porchlight_relay::server::Relay;
    use porchlight_relay::store::{SiteId, SqliteStore, Store};

    use super::{KbCommand, StoreArgs};

    /// Opens the store and finds the site. Only a new data folder goes through the
    /// relay's start-up, which creates the demo site (and hashes its admin password).
    async fn open(args: StoreArgs, site: &str) -> anyhow::Result<(Arc<dyn Store>, SiteId)> {
        let config = Config::resolve(Overrides {
            data: args.data,
            config: args.config,
            ..Overrides::default()
        })?;
        let data_dir = config.data_dir.clone();
        let opened = || format!("cannot open the data folder {}", data_dir.display());
        let existing = SqliteStore::open(&config.data_dir).with_context(opened)?;
        let store: Arc<dyn Store> = if existing.sites().await?.is_empty() {
            existing.flush().await?;
            drop(existing);
            let (relay, admin) = Relay::open(config).await.with_context(opened)?;
            if let Some(admin) = admin {
                eprintln!(
                    "New data folder: log in to the console as {} with the one-time password {}",
                    admin.email, admin.password
                );
            }
            Arc::clone(&relay.state().store)
        } else {
            Arc::new(existing)
        };
        let found = store.site_by_key(site).await?.with_context(|| {
            format!("there is no site \"{site}\" (the console's People page lists the sites)")
        })?;
        Ok((store, found.id))
    }

    /// A one-line progress bar on stderr.
    fn progress(label: &str, done: usize, total: usize) {
        const WIDTH: usize = 30;
        let filled = (done * WIDTH)
            .checked_div(total)
            .unwrap_or(WIDTH)
            .min(WIDTH);
        eprint!(
            "\r{label} [{}{}] {done}/{total}",
            "#".repeat(filled),
            ".".repeat(WIDTH - filled)
        );
        let _ = std::io::stderr().flush();
        if done == total {
            eprintln!();
        }
    }

    pub async fn run(command: KbCommand) -> anyhow::Result<()> {
        match command {
            KbCommand::Import { path, site, store } => {
                let files = import::files(&path)?;
                let (store, site) = open(store, &site).await?;
                let report = import::import_all(store.as_ref(), site, &files, |done, total| {
                    progress("importing", done, total)
                })
                .await?;
                store.flush().await?;
                for failure in &report.failed {
                    eprintln!("skipped: {failure}");
                }
                println!(
                    "{} file(s): {} added, {} updated, {} unchanged, {} failed; {} passage(s)",
                    files.len(),
                    report.added,
                    report.updated,
                    report.unchanged,
                    report.failed.len(),
                    report.chunks
                );
                Ok(())
            }
            KbCommand::Crawl {
                url,
                max_pages,
                max_depth,
                site,
                store,
            } => {
                let (store, site) = open(store, &site).await?;
                let http = reqwest::Client::builder()
                    .user_agent(concat!("porchlight/", env!("CARGO_PKG_VERSION")))
                    .build()?;
                let limits = crawl::Limits {
                    max_pages,
                    max_depth,
                };
                let report =
                    crawl::crawl(&http, store.as_ref(), site, &url, limits, |done, seen| {
                        eprint!("\rcrawled {done} page(s), {seen} seen");
                    })
                    .await?;
                eprintln!();
                store.flush().await?;
                for skipped in &report.skipped {
                    eprintln!("skipped: {skipped}");
                }
                println!(
                    "{} page(s): {} added, {} updated, {} unchanged; {} skipped",
                    report.pages,
                    report.added,
                    report.updated,
                    report.unchanged,
                    report.skipped.len()
                );
                Ok(())
            }
            KbCommand::Search {
                query,
                limit,
                json,
                site,
                store,
            } => {
                let (store, site) = open(store, &site).await?;
                let hits = knowledge::search(store.as_ref(), site, &query, limit, None).await?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&hits)?);
                } else if hits.is_empty() {
                    println!("no passage matches \"{query}\"");
                } else {
                    for hit in hits {
                        println!("{:.3}  {}  ({})", hit.score, hit.label(), hit.source);
                        println!("       {}", hit.text.replace('\n', "\n       "));
                    }
                }
                Ok(())
            }
            KbCommand::List { site, store } => {
                let (store, site) = open(store, &site).await?;
                for document in store.kb_documents(site).await? {
                    println!(
                        "{:>5}  {}  ({} passage(s), {})",
                        document.id, document.title, document.chunks, document.source
                    );
                }
                Ok(())
            }
            KbCommand::Delete { id, site, store } => {
                let (store, site) = open(store, &site).await?;
                if !store.kb_delete(site, id).await? {
                    anyhow::bail!("the site has no document {id} (see `porchlight kb list`)");
                }
                store.flush().await?;
                println!("deleted document {id}");
                Ok(())
            }
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
    println!("  AI demo:   http://{local}/ai");
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
