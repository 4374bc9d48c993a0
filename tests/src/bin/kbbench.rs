//! Knowledge search benchmark: builds a knowledge base of N passages (default 10,000)
//! of generated help articles in a scratch folder, spread over one or more sites, and
//! times the three paths the AI agent's searches take, through the same code `porchlight
//! kb search` and the agent use:
//!
//! - keyword: bm25 over every site's passages, the window widening until enough are
//!   the asking site's (with more sites, more widening);
//! - vector: every embedded passage of the site scored against the query's vector;
//! - hybrid: both, blended, as the agent searches once embeddings are on.
//!
//! Prints the build time and each path's latency percentiles. Deterministic; nothing
//! leaves the machine. On SQLite in a scratch folder, or with `--postgres URL` on
//! PostgreSQL (cluster mode's store; give a URL whose `search_path` is an empty schema).
//!
//! cargo run --release -p porchlight-tests --bin kbbench -- --chunks 10000 --queries 2000 --sites 1

use std::future::Future;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use porchlight_relay::knowledge::{self, QueryVector};
use porchlight_relay::store::knowledge::DocFormat;
use porchlight_relay::store::{
    KnowledgeStore, NewSiteRow, PgStore, SiteId, SiteStore, SqliteStore, Store, StoreError,
};
use porchlight_tests::corpus::{self, Rng, WORDS};

#[derive(Parser)]
struct Args {
    /// Passages to index (ten per generated document), over all sites.
    #[arg(long, default_value_t = 10_000)]
    chunks: usize,
    /// Searches to time per path.
    #[arg(long, default_value_t = 2_000)]
    queries: usize,
    /// Passages asked for per search (the AI agent asks for 4).
    #[arg(long, default_value_t = 5)]
    limit: usize,
    /// Sites the passages are spread over; searches ask for the first site's.
    #[arg(long, default_value_t = 1)]
    sites: usize,
    /// Numbers per embedding (OpenAI's text-embedding-3-small gives 1536).
    #[arg(long, default_value_t = 1536)]
    dims: usize,
    /// Run on this PostgreSQL (an empty schema) instead of SQLite.
    #[arg(long)]
    postgres: Option<String>,
}

/// What the bench needs of a store: its sites and its knowledge.
trait BenchStore: SiteStore + KnowledgeStore {}
impl<T: SiteStore + KnowledgeStore> BenchStore for T {}

const MODEL: &str = "bench-embedding";

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!(args.sites >= 1, "--sites must be at least 1");
    anyhow::ensure!(args.queries >= 1, "--queries must be at least 1");
    let folder = std::env::temp_dir().join(format!("porchlight-kbbench-{}", std::process::id()));
    let result = run(&args, &folder).await;
    let _ = std::fs::remove_dir_all(&folder);
    result
}

async fn run(args: &Args, folder: &Path) -> anyhow::Result<()> {
    match &args.postgres {
        Some(url) => {
            let store = PgStore::connect(url)
                .await
                .context("cannot open the PostgreSQL store")?;
            bench(&store, args, || async { Ok(()) }).await
        }
        None => {
            let store = SqliteStore::open(folder).context("cannot open the scratch store")?;
            // The writes are batched: the build's time counts them on disk.
            bench(&store, args, || store.flush()).await
        }
    }
}

async fn bench<F, Fut>(store: &dyn BenchStore, args: &Args, flush: F) -> anyhow::Result<()>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<(), StoreError>>,
{
    let sites = make_sites(store, args.sites).await?;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    build(store, &sites, args, &mut rng, flush).await?;
    let asking = sites[0];

    let queries: Vec<String> = (0..args.queries)
        .map(|_| {
            format!(
                "how do I {} my {} {}?",
                rng.pick(WORDS),
                rng.pick(WORDS),
                rng.pick(WORDS)
            )
        })
        .collect();
    let vectors: Vec<Vec<f32>> = (0..args.queries)
        .map(|_| corpus::unit_vector(&mut rng, args.dims))
        .collect();
    let (queries, vectors, limit) = (&queries, &vectors, args.limit);
    let query_vector = move |index: usize| QueryVector {
        model: MODEL.into(),
        vector: vectors[index].clone(),
    };

    time("keyword", args, move |index| async move {
        knowledge::search(store, asking, &queries[index], limit, None)
            .await
            .map(|hits| hits.len())
    })
    .await?;
    time("vector", args, move |index| async move {
        let QueryVector { model, vector } = query_vector(index);
        store
            .kb_nearest(asking, model, vector, limit)
            .await
            .map(|ids| ids.len())
    })
    .await?;
    time("hybrid", args, move |index| async move {
        let vector = Some(query_vector(index));
        knowledge::search(store, asking, &queries[index], limit, vector)
            .await
            .map(|hits| hits.len())
    })
    .await
}

/// The seeded site, and `count - 1` more beside it.
async fn make_sites(store: &dyn BenchStore, count: usize) -> anyhow::Result<Vec<SiteId>> {
    store
        .seed_if_empty(porchlight_relay::store::Seed {
            site_key: "bench".into(),
            site_name: "Bench".into(),
            profile_name: "Default".into(),
            profile_definition: porchlight_relay::profiles::default_profile()
                .render(porchlight_relay::flow::Format::Json),
            team_name: "Support".into(),
            admin_email: "bench@example.com".into(),
            admin_name: "Bench".into(),
            admin_password_hash: "unused".into(),
        })
        .await?;
    for number in 1..count {
        store
            .create_site(NewSiteRow {
                key: format!("bench-{number}"),
                name: format!("Bench {number}"),
                allowed_origins: Vec::new(),
                profile_name: "Default".into(),
                profile_definition: "{}".into(),
            })
            .await?;
    }
    let mut sites: Vec<SiteId> = store.sites().await?.iter().map(|site| site.id).collect();
    sites.sort_unstable();
    Ok(sites)
}

/// Indexes the generated documents round the sites, then embeds every passage.
async fn build<F, Fut>(
    store: &dyn BenchStore,
    sites: &[SiteId],
    args: &Args,
    rng: &mut Rng,
    flush: F,
) -> anyhow::Result<()>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<(), StoreError>>,
{
    let started = Instant::now();
    let mut chunks = 0;
    let mut number = 0;
    while chunks < args.chunks {
        let text = corpus::document(rng, number);
        let parsed = knowledge::document(
            &format!("bench/{number}.md"),
            DocFormat::Markdown,
            &text,
            "doc",
        );
        chunks += parsed.chunks.len();
        store.kb_put(sites[number % sites.len()], parsed).await?;
        number += 1;
    }
    flush().await?;
    let built = started.elapsed();
    println!(
        "indexed {chunks} passages in {number} documents over {} site(s) in {:.2} s ({:.0} passages/s)",
        sites.len(),
        built.as_secs_f64(),
        chunks as f64 / built.as_secs_f64()
    );
    let started = Instant::now();
    corpus::embed_randomly(store, MODEL, args.dims, rng).await?;
    flush().await?;
    println!(
        "stored {} vectors of {} numbers in {:.2} s",
        chunks,
        args.dims,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Runs `search` once per query, one at a time, and prints its latency percentiles.
async fn time<F, Fut>(path: &str, args: &Args, search: F) -> anyhow::Result<()>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = Result<usize, porchlight_relay::store::StoreError>>,
{
    let mut timings = Vec::with_capacity(args.queries);
    let mut hits_total = 0;
    for index in 0..args.queries {
        let asked = Instant::now();
        hits_total += search(index).await?;
        timings.push(asked.elapsed());
    }
    timings.sort();
    let total: Duration = timings.iter().sum();
    println!(
        "{path:>7}: {} searches (limit {}): {:.1} hits each; p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {:.0} searches/s one at a time",
        args.queries,
        args.limit,
        hits_total as f64 / args.queries as f64,
        ms(percentile(&timings, 0.50)),
        ms(percentile(&timings, 0.95)),
        ms(percentile(&timings, 0.99)),
        ms(*timings.last().unwrap_or(&Duration::ZERO)),
        args.queries as f64 / total.as_secs_f64()
    );
    Ok(())
}
