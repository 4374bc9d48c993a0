//! The bare floor `make bench` sets the relay's figures beside: an axum server that
//! forwards each visitor socket's frames to the agent socket it names, with nothing
//! stored, nothing parsed and 4 KiB read buffers; and a load run against it shaped as
//! `loadgen`'s (visitors connecting 200 at a time, messages at a total rate, each
//! stamped with the time it was sent), printing the same lines. On the same machine in
//! the same invocation, the ratio of the two says what Porchlight's own work costs.
//!
//! cargo run --release -p porchlight-tests --bin floor -- --visitors 10000 --agents 10 --rate 2000 --secs 10

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::Router;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use porchlight_tests::load::{Shape, collect_latencies, latency, latency_line, stamp};
use porchlight_tests::relay_process::{cpu_secs, resident};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::mpsc;

#[derive(Parser)]
struct Args {
    /// Run the server (the load run starts it as a process of its own).
    #[arg(long)]
    serve: bool,
    #[command(flatten)]
    load: Shape,
}

/// Each agent socket's queue of frames to write, by the agent's number. A frame is
/// passed on as read, never copied.
type Agents = Arc<Mutex<HashMap<usize, mpsc::Sender<Utf8Bytes>>>>;

const READ_BUFFER: usize = 4 * 1024;

async fn serve() -> anyhow::Result<()> {
    let agents: Agents = Arc::default();
    let app = Router::new()
        .route("/agent/{number}", get(agent))
        .route("/visitor/{agent}", get(visitor))
        .with_state(agents);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("listening on {}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}

async fn agent(
    State(agents): State<Agents>,
    Path(number): Path<usize>,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade
        .read_buffer_size(READ_BUFFER)
        .on_upgrade(move |socket| async move {
            let (tx, mut rx) = mpsc::channel::<Utf8Bytes>(16_384);
            agents
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .insert(number, tx);
            let (mut sink, mut stream) = socket.split();
            let writer = async {
                while let Some(frame) = rx.recv().await {
                    if sink.send(Message::Text(frame)).await.is_err() {
                        break;
                    }
                }
            };
            let reader = async { while let Some(Ok(_)) = stream.next().await {} };
            tokio::select! {
                () = writer => {}
                () = reader => {}
            }
        })
}

async fn visitor(
    State(agents): State<Agents>,
    Path(agent): Path<usize>,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade
        .read_buffer_size(READ_BUFFER)
        .on_upgrade(move |mut socket: WebSocket| async move {
            while let Some(Ok(message)) = socket.recv().await {
                let Message::Text(text) = message else {
                    continue;
                };
                let to = agents
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .get(&agent)
                    .cloned();
                if let Some(to) = to {
                    let _ = to.try_send(text);
                }
            }
        })
}

/// Starts `floor --serve` and returns it with its address.
async fn start_server() -> anyhow::Result<(tokio::process::Child, String)> {
    let mut child = tokio::process::Command::new(std::env::current_exe()?)
        .arg("--serve")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .context("cannot start the floor server")?;
    let stdout = child.stdout.take().context("the server's output")?;
    let mut lines = BufReader::new(stdout).lines();
    while let Some(line) = lines.next_line().await? {
        if let Some(addr) = line.strip_prefix("listening on ") {
            return Ok((child, addr.to_owned()));
        }
    }
    anyhow::bail!("the floor server stopped before listening")
}

/// Connects the agent sockets; each frame they get is a latency, sent on the channel.
async fn open_agents(
    addr: &str,
    count: usize,
    epoch: Instant,
) -> anyhow::Result<mpsc::UnboundedReceiver<u64>> {
    let (latency_tx, latency_rx) = mpsc::unbounded_channel::<u64>();
    for number in 0..count {
        let (socket, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/agent/{number}"))
            .await
            .context("an agent socket")?;
        let latencies = latency_tx.clone();
        tokio::spawn(async move {
            let (_sink, mut stream) = socket.split();
            while let Some(Ok(message)) = stream.next().await {
                if let Some(latency) = message.to_text().ok().and_then(|body| latency(body, epoch))
                {
                    let _ = latencies.send(latency);
                }
            }
        });
    }
    Ok(latency_rx)
}

async fn load(args: &Shape) -> anyhow::Result<()> {
    let (mut child, addr) = start_server().await?;
    let pid = child.id().context("the server's pid")?;
    let epoch = Instant::now();
    let mut latency_rx = open_agents(&addr, args.agents, epoch).await?;
    let rss_start = resident(pid);
    let connecting = Instant::now();
    let mut visitors = Vec::with_capacity(args.visitors);
    let numbers: Vec<usize> = (0..args.visitors).collect();
    for batch in numbers.chunks(200) {
        let opened = futures_util::future::try_join_all(batch.iter().map(|number| {
            let url = format!("ws://{addr}/visitor/{}", number % args.agents);
            async move { tokio_tungstenite::connect_async(url).await }
        }))
        .await
        .context("a visitor socket")?;
        visitors.extend(opened.into_iter().map(|(socket, _)| socket));
    }
    let connect_secs = connecting.elapsed().as_secs_f64();
    let rss_idle = resident(pid);
    let cpu_before = cpu_secs(pid);
    let total = args.total();
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / args.rate as f64));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let sending = Instant::now();
    let mut errors = 0u64;
    for n in 0..total {
        ticker.tick().await;
        let visitor = &mut visitors[(n as usize) % args.visitors];
        let frame = tokio_tungstenite::tungstenite::Message::text(stamp(epoch));
        if visitor.send(frame).await.is_err() {
            errors += 1;
        }
    }
    let send_secs = sending.elapsed().as_secs_f64();
    let latencies = collect_latencies(&mut latency_rx, total).await;
    let load_cpu = cpu_secs(pid) - cpu_before;
    println!("porchlight floor (bare axum: frames forwarded, nothing stored)");
    println!(
        "  visitors connected     {} in {connect_secs:.1}s",
        args.visitors
    );
    println!(
        "  messages               sent {total} at {:.0}/s, delivered to agents {}",
        total as f64 / send_secs,
        latencies.len()
    );
    println!("{}", latency_line(&latencies));
    println!(
        "  errors                 {}",
        errors + (total - latencies.len() as u64)
    );
    println!(
        "  relay RSS              start {:.1} MiB, idle with sockets {:.1} MiB ({:.1} KiB per visitor)",
        rss_start.all as f64 / 1024.0,
        rss_idle.all as f64 / 1024.0,
        rss_idle.all.saturating_sub(rss_start.all) as f64 / args.visitors as f64
    );
    println!(
        "  relay CPU under load   {load_cpu:.2} s ({:.1} µs per message, {:.2} s per 1,000)",
        load_cpu * 1e6 / total.max(1) as f64,
        load_cpu * 1000.0 / total.max(1) as f64
    );
    child.start_kill()?;
    child.wait().await?;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.serve {
        serve().await
    } else {
        args.load.check()?;
        load(&args.load).await
    }
}
