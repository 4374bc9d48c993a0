//! `porchlight kb …`: knowledge from the command line.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Subcommand;
use porchlight_relay::knowledge::{self, crawl, import};
use porchlight_relay::outbound::{Outbound, OutboundPolicy, Redirects};
use porchlight_relay::server::Relay;
use porchlight_relay::store::{SiteId, SqliteStore, Store};

use super::{StoreArgs, config_of};

#[derive(Subcommand)]
pub(crate) enum KbCommand {
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

/// Opens the store and finds the site. Only a new data folder goes through the
/// relay's start-up, which creates the demo site (and hashes its admin password).
async fn open(args: StoreArgs, site: &str) -> anyhow::Result<(Arc<dyn Store>, SiteId)> {
    let config = config_of(args)?;
    let data_dir = config.data_dir.clone();
    let opened = || format!("cannot open the data folder {}", data_dir.display());
    let existing: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&config.data_dir).with_context(opened)?);
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
        existing
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

pub(crate) async fn run(command: KbCommand) -> anyhow::Result<()> {
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
            crawl_site(
                &url,
                crawl::Limits {
                    max_pages,
                    max_depth,
                },
                &site,
                store,
            )
            .await
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

/// `kb crawl`: held to the config's `outbound_allow`, as the console's crawl is.
async fn crawl_site(
    url: &str,
    limits: crawl::Limits,
    site: &str,
    store: StoreArgs,
) -> anyhow::Result<()> {
    let policy = Arc::new(OutboundPolicy {
        allowed: config_of(store.clone())?.outbound_allow,
    });
    let (store, site) = open(store, site).await?;
    let http = Outbound::new(&policy, Redirects::SameOrigin, crawl::PAGE_TIMEOUT)?;
    let report = crawl::crawl(&http, store.as_ref(), site, url, limits, |done, seen| {
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
