//! The `porchlight` binary as a process of its own, for tests that kill it.

use std::ffi::OsStr;
use std::path::Path;
use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use super::PATIENCE;

/// Starts `porchlight serve` on a free port over `data`, with `more` arguments;
/// returns the process and the address its first line names.
pub(crate) async fn spawn_relay(data: &Path, more: &[&OsStr]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_porchlight"))
        .args(["serve", "--addr", "127.0.0.1:0", "--data"])
        .arg(data)
        .args(more)
        .env("PORCHLIGHT_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = tokio::time::timeout(PATIENCE, lines.next_line())
        .await
        .expect("the relay printed its address in time")
        .unwrap()
        .expect("the relay started");
    let addr = first
        .rsplit("http://")
        .next()
        .expect("the first line names the address")
        .trim()
        .to_owned();
    // Keep reading so the relay never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, addr)
}
