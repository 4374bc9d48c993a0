//! Knowledge search benchmark: builds a knowledge base of N passages (default 10,000)
//! from generated Markdown in a scratch folder, then times keyword searches through
//! the same code `porchlight kb search` and the AI agent use. Prints the build time and
//! search latency percentiles. Deterministic; nothing leaves the machine.
//!
//! cargo run --release -p porchlight-tests --bin kbbench -- --chunks 10000 --queries 2000

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use porchlight_relay::knowledge;
use porchlight_relay::store::knowledge::DocFormat;
use porchlight_relay::store::{Seed, SqliteStore, Store};

#[derive(Parser)]
struct Args {
    /// Passages to index (ten per generated document).
    #[arg(long, default_value_t = 10_000)]
    chunks: usize,
    /// Searches to time.
    #[arg(long, default_value_t = 2_000)]
    queries: usize,
    /// Passages asked for per search (the AI agent asks for 4).
    #[arg(long, default_value_t = 5)]
    limit: usize,
}

/// Words of a support site, so that bm25 sees a realistic spread of frequencies.
const WORDS: &[&str] = &[
    "account",
    "password",
    "reset",
    "billing",
    "invoice",
    "refund",
    "payment",
    "card",
    "subscription",
    "plan",
    "upgrade",
    "downgrade",
    "cancel",
    "order",
    "delivery",
    "shipping",
    "tracking",
    "parcel",
    "return",
    "warranty",
    "repair",
    "install",
    "setup",
    "login",
    "email",
    "notification",
    "security",
    "two-factor",
    "export",
    "import",
    "report",
    "dashboard",
    "team",
    "member",
    "invite",
    "role",
    "permission",
    "api",
    "webhook",
    "integration",
    "sync",
    "calendar",
    "booking",
    "schedule",
    "price",
    "discount",
    "coupon",
    "tax",
    "receipt",
    "address",
    "phone",
    "support",
    "chat",
    "ticket",
    "agent",
    "hours",
    "weekend",
    "holiday",
    "storage",
    "upload",
    "file",
    "photo",
    "video",
    "mobile",
    "android",
    "iphone",
    "browser",
    "error",
    "timeout",
    "slow",
    "crash",
    "update",
    "version",
    "language",
    "privacy",
    "delete",
    "data",
];
const FILLER: &[&str] = &[
    "the", "you", "can", "your", "in", "to", "and", "we", "it", "is", "a", "for", "of", "when",
    "after", "before", "with", "then", "from", "this", "on", "at",
];

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn pick<'a>(&mut self, words: &[&'a str]) -> &'a str {
        words[(self.next() % words.len() as u64) as usize]
    }
}

fn sentence(rng: &mut Rng) -> String {
    let length = 8 + rng.next() % 10;
    let words: Vec<&str> = (0..length)
        .map(|index| {
            if index % 3 == 1 {
                rng.pick(WORDS)
            } else {
                rng.pick(FILLER)
            }
        })
        .collect();
    format!("{}.", words.join(" "))
}

/// One document: a title and ten sections of a few sentences each.
fn document(rng: &mut Rng, number: usize) -> String {
    let mut text = format!("# {} {} guide {number}\n", rng.pick(WORDS), rng.pick(WORDS));
    for section in 0..10 {
        text.push_str(&format!(
            "\n## {} and {} {section}\n\n",
            rng.pick(WORDS),
            rng.pick(WORDS)
        ));
        for _ in 0..(3 + rng.next() % 4) {
            text.push_str(&sentence(rng));
            text.push(' ');
        }
        text.push('\n');
    }
    text
}

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
    let folder = std::env::temp_dir().join(format!("porchlight-kbbench-{}", std::process::id()));
    let result = run(&args, &folder).await;
    let _ = std::fs::remove_dir_all(&folder);
    result
}

async fn run(args: &Args, folder: &std::path::Path) -> anyhow::Result<()> {
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(folder).context("cannot open the scratch store")?);
    store
        .seed_if_empty(Seed {
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
    let site = store
        .site_by_key("bench")
        .await?
        .context("no bench site")?
        .id;

    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let started = Instant::now();
    let mut chunks = 0;
    let mut number = 0;
    while chunks < args.chunks {
        let text = document(&mut rng, number);
        let parsed = knowledge::document(
            &format!("bench/{number}.md"),
            DocFormat::Markdown,
            &text,
            "doc",
        );
        chunks += parsed.chunks.len();
        store.kb_put(site, parsed).await?;
        number += 1;
    }
    store.flush().await?;
    let built = started.elapsed();
    println!(
        "indexed {chunks} passages in {number} documents in {:.2} s ({:.0} passages/s)",
        built.as_secs_f64(),
        chunks as f64 / built.as_secs_f64()
    );

    let mut timings = Vec::with_capacity(args.queries);
    let mut hits_total = 0;
    for _ in 0..args.queries {
        let query = format!(
            "how do I {} my {} {}?",
            rng.pick(WORDS),
            rng.pick(WORDS),
            rng.pick(WORDS)
        );
        let asked = Instant::now();
        let hits = knowledge::search(store.as_ref(), site, &query, args.limit, None).await?;
        timings.push(asked.elapsed());
        hits_total += hits.len();
    }
    timings.sort();
    let total: Duration = timings.iter().sum();
    println!(
        "{} searches (limit {}): {:.1} hits each; p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {:.0} searches/s one at a time",
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
