//! What stays flat as the data grows: measures the relay's everyday reads on a small
//! database (the example knowledge, a long conversation, a ticket with notes and 1,000
//! chats with 250 tickets: enough to fill the lists' pages), then fills the same database to a site's
//! three months (a million messages in 100,000
//! chats over 90 days, 20 agents, 5,000 tickets, 10,000 knowledge passages) and
//! measures them again. Prints each figure on both, and their ratio.
//!
//! cargo run --release -p porchlight-tests --bin seeded -- --conversations 100000 --messages 1000000

use std::future::Future;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use clap::Parser;
use porchlight_relay::ai::embedder::Embedder;
use porchlight_relay::knowledge::{self, QueryVector};
use porchlight_relay::reports::utc_date;
use porchlight_relay::store::{SqliteStore, now_ms};
use porchlight_tests::corpus::{Rng, WORDS};
use porchlight_tests::relay_process::{self, RelayCommand};
use porchlight_tests::seed::{self, Chats, Fixture, Knowledge, demo_site};
use porchlight_tests::wire::{
    Fetched, choose_password, connect, get, login, next_of_type, send_json,
};
use serde_json::json;

#[derive(Parser)]
struct Args {
    #[arg(long, default_value_t = 100_000)]
    conversations: usize,
    /// Messages over all the conversations.
    #[arg(long, default_value_t = 1_000_000)]
    messages: usize,
    /// The days the conversations are spread over, up to now.
    #[arg(long, default_value_t = 90)]
    days: i64,
    #[arg(long, default_value_t = 20)]
    agents: usize,
    #[arg(long, default_value_t = 5_000)]
    tickets: usize,
    /// Knowledge passages (ten per generated article).
    #[arg(long, default_value_t = 10_000)]
    passages: usize,
    /// Chats in the small database measured first (with messages and tickets in the
    /// same proportions): enough to fill the lists' pages.
    #[arg(long, default_value_t = 1_000)]
    small: usize,
    /// Messages in the conversation a visitor resumes.
    #[arg(long, default_value_t = 5_000)]
    history: usize,
    /// Times each read is repeated (the median is shown).
    #[arg(long, default_value_t = 9)]
    repeat: usize,
    #[arg(long, default_value = "target/release/porchlight")]
    relay_bin: String,
    /// Keep the seeded data folder (its path is printed) instead of removing it.
    #[arg(long)]
    keep: bool,
}

/// One figure on both databases.
struct Row {
    figure: String,
    small: f64,
    seeded: f64,
    unit: &'static str,
}

/// The figures of one database, in the table's order.
type Figures = Vec<(String, f64, &'static str)>;

fn median(mut values: Vec<Duration>) -> f64 {
    values.sort();
    values[values.len() / 2].as_secs_f64() * 1000.0
}

fn percentile(mut values: Vec<Duration>, fraction: f64) -> f64 {
    values.sort();
    let index = ((values.len() as f64 - 1.0) * fraction).round() as usize;
    values[index].as_secs_f64() * 1000.0
}

async fn fetched_ok(addr: &str, path: &str, cookie: &str) -> anyhow::Result<Fetched> {
    let fetched = get(addr, path, cookie).await?;
    ensure!(
        fetched.status == 200,
        "GET {path} answered {}",
        fetched.status
    );
    Ok(fetched)
}

/// Times `path` `times` times; the median time to the last byte, and the last size.
async fn time_get(
    addr: &str,
    path: &str,
    cookie: &str,
    times: usize,
) -> anyhow::Result<(f64, usize)> {
    let mut timings = Vec::with_capacity(times);
    let mut bytes = 0;
    for _ in 0..times {
        let fetched = fetched_ok(addr, path, cookie).await?;
        timings.push(fetched.total);
        bytes = fetched.bytes;
    }
    Ok((median(timings), bytes))
}

/// A visitor resuming the long conversation as the widget does; until the whole
/// history has arrived.
async fn resume(addr: &str, fixture: &Fixture) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let mut socket = connect(&format!("ws://{addr}/ws/visitor"), None).await?;
    let resume = json!({"conversation_id": fixture.conversation, "last_seq": 0});
    let hello = json!({"type":"hello","v":1,"site":"demo","token":fixture.token,"resume":resume});
    send_json(&mut socket, hello).await?;
    let welcome = next_of_type(&mut socket, "welcome").await?;
    let last_seq = welcome["conversation"]["last_seq"].as_i64().unwrap_or(0);
    ensure!(
        last_seq > 0,
        "the visitor did not get their conversation back: {welcome}"
    );
    let mut seq = 0;
    while seq < last_seq {
        seq = next_of_type(&mut socket, "message").await?["seq"]
            .as_i64()
            .unwrap_or(0);
    }
    Ok(started.elapsed())
}

/// The console's hello: every open chat and the latest closed ones.
async fn console_hello(addr: &str, cookie: &str) -> anyhow::Result<(Duration, usize)> {
    let started = Instant::now();
    let mut socket = connect(&format!("ws://{addr}/ws/agent"), Some(cookie)).await?;
    send_json(&mut socket, json!({"type":"hello","v":1})).await?;
    let welcome = next_of_type(&mut socket, "welcome").await?;
    let chats = welcome["chats"].as_array().map_or(0, Vec::len);
    Ok((started.elapsed(), chats))
}

/// Runs `work` while sampling the relay's anonymous memory (heap and stacks, not the
/// mapped database) every 5 ms; the most it held, in MiB.
async fn peak_anonymous<T>(pid: u32, work: impl Future<Output = T>) -> (T, f64) {
    let mut samples = tokio::time::interval(Duration::from_millis(5));
    let mut peak = 0;
    tokio::pin!(work);
    loop {
        tokio::select! {
            done = &mut work => {
                peak = peak.max(relay_process::resident(pid).anonymous);
                return (done, peak as f64 / 1024.0);
            }
            _ = samples.tick() => peak = peak.max(relay_process::resident(pid).anonymous),
        }
    }
}

/// Starts the relay over `data` and measures every read; stops it.
async fn measure(
    command: &RelayCommand<'_>,
    cookie: &str,
    fixture: &Fixture,
    args: &Args,
) -> anyhow::Result<Figures> {
    let started = Instant::now();
    let mut relay = relay_process::start(command, false).await?;
    let mut figures: Figures = vec![(
        "relay start (to listening)".into(),
        started.elapsed().as_secs_f64() * 1000.0,
        "ms",
    )];
    let addr = relay.addr.clone();
    let mut resumes = Vec::new();
    for _ in 0..args.repeat.div_ceil(3) {
        resumes.push(resume(&addr, fixture).await?);
    }
    figures.push((
        format!("visitor resumes {} messages", args.history),
        median(resumes),
        "ms",
    ));
    let mut hellos = Vec::new();
    let mut listed = 0;
    for _ in 0..args.repeat {
        let (took, chats) = console_hello(&addr, cookie).await?;
        hellos.push(took);
        listed = chats;
    }
    figures.push((
        "console chat list (open and closed)".into(),
        median(hellos),
        "ms",
    ));
    figures.push(("  chats it lists".into(), listed as f64, ""));
    let (took, _) = time_get(&addr, "/api/tickets", cookie, args.repeat).await?;
    figures.push(("tickets list".into(), took, "ms"));
    let ticket = format!("/api/tickets/{}", fixture.ticket);
    let (took, _) = time_get(&addr, &ticket, cookie, args.repeat).await?;
    figures.push(("ticket page".into(), took, "ms"));
    let today = utc_date(now_ms()).context("today")?;
    let from = utc_date(now_ms() - (args.days - 1) * 86_400_000).context("first day")?;
    let range = format!("from={from}&to={today}");
    for export in ["chats", "messages"] {
        let path = format!("/api/reports/{export}.csv?{range}");
        let (fetched, heap) = peak_anonymous(relay.pid, fetched_ok(&addr, &path, cookie)).await;
        let fetched = fetched?;
        figures.push((
            format!("{export}.csv, first byte"),
            fetched.first_byte.as_secs_f64() * 1000.0,
            "ms",
        ));
        figures.push((
            format!("{export}.csv, whole"),
            fetched.total.as_secs_f64() * 1000.0,
            "ms",
        ));
        figures.push((
            format!("  {export}.csv size"),
            fetched.bytes as f64 / 1e6,
            "MB",
        ));
        figures.push((
            format!("  relay heap while exporting {export}"),
            heap,
            "MiB",
        ));
    }
    let report = format!("/api/reports?{range}");
    let (took, heap) = peak_anonymous(relay.pid, time_get(&addr, &report, cookie, 3)).await;
    figures.push((format!("report, {} days", args.days), took?.0, "ms"));
    figures.push(("  relay heap while reporting".into(), heap, "MiB"));
    relay.child.start_kill()?;
    relay.child.wait().await?;
    figures.extend(knowledge_search(command.data, args.repeat * 20).await?);
    Ok(figures)
}

/// The AI agent's search with no provider (the question embedded by the built-in
/// model, keyword and vector search blended), in process over the stopped relay's
/// database: p95 of `times` questions.
async fn knowledge_search(data: &Path, times: usize) -> anyhow::Result<Figures> {
    let store = SqliteStore::open(data)?;
    let site = demo_site(&store).await?;
    let embedder = Embedder::BuiltIn;
    let mut rng = Rng(0x00C0_FFEE);
    let (mut keyword, mut blended) = (Vec::new(), Vec::new());
    for _ in 0..times {
        let question = format!("how do I {} my {}?", rng.pick(WORDS), rng.pick(WORDS));
        let vector = embedder
            .embed(vec![question.clone()])
            .await
            .map_err(anyhow::Error::msg)?
            .pop()
            .context("no vector")?;
        let started = Instant::now();
        knowledge::search(&store, site, &question, 4, None).await?;
        keyword.push(started.elapsed());
        let query = QueryVector {
            model: embedder.model(),
            vector,
        };
        let started = Instant::now();
        knowledge::search_judged(&store, site, &question, 4, Some(query)).await?;
        blended.push(started.elapsed());
    }
    Ok(vec![
        (
            "knowledge search p95, keyword".into(),
            percentile(keyword, 0.95),
            "ms",
        ),
        (
            "knowledge search p95, blended".into(),
            percentile(blended, 0.95),
            "ms",
        ),
    ])
}

fn print_table(rows: &[Row]) {
    println!(
        "{:<44} {:>12} {:>12} {:>7}",
        "figure", "small", "seeded", "ratio"
    );
    for row in rows {
        let ratio = if row.small > 0.0 {
            row.seeded / row.small
        } else {
            f64::NAN
        };
        println!(
            "{:<44} {:>9.2} {:<3}{:>9.2} {:<3}{:>6.1}x",
            row.figure, row.small, row.unit, row.seeded, row.unit, ratio
        );
    }
}

async fn run(args: &Args, data: &Path) -> anyhow::Result<()> {
    let command = RelayCommand {
        bin: &args.relay_bin,
        durability: "full",
        data,
        postgres: None,
        nats: None,
        node: 0,
    };
    let mut relay = relay_process::start(&command, true).await?;
    let first = login(&relay.addr, &relay.password).await?;
    let cookie = choose_password(&relay.addr, &first, &relay.password, "seeded-password-1").await?;
    relay.child.start_kill()?;
    relay.child.wait().await?;

    let now = now_ms();
    let fixture = seed::fixture(data, args.history, 20, now)?;
    seed::agents(data, args.agents, now)?;
    let small = Chats {
        first: 0,
        count: args.small,
        messages: args.messages * args.small / args.conversations,
        // More than the tickets list shows (200), as on the seeded database.
        tickets: args.tickets.min(args.small / 4),
        days: args.days,
    };
    seed::chats(data, small, now)?;
    seed::knowledge(data, Knowledge::Examples).await?;
    let small_figures = measure(&command, &cookie, &fixture, args).await?;

    let started = Instant::now();
    let rest = Chats {
        first: args.small,
        count: args.conversations - args.small,
        messages: args.messages - small.messages,
        tickets: args.tickets - small.tickets,
        days: args.days,
    };
    seed::chats(data, rest, now)?;
    let articles = args.passages.div_ceil(10);
    seed::knowledge(data, Knowledge::Generated { articles }).await?;
    let size = std::fs::metadata(data.join("porchlight.sqlite3"))?.len();
    println!(
        "seeded {} conversations, {} messages, {} tickets, {} articles in {:.0} s ({:.0} MB database)",
        args.conversations,
        args.messages,
        args.tickets,
        articles,
        started.elapsed().as_secs_f64(),
        size as f64 / 1e6
    );
    let seeded = measure(&command, &cookie, &fixture, args).await?;
    let rows: Vec<Row> = small_figures
        .into_iter()
        .zip(seeded)
        .map(|((figure, small, unit), (_, seeded, _))| Row {
            figure,
            small,
            seeded,
            unit,
        })
        .collect();
    print_table(&rows);
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.small == 0 || args.small >= args.conversations || args.repeat == 0 {
        bail!("--small must be above zero and below --conversations, --repeat above zero");
    }
    if args.history < 2 || args.agents == 0 {
        bail!("--history must be at least 2 and --agents at least 1");
    }
    let data = relay_process::scratch_data()?;
    let result = run(&args, &data).await;
    if args.keep {
        println!("the data folder is kept: {}", data.display());
    } else {
        let _ = std::fs::remove_dir_all(&data);
    }
    result
}
