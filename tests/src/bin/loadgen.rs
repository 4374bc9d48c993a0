//! Load generator: starts the release `porchlight` binary on loopback, connects N
//! visitors and M agent sockets, has the agents join every conversation, then sends
//! visitor messages at a fixed total rate for a fixed time and measures how long each
//! takes to reach its agent. With `--restart`, it then kills the relay (`-9`), starts
//! it again over the same data and has every visitor resume at once. Bounded in count
//! and time; loopback only.
//!
//! cargo build --release -p porchlight-relay --bin porchlight
//! cargo run --release -p porchlight-tests --bin loadgen -- --visitors 1000 --agents 10 --rate 1000 --secs 20

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

use porchlight_tests::load::{Shape, collect_latencies, latency, latency_line, stamp};
use porchlight_tests::relay_process::{
    self, RelayCommand, Resident, RunningRelay, cpu_all, resident_all,
};
use porchlight_tests::wire::{
    Socket, choose_password, connect, health, login, next_of_type, send_json,
};

#[derive(Parser)]
struct Args {
    #[command(flatten)]
    load: Shape,
    /// The relay binary.
    #[arg(long, default_value = "target/release/porchlight")]
    relay_bin: String,
    /// Visitors connecting at the same time while the chats open.
    #[arg(long, default_value_t = 200)]
    connect_at_once: usize,
    /// The relay's durability: full or normal.
    #[arg(long, default_value = "full")]
    durability: String,
    /// After the load, kill the relay, start it again and have every visitor resume.
    #[arg(long)]
    restart: bool,
    /// Keep the relay's store in this PostgreSQL database (an empty one) instead of
    /// SQLite.
    #[arg(long)]
    postgres: Option<String>,
    /// Cluster mode: this many relays on the PostgreSQL store and the NATS server of
    /// `--nats`; visitor n connects to node n mod nodes, agent n to node n mod nodes,
    /// so most messages cross from one node to another.
    #[arg(long, default_value_t = 1)]
    nodes: usize,
    /// The NATS server the nodes talk through (cluster mode).
    #[arg(long)]
    nats: Option<String>,
}

/// Splits a visitor socket: a reader task and a writer task fed by the returned queue.
fn spawn_visitor(socket: Socket, errors: Arc<AtomicU64>) -> mpsc::Sender<String> {
    let (tx, mut rx) = mpsc::channel::<String>(64);
    let (mut sink, mut stream) = socket.split();
    let send_errors = Arc::clone(&errors);
    tokio::spawn(async move {
        while let Some(frame) = rx.recv().await {
            if sink.send(Message::Text(frame.into())).await.is_err() {
                send_errors.fetch_add(1, Ordering::Relaxed);
                return;
            }
        }
    });
    tokio::spawn(async move {
        while let Some(Ok(message)) = stream.next().await {
            if let Message::Text(text) = message
                && text.contains(r#""type":"error""#)
            {
                errors.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    tx
}

/// A visitor with an open chat: what the send loop queues for it, its chat, and the
/// token its widget would keep to come back.
struct Visitor {
    sender: mpsc::Sender<String>,
    conversation: i64,
    token: String,
}

/// One visitor: hello, then a first message that opens their conversation. From then
/// on a task reads the socket (answering the relay's pings and counting errors) and
/// another writes what the send loop queues for it.
async fn open_visitor(addr: &str, n: usize, errors: &Arc<AtomicU64>) -> anyhow::Result<Visitor> {
    let mut socket = connect(&format!("ws://{addr}/ws/visitor"), None).await?;
    send_json(&mut socket, json!({"type":"hello","v":1,"site":"demo"})).await?;
    let welcome = next_of_type(&mut socket, "welcome").await?;
    let token = welcome["token"]
        .as_str()
        .context("welcome token")?
        .to_owned();
    send_json(
        &mut socket,
        json!({"type":"send","client_msg_id":format!("open-{n}"),"body":"hello"}),
    )
    .await?;
    let ack = next_of_type(&mut socket, "ack").await?;
    let conversation = ack["conversation_id"].as_i64().context("conversation id")?;
    Ok(Visitor {
        sender: spawn_visitor(socket, Arc::clone(errors)),
        conversation,
        token,
    })
}

/// Opens `count` visitors, `at_once` at a time (visitors arrive independently).
async fn open_visitors(
    addrs: &[String],
    count: usize,
    at_once: usize,
    errors: &Arc<AtomicU64>,
) -> anyhow::Result<Vec<Visitor>> {
    let mut opened = futures_util::stream::iter(0..count)
        .map(|n| open_visitor(&addrs[n % addrs.len()], n, errors))
        .buffer_unordered(at_once.max(1));
    let mut visitors = Vec::with_capacity(count);
    while let Some(visitor) = opened.next().await {
        visitors.push(visitor?);
    }
    Ok(visitors)
}

/// A visitor coming back after the relay restarted, as the widget does: hello with
/// its token and chat; resumed once the welcome and the whole history have arrived.
async fn resume_visitor(addr: &str, conversation: i64, token: &str) -> anyhow::Result<Socket> {
    let mut socket = connect(&format!("ws://{addr}/ws/visitor"), None).await?;
    let resume = json!({"conversation_id": conversation, "last_seq": 0});
    let hello = json!({"type":"hello","v":1,"site":"demo","token":token,"resume":resume});
    send_json(&mut socket, hello).await?;
    let welcome = next_of_type(&mut socket, "welcome").await?;
    let shown = &welcome["conversation"];
    if shown["id"].as_i64() != Some(conversation) {
        bail!("visitor of chat {conversation} resumed {shown}");
    }
    let last_seq = shown["last_seq"].as_i64().unwrap_or(0);
    let mut seq = 0;
    while seq < last_seq {
        seq = next_of_type(&mut socket, "message").await?["seq"]
            .as_i64()
            .unwrap_or(0);
    }
    Ok(socket)
}

/// Every visitor (their chat and token) resuming, `at_once` at a time; how long until
/// all had.
async fn resume_all(addr: &str, chats: &[(i64, String)], at_once: usize) -> anyhow::Result<f64> {
    let started = Instant::now();
    let mut resumed = futures_util::stream::iter(chats)
        .map(|(conversation, token)| resume_visitor(addr, *conversation, token))
        .buffer_unordered(at_once.max(1));
    let mut sockets = Vec::with_capacity(chats.len());
    while let Some(socket) = resumed.next().await {
        sockets.push(socket?);
    }
    Ok(started.elapsed().as_secs_f64())
}

/// What the agents' readers count, and the latencies they record.
struct AgentCounts {
    joined: Arc<AtomicU64>,
    settled: Arc<AtomicU64>,
    progress: Arc<tokio::sync::Notify>,
}

type AgentSink = futures_util::stream::SplitSink<Socket, Message>;

/// Agents: a task reads each agent socket from the start (a socket nobody reads is
/// rightly dropped by the relay), counting `joined` answers and recording the latency
/// of every visitor message (its body is the time it was sent).
async fn open_agents(
    addrs: &[String],
    cookie: &str,
    count: usize,
    epoch: Instant,
    errors: &Arc<AtomicU64>,
    latencies: &mpsc::UnboundedSender<u64>,
) -> anyhow::Result<(Vec<(AgentSink, Value)>, AgentCounts)> {
    let counts = AgentCounts {
        joined: Arc::new(AtomicU64::new(0)),
        settled: Arc::new(AtomicU64::new(0)),
        progress: Arc::new(tokio::sync::Notify::new()),
    };
    let mut sinks = Vec::with_capacity(count);
    for n in 0..count {
        let addr = &addrs[n % addrs.len()];
        let mut socket = connect(&format!("ws://{addr}/ws/agent"), Some(cookie)).await?;
        send_json(&mut socket, json!({"type":"hello","v":1})).await?;
        let welcome = next_of_type(&mut socket, "welcome").await?;
        let (sink, mut stream) = socket.split();
        sinks.push((sink, welcome["status_id"].clone()));
        let (latencies, errors) = (latencies.clone(), Arc::clone(errors));
        let (joined, settled) = (Arc::clone(&counts.joined), Arc::clone(&counts.settled));
        let progress = Arc::clone(&counts.progress);
        tokio::spawn(async move {
            while let Some(Ok(message)) = stream.next().await {
                let Message::Text(text) = message else {
                    continue;
                };
                let Ok(frame) = serde_json::from_str::<Value>(&text) else {
                    continue;
                };
                match frame["type"].as_str() {
                    Some("joined") => {
                        joined.fetch_add(1, Ordering::Relaxed);
                        progress.notify_one();
                    }
                    Some("my_status") => {
                        settled.fetch_add(1, Ordering::Relaxed);
                        progress.notify_one();
                    }
                    Some("error") => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                    Some("message") => {
                        if let Some(latency) =
                            frame["body"].as_str().and_then(|body| latency(body, epoch))
                        {
                            let _ = latencies.send(latency);
                        }
                    }
                    _ => {}
                }
            }
        });
    }
    Ok((sinks, counts))
}

/// The agents join every conversation, in chunks within the agent rate limit (a burst
/// of 500), then settle: every join also announced the chat to all agents, and the
/// relay reads an agent's next request only once that agent's queue is empty, so the
/// answer to a status request means the announcements are through.
async fn join_all(
    sinks: &mut [(AgentSink, Value)],
    counts: &AgentCounts,
    conversations: &[i64],
) -> anyhow::Result<()> {
    let mut sent_joins = 0u64;
    for (index, chunk) in conversations.chunks(400).enumerate() {
        let (sink, _) = &mut sinks[index % sinks.len()];
        for conversation in chunk {
            sink.send(Message::Text(
                json!({"type":"join","conversation_id":conversation})
                    .to_string()
                    .into(),
            ))
            .await?;
        }
        sent_joins += chunk.len() as u64;
        while counts.joined.load(Ordering::Relaxed) < sent_joins {
            tokio::time::timeout(Duration::from_secs(30), counts.progress.notified())
                .await
                .context("agents stopped receiving `joined`")?;
        }
    }
    for (sink, status_id) in sinks.iter_mut() {
        sink.send(Message::Text(
            json!({"type":"set_status","status_id":status_id})
                .to_string()
                .into(),
        ))
        .await?;
    }
    while counts.settled.load(Ordering::Relaxed) < sinks.len() as u64 {
        tokio::time::timeout(Duration::from_secs(30), counts.progress.notified())
            .await
            .context("agents stopped answering")?;
    }
    Ok(())
}

/// Sends `rate` visitor messages a second for `secs`, spread over the visitors;
/// returns how many and how long it took.
async fn send_load(
    args: &Args,
    visitors: &[Visitor],
    epoch: Instant,
    errors: &AtomicU64,
) -> (u64, f64) {
    let total = args.load.total();
    let interval = Duration::from_secs_f64(1.0 / args.load.rate as f64);
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let send_start = Instant::now();
    for n in 0..total {
        ticker.tick().await;
        let frame =
            json!({"type":"send","client_msg_id":format!("m-{n}"),"body":stamp(epoch)}).to_string();
        if visitors[(n as usize) % visitors.len()]
            .sender
            .try_send(frame)
            .is_err()
        {
            errors.fetch_add(1, Ordering::Relaxed);
        }
    }
    (total, send_start.elapsed().as_secs_f64())
}

/// The figures a run prints.
struct Figures {
    visitors: usize,
    connect_secs: f64,
    sockets: (u64, u64),
    /// How long the agents took to join every chat.
    join_secs: f64,
    total: u64,
    send_secs: f64,
    latencies: Vec<u64>,
    errors: u64,
    rss: (Resident, Resident, Resident),
    /// The relay's CPU seconds while the messages were sent and delivered.
    load_cpu_secs: f64,
}

fn print_figures(figures: &Figures) {
    let latencies = &figures.latencies;
    let (rss_start, rss_idle, rss_end) = figures.rss;
    println!("porchlight loadgen");
    println!(
        "  visitors connected     {} in {:.1}s (relay holds {} visitor + {} agent sockets)",
        figures.visitors, figures.connect_secs, figures.sockets.0, figures.sockets.1
    );
    println!(
        "  chats joined           {} in {:.1}s (each join announced to every agent)",
        figures.visitors, figures.join_secs
    );
    println!(
        "  messages               sent {} at {:.0}/s, delivered to agents {}",
        figures.total,
        figures.total as f64 / figures.send_secs,
        latencies.len()
    );
    println!("{}", latency_line(latencies));
    println!(
        "  errors                 {}",
        figures.errors + (figures.total - latencies.len() as u64)
    );
    let per_visitor =
        |start: u64, idle: u64| idle.saturating_sub(start) as f64 / figures.visitors as f64;
    println!(
        "  relay RSS              start {:.1} MiB, idle with sockets {:.1} MiB ({:.1} KiB per visitor; anonymous {:.1} KiB, the rest mostly the mapped database), after load {:.1} MiB",
        rss_start.all as f64 / 1024.0,
        rss_idle.all as f64 / 1024.0,
        per_visitor(rss_start.all, rss_idle.all),
        per_visitor(rss_start.anonymous, rss_idle.anonymous),
        rss_end.all as f64 / 1024.0
    );
    println!(
        "  relay CPU under load   {:.2} s ({:.1} µs per message, {:.2} s per 1,000)",
        figures.load_cpu_secs,
        figures.load_cpu_secs * 1e6 / figures.total.max(1) as f64,
        figures.load_cpu_secs * 1000.0 / figures.total.max(1) as f64
    );
}

/// The relays of the run: one, or `--nodes` of a cluster.
async fn start_nodes(args: &Args, data: &std::path::Path) -> anyhow::Result<Vec<RunningRelay>> {
    anyhow::ensure!(args.nodes >= 1, "--nodes is at least 1");
    anyhow::ensure!(
        args.nodes == 1 || (args.nats.is_some() && args.postgres.is_some()),
        "--nodes above 1 needs --postgres and --nats"
    );
    anyhow::ensure!(
        !(args.restart && args.nodes > 1),
        "--restart is for one relay"
    );
    let command = RelayCommand {
        bin: &args.relay_bin,
        durability: &args.durability,
        data,
        postgres: args.postgres.as_deref(),
        nats: args.nats.as_deref(),
        node: 0,
    };
    relay_process::start_nodes(&command, args.nodes).await
}

/// Every node's open sockets, added up.
async fn sockets_all(nodes: &[RunningRelay]) -> (u64, u64) {
    let mut sum = (0, 0);
    for node in nodes {
        let (visitors, agents) = health(&node.addr).await.unwrap_or((0, 0));
        sum = (sum.0 + visitors, sum.1 + agents);
    }
    sum
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    args.load.check()?;
    let data = relay_process::scratch_data()?;
    let mut nodes = start_nodes(&args, &data).await?;
    let addrs: Vec<String> = nodes.iter().map(|node| node.addr.clone()).collect();
    let relay = &nodes[0];
    let rss_start = resident_all(&nodes);
    // Log in once; every agent socket uses the session.
    // The first login replaces the one-time password, as the console would ask.
    let first = login(&relay.addr, &relay.password).await?;
    let cookie =
        choose_password(&relay.addr, &first, &relay.password, "loadgen-password-1").await?;
    let errors = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let visitors = open_visitors(&addrs, args.load.visitors, args.connect_at_once, &errors).await?;
    let conversations: Vec<i64> = visitors
        .iter()
        .map(|visitor| visitor.conversation)
        .collect();
    let connect_secs = started.elapsed().as_secs_f64();
    let epoch = Instant::now();
    let (latency_tx, mut latency_rx) = mpsc::unbounded_channel::<u64>();
    let (mut sinks, counts) = open_agents(
        &addrs,
        &cookie,
        args.load.agents,
        epoch,
        &errors,
        &latency_tx,
    )
    .await?;
    drop(latency_tx);
    let joining = Instant::now();
    join_all(&mut sinks, &counts, &conversations).await?;
    let join_secs = joining.elapsed().as_secs_f64();
    let rss_idle = resident_all(&nodes);
    let cpu_before = cpu_all(&nodes);
    let (total, send_secs) = send_load(&args, &visitors, epoch, &errors).await;
    let latencies = collect_latencies(&mut latency_rx, total).await;
    let rss_end = resident_all(&nodes);
    let load_cpu_secs = cpu_all(&nodes) - cpu_before;
    print_figures(&Figures {
        visitors: args.load.visitors,
        connect_secs,
        join_secs,
        sockets: sockets_all(&nodes).await,
        total,
        send_secs,
        latencies,
        errors: errors.load(Ordering::Relaxed),
        rss: (rss_start, rss_idle, rss_end),
        load_cpu_secs,
    });
    for node in &mut nodes {
        node.child.start_kill()?;
        node.child.wait().await?;
    }
    if args.restart {
        // The old sockets close with their senders: the new ones need the descriptors.
        let chats: Vec<(i64, String)> = visitors
            .into_iter()
            .map(|visitor| (visitor.conversation, visitor.token))
            .collect();
        let started = Instant::now();
        let command = RelayCommand {
            bin: &args.relay_bin,
            durability: &args.durability,
            data: &data,
            postgres: args.postgres.as_deref(),
            nats: None,
            node: 0,
        };
        let relay = relay_process::start(&command, false).await?;
        let start_secs = started.elapsed().as_secs_f64();
        let resume_secs = resume_all(&relay.addr, &chats, args.connect_at_once).await?;
        println!(
            "  after kill -9          relay listening again in {start_secs:.2}s; {} visitors resumed in {resume_secs:.1}s",
            chats.len()
        );
    }
    let _ = std::fs::remove_dir_all(&data);
    Ok(())
}
