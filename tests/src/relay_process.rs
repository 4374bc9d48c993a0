//! The release relay as a process of its own for the load generator: started on a
//! free loopback port over a data folder, restarted over the same folder, and read
//! from `/proc` (memory, CPU time).

use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::Context;
use tokio::io::{AsyncBufReadExt, BufReader};

/// The relay under test.
pub struct RunningRelay {
    pub child: tokio::process::Child,
    pub pid: u32,
    pub addr: String,
    /// The first admin's one-time password (printed at the first start only).
    pub password: String,
}

/// How to start it.
#[derive(Clone, Copy)]
pub struct RelayCommand<'a> {
    pub bin: &'a str,
    pub durability: &'a str,
    pub data: &'a Path,
    /// The PostgreSQL store's URL, else SQLite in `data`.
    pub postgres: Option<&'a str>,
    /// Cluster mode: the NATS server, and which node this is (each node > 0 keeps its
    /// files in a folder of its own under `data`).
    pub nats: Option<&'a str>,
    pub node: usize,
}

/// A fresh data folder for this process's relay.
pub fn scratch_data() -> anyhow::Result<PathBuf> {
    let data = std::env::temp_dir().join(format!("porchlight-loadgen-{}", std::process::id()));
    std::fs::create_dir_all(&data)?;
    // Every visitor comes from this one address: the per-address limits are off.
    std::fs::write(
        data.join("loadgen.toml"),
        "[limits]\nchats_per_address = 0\nfiles_per_visitor = 0\nfiles_per_address = 0\n",
    )?;
    Ok(data)
}

/// Starts the relay and waits until it listens (and, the first time over a data
/// folder, until it has printed the admin's one-time password).
pub async fn start(command: &RelayCommand<'_>, first: bool) -> anyhow::Result<RunningRelay> {
    let data = match command.node {
        0 => command.data.to_owned(),
        node => command.data.join(format!("node-{node}")),
    };
    let mut child = tokio::process::Command::new(command.bin)
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--durability",
            command.durability,
            "--config",
        ])
        .arg(command.data.join("loadgen.toml"))
        .arg("--data")
        .arg(&data)
        .args(
            command
                .postgres
                .map(|url| ["--postgres", url])
                .into_iter()
                .flatten(),
        )
        .args(
            command
                .nats
                .map(|url| ["--nats", url, "--cluster", "loadgen"])
                .into_iter()
                .flatten(),
        )
        .env("PORCHLIGHT_LOG", "warn")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| {
            format!(
                "cannot start {} (build it with cargo build --release -p porchlight-relay)",
                command.bin
            )
        })?;
    let pid = child.id().context("relay pid")?;
    let mut lines = BufReader::new(child.stdout.take().context("relay stdout")?).lines();
    let mut addr = String::new();
    let mut password = String::new();
    while let Some(line) = lines.next_line().await? {
        if let Some(rest) = line.strip_prefix("Porchlight is listening on http://") {
            addr = rest.trim().to_owned();
            if !first {
                break;
            }
        }
        if let Some(rest) = line.split("one-time password ").nth(1) {
            password = rest
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_owned();
            break;
        }
    }
    anyhow::ensure!(!addr.is_empty(), "the relay stopped before it listened");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok(RunningRelay {
        child,
        pid,
        addr,
        password,
    })
}

/// `count` relays: one, or the nodes of a cluster (the first prints the admin's
/// password), each as `command` says with its own node number.
pub async fn start_nodes(
    command: &RelayCommand<'_>,
    count: usize,
) -> anyhow::Result<Vec<RunningRelay>> {
    let mut nodes = Vec::with_capacity(count);
    for node in 0..count {
        let command = RelayCommand { node, ..*command };
        nodes.push(start(&command, node == 0).await?);
    }
    Ok(nodes)
}

/// Every node's resident memory, added up.
pub fn resident_all(nodes: &[RunningRelay]) -> Resident {
    nodes.iter().fold(
        Resident {
            all: 0,
            anonymous: 0,
        },
        |sum, node| {
            let one = resident(node.pid);
            Resident {
                all: sum.all + one.all,
                anonymous: sum.anonymous + one.anonymous,
            }
        },
    )
}

/// Every node's CPU seconds so far, added up.
pub fn cpu_all(nodes: &[RunningRelay]) -> f64 {
    nodes.iter().map(|node| cpu_secs(node.pid)).sum()
}

/// The relay's resident memory, in KiB: all of it (`VmRSS`), and the anonymous part
/// (`RssAnon`: the heap and stacks, without the files mapped: mostly the database).
#[derive(Clone, Copy)]
pub struct Resident {
    pub all: u64,
    pub anonymous: u64,
}

pub fn resident(pid: u32) -> Resident {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|line| line.starts_with(name))
            .and_then(|line| line.split_whitespace().nth(1))
            .and_then(|kib| kib.parse().ok())
            .unwrap_or(0)
    };
    Resident {
        all: field("VmRSS:"),
        anonymous: field("RssAnon:"),
    }
}

/// The process's CPU time so far (user + system), in seconds: fields 14 and 15 of
/// `/proc/PID/stat`, in clock ticks (100 per second on Linux).
pub fn cpu_secs(pid: u32) -> f64 {
    let ticks = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            // The command name (field 2) may hold spaces; count from after it.
            let rest = stat.rsplit_once(')')?.1;
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let user: u64 = fields.get(11)?.parse().ok()?;
            let system: u64 = fields.get(12)?.parse().ok()?;
            Some(user + system)
        })
        .unwrap_or(0);
    ticks as f64 / 100.0
}
