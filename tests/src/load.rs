//! What `loadgen` and the bare floor share: the shape of a load run, the stamp each
//! message carries, and the latency line both print (the bench reads it from both).

use std::time::{Duration, Instant};

use tokio::sync::mpsc;

/// How many sockets a run holds and how many messages it sends.
#[derive(clap::Args)]
pub struct Shape {
    /// Visitor sockets to hold.
    #[arg(long, default_value_t = 1000)]
    pub visitors: usize,
    /// Agent sockets; visitors are spread over them.
    #[arg(long, default_value_t = 10)]
    pub agents: usize,
    /// Visitor messages per second, in total.
    #[arg(long, default_value_t = 1000)]
    pub rate: u64,
    /// Seconds of sending.
    #[arg(long, default_value_t = 20)]
    pub secs: u64,
}

impl Shape {
    pub fn check(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.visitors > 0 && self.agents > 0 && self.rate > 0 && self.secs > 0,
            "--visitors, --agents, --rate and --secs must all be above zero"
        );
        Ok(())
    }

    /// Messages the run sends.
    pub fn total(&self) -> u64 {
        self.rate * self.secs
    }
}

/// The latency line, from latencies in microseconds, sorted.
pub fn latency_line(sorted: &[u64]) -> String {
    let at = |fraction: f64| {
        if sorted.is_empty() {
            return 0.0;
        }
        let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
        sorted[index] as f64 / 1000.0
    };
    format!(
        "  visitor->agent latency p50 {:.2} ms  p90 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
        at(0.50),
        at(0.90),
        at(0.99),
        at(1.0)
    )
}

/// A message's body: when it was sent, in microseconds since `epoch`.
pub fn stamp(epoch: Instant) -> String {
    format!("t={}", epoch.elapsed().as_micros())
}

/// How long ago, in microseconds, a stamped body was sent; `None` for any other body.
pub fn latency(body: &str, epoch: Instant) -> Option<u64> {
    let sent: u64 = body.strip_prefix("t=")?.parse().ok()?;
    let now = u64::try_from(epoch.elapsed().as_micros()).unwrap_or(u64::MAX);
    Some(now.saturating_sub(sent))
}

/// The latencies of `total` messages as they arrive, sorted; fewer if some have not
/// arrived 10 seconds after the last was sent (each missing one is an error).
pub async fn collect_latencies(
    latencies: &mut mpsc::UnboundedReceiver<u64>,
    total: u64,
) -> Vec<u64> {
    let mut arrived = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while (arrived.len() as u64) < total {
        match tokio::time::timeout_at(deadline, latencies.recv()).await {
            Ok(Some(latency)) => arrived.push(latency),
            _ => break,
        }
    }
    arrived.sort_unstable();
    arrived
}
