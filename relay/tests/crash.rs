//! Kill -9 the real `porchlight` process after its acks, restart it on the same data:
//! every acknowledged message is there exactly once.

mod common;

use std::process::Stdio;

use common::{PATIENCE, Ws};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Starts the binary on a free port; returns it and its address from its first line.
async fn spawn_relay(data: &std::path::Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_porchlight"))
        .args(["serve", "--addr", "127.0.0.1:0", "--data"])
        .arg(data)
        .env("PORCHLIGHT_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let first = tokio::time::timeout(PATIENCE, lines.next_line())
        .await
        .expect("the relay printed its address in time")
        .unwrap()
        .unwrap();
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_messages_survive_kill_9_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (mut relay, addr) = spawn_relay(&data).await;

    let mut visitor = Ws::connect(&format!("ws://{addr}/ws/visitor"), &[]).await;
    let token = visitor.hello(None, None).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut conversation = 0;
    for n in 1..=25 {
        let ack = visitor
            .say(&format!("m-{n}"), &format!("message {n}"))
            .await;
        assert_eq!(ack["seq"], n);
        conversation = ack["conversation_id"].as_i64().unwrap();
    }
    relay.start_kill().unwrap();
    relay.wait().await.unwrap();

    let (_relay, addr) = spawn_relay(&data).await;
    let mut visitor = Ws::connect(&format!("ws://{addr}/ws/visitor"), &[]).await;
    let welcome = visitor.hello(Some(&token), None).await;
    assert_eq!(welcome["conversation"]["id"], conversation);
    assert_eq!(welcome["conversation"]["last_seq"], 25);
    let mut bodies = Vec::new();
    for _ in 0..25 {
        let message = visitor.next_of_type("message").await;
        bodies.push((
            message["seq"].as_u64().unwrap(),
            message["body"].as_str().unwrap().to_owned(),
        ));
    }
    let expected: Vec<(u64, String)> = (1..=25).map(|n| (n, format!("message {n}"))).collect();
    assert_eq!(bodies, expected);

    // Resending everything after the crash stores nothing twice.
    for n in 1..=25 {
        let ack = visitor
            .say(&format!("m-{n}"), &format!("message {n}"))
            .await;
        assert_eq!(ack["seq"], n);
    }
    let ack = visitor.say("m-26", "after the restart").await;
    assert_eq!(ack["seq"], 26);
}
