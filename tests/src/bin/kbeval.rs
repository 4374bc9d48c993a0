//! The no-key AI agent's evaluation: imports `examples/knowledge`, asks every question of
//! `examples/knowledge-eval/questions.toml` the way the agent does with no provider
//! (the same search, the same answer), and prints per kind of question how often the
//! right article is cited, hit@1, hit@5 and MRR of the articles ranked, and how often
//! the agent says it has nothing (the right answer only for out-of-scope questions).
//!
//! cargo run --release -p porchlight-tests --bin kbeval [-- --verbose]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use porchlight_relay::ai::embedder::{Embedder, embed_missing};
use porchlight_relay::ai::judge;
use porchlight_relay::ai::reply::{self, AgentConfig};
use porchlight_relay::chat::ai::PASSAGES;
use porchlight_relay::knowledge::{self, import};
use porchlight_relay::store::knowledge::Hit;
use porchlight_relay::store::{SiteId, SqliteStore, Store};
use serde::Deserialize;

#[derive(Parser)]
struct Args {
    /// The questions.
    #[arg(long, default_value = "examples/knowledge-eval/questions.toml")]
    questions: PathBuf,
    /// The articles they are about.
    #[arg(long, default_value = "examples/knowledge")]
    knowledge: PathBuf,
    /// Print each question that missed, with what was cited.
    #[arg(long)]
    verbose: bool,
}

#[derive(Deserialize)]
struct Questions {
    question: Vec<Question>,
}

#[derive(Deserialize)]
struct Question {
    kind: String,
    text: String,
    /// The file that answers it; none for out-of-scope questions.
    article: Option<String>,
}

/// What one kind of question scored.
#[derive(Default)]
struct Score {
    asked: usize,
    cited_right: usize,
    hit1: usize,
    hit5: usize,
    reciprocal_ranks: f64,
    refused: usize,
    /// How long each answer took: embedding, search, judging, quoting.
    took: Vec<std::time::Duration>,
}

fn file_of(hit: &Hit) -> String {
    Path::new(&hit.source)
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The articles the hits come from, best first, each once.
fn articles(hits: &[Hit]) -> Vec<String> {
    let mut ranked: Vec<String> = Vec::new();
    for hit in hits {
        let file = file_of(hit);
        if !ranked.contains(&file) {
            ranked.push(file);
        }
    }
    ranked
}

async fn ask(
    store: &dyn Store,
    site: SiteId,
    question: &Question,
    score: &mut Score,
    verbose: bool,
) -> anyhow::Result<()> {
    // As the agent answers with no provider: the same search and judgement, then quote.
    let started = std::time::Instant::now();
    let (hits, verdict) = judge::passages_answering(store, site, &question.text, PASSAGES).await?;
    let (body, sources) = reply::from_passages(&AgentConfig::default(), &question.text, &hits);
    score.took.push(started.elapsed());
    let cited = sources
        .first()
        .and_then(|source| hits.iter().find(|hit| hit.label() == source.title))
        .map(file_of);
    score.asked += 1;
    score.refused += usize::from(cited.is_none());
    let Some(article) = &question.article else {
        if verbose && cited.is_some() {
            println!("answered out of scope: {:?} → {cited:?}", question.text);
        }
        return Ok(());
    };
    let query = Embedder::BuiltIn.query_vector(&question.text).await;
    let ranked = articles(&knowledge::search(store, site, &question.text, 20, query).await?);
    let rank = ranked.iter().position(|file| file == article);
    score.cited_right += usize::from(cited.as_ref() == Some(article));
    score.hit1 += usize::from(rank == Some(0));
    score.hit5 += usize::from(rank.is_some_and(|rank| rank < 5));
    score.reciprocal_ranks += rank.map_or(0.0, |rank| 1.0 / (rank as f64 + 1.0));
    if verbose && cited.as_ref() != Some(article) {
        let said: String = body.chars().take(100).collect();
        println!(
            "{} {:?}: cited {cited:?} ({verdict:?}), want {article} (rank {rank:?}): {said:?}",
            question.kind, question.text
        );
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let text = std::fs::read_to_string(&args.questions)
        .with_context(|| format!("cannot read {}", args.questions.display()))?;
    let questions: Questions = toml::from_str(&text).context("the questions are not valid TOML")?;
    let scratch = tempfile::tempdir()?;
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(scratch.path())?);
    store
        .seed_if_empty(porchlight_relay::store::Seed {
            site_key: "eval".into(),
            site_name: "Eval".into(),
            profile_name: "Default".into(),
            profile_definition: "{}".into(),
            team_name: "Support".into(),
            admin_email: "eval@example.com".into(),
            admin_name: "Eval".into(),
            admin_password_hash: "unused".into(),
        })
        .await?;
    let site = store
        .site_by_key("eval")
        .await?
        .context("the eval site")?
        .id;
    let files = import::files(&args.knowledge)?;
    import::import_all(store.as_ref(), site, &files, |_, _| {}).await?;
    embed_missing(store.as_ref(), &Embedder::BuiltIn, || false).await?;

    let mut scores: BTreeMap<String, Score> = BTreeMap::new();
    for question in &questions.question {
        let score = scores.entry(question.kind.clone()).or_default();
        ask(store.as_ref(), site, question, score, args.verbose).await?;
    }
    println!(
        "{} questions over {} articles (no provider: keyword search and the built-in model)",
        questions.question.len(),
        files.len()
    );
    println!(
        "{:<13} {:>5} {:>11} {:>6} {:>6} {:>6} {:>8}",
        "kind", "asked", "cited right", "hit@1", "hit@5", "MRR", "refused"
    );
    for (kind, score) in &scores {
        let share = |count: f64| format!("{:.2}", count / score.asked.max(1) as f64);
        // Out-of-scope questions have no right article: only refusing counts.
        let ranked = |count: f64| {
            if kind == "out_of_scope" {
                "—".to_owned()
            } else {
                share(count)
            }
        };
        println!(
            "{kind:<13} {:>5} {:>11} {:>6} {:>6} {:>6} {:>8}",
            score.asked,
            ranked(score.cited_right as f64),
            ranked(score.hit1 as f64),
            ranked(score.hit5 as f64),
            ranked(score.reciprocal_ranks),
            share(score.refused as f64),
        );
    }
    let mut took: Vec<std::time::Duration> = scores
        .values()
        .flat_map(|score| score.took.clone())
        .collect();
    took.sort();
    let at =
        |fraction: f64| took[((took.len() - 1) as f64 * fraction) as usize].as_secs_f64() * 1000.0;
    println!(
        "answer time (embed, search, judge, quote): p50 {:.1} ms, p95 {:.1} ms",
        at(0.5),
        at(0.95)
    );
    Ok(())
}
