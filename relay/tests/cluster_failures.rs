//! Cluster mode when something fails: a node killed with `kill -9` while visitors
//! send, or while chats wait, and the NATS server gone for a while. No acknowledged
//! message is lost or doubled, the agent's transcript on another node ends up equal to
//! the store's, and each waiting timer fires once.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::cluster::{Cluster, spawn_node, waiting_visitor};
use common::{PATIENCE, Ws};
use serde_json::{Value, json};
use tokio::sync::Notify;

/// How long the NATS server stays away.
const OUTAGE: Duration = Duration::from_secs(5);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nats_outage_loses_no_acknowledged_message() {
    if std::env::var_os("PORCHLIGHT_TEST_NATS").is_some() {
        return; // Only a server the test started may be stopped.
    }
    let mut cluster = Cluster::start(2).await;
    let (mut ana, ana_id) = cluster.console(1, "Ana").await;
    cluster.until_online(&[ana_id]).await;
    let (mut visitor, chat) = waiting_visitor(&cluster.nodes[0], "before").await;
    let joined = ana
        .answer(json!({"type": "join", "conversation_id": chat}), "joined")
        .await;
    assert_eq!(joined["type"], "joined", "{joined}");
    visitor.say("v-1", "first").await;
    ana.next_message("first").await;

    cluster.nats.stop();
    for n in 0..10 {
        let ack = visitor
            .say(&format!("out-{n}"), &format!("during the outage {n}"))
            .await;
        assert!(ack["seq"].is_u64(), "stored while NATS is away: {ack}");
    }
    tokio::time::sleep(OUTAGE).await;
    cluster.nats.restart();

    // Each within PATIENCE (ten seconds) of the last, in order.
    for n in 0..10 {
        let message = ana.next_of_type("message").await;
        assert_eq!(message["body"], format!("during the outage {n}"));
    }
    visitor.say("v-after", "after the outage").await;
    ana.next_message("after the outage").await;
    cluster.stop().await;
}

const VISITORS: usize = 20;
/// Acknowledged messages, over all visitors, before node A is killed.
const ACKED_BEFORE_KILL: usize = 200;
const RUNS: usize = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_while_visitors_send_loses_and_doubles_nothing() {
    for run in 0..RUNS {
        kill_a_node_while_visitors_send(run).await;
    }
}

/// What a visitor had acknowledged when their node died.
struct Sent {
    token: String,
    chat: i64,
    /// client_msg_id → seq, for every acknowledged message.
    acked: HashMap<String, u64>,
    /// The message sent last, perhaps unacknowledged.
    in_flight: Option<(String, String)>,
}

async fn kill_a_node_while_visitors_send(run: usize) {
    let cluster = Cluster::start(1).await;
    let dir = tempfile::tempdir().unwrap();
    let (mut node_a, addr_a) = spawn_node(&cluster, &dir.path().join("a")).await;
    let (mut ana, ana_id) = cluster.console(0, "Ana").await;
    cluster.until_online(&[ana_id]).await;

    let mut visitors = Vec::new();
    for n in 0..VISITORS {
        let mut visitor = Ws::connect(&format!("ws://{addr_a}/ws/visitor"), &[]).await;
        let token = visitor.hello(None, None).await["token"]
            .as_str()
            .unwrap()
            .to_owned();
        let ack = visitor.say("v-0", &format!("hello {n}")).await;
        let chat = ack["conversation_id"].as_i64().unwrap();
        let joined = ana
            .answer(json!({"type": "join", "conversation_id": chat}), "joined")
            .await;
        assert_eq!(joined["type"], "joined", "run {run}: {joined}");
        let acked = HashMap::from([("v-0".to_owned(), ack["seq"].as_u64().unwrap())]);
        let sent = Sent {
            token,
            chat,
            acked,
            in_flight: None,
        };
        visitors.push((visitor, sent));
    }

    let total = Arc::new(AtomicUsize::new(0));
    let enough = Arc::new(Notify::new());
    let mut sending = tokio::task::JoinSet::new();
    for (visitor, sent) in visitors {
        sending.spawn(send_until_cut(
            visitor,
            sent,
            Arc::clone(&total),
            Arc::clone(&enough),
        ));
    }
    enough.notified().await;
    node_a.start_kill().unwrap();
    node_a.wait().await.unwrap();
    let visitors = sending.join_all().await;

    // Each visitor's widget reconnects, through the balancer, to B and resends.
    let b = &cluster.nodes[0];
    let mut chats = Vec::new();
    for mut sent in visitors {
        let last_seq = sent.acked.values().copied().max().unwrap();
        let mut back = b.visitor().await;
        back.hello(Some(&sent.token), Some((sent.chat, last_seq)))
            .await;
        if let Some((id, body)) = sent.in_flight.take() {
            let ack = back.say(&id, &body).await;
            sent.acked.insert(id, ack["seq"].as_u64().unwrap());
        }
        let ack = back.say("after", "after the crash").await;
        sent.acked
            .insert("after".into(), ack["seq"].as_u64().unwrap());
        chats.push(sent);
    }

    for sent in &chats {
        let stored = b
            .state
            .store
            .messages_after(sent.chat, 0, 10_000)
            .await
            .unwrap();
        let seqs: Vec<u64> = stored.iter().map(|message| message.seq).collect();
        assert_eq!(
            seqs,
            (1..=stored.len() as u64).collect::<Vec<_>>(),
            "run {run}: gap-free"
        );
        let by_id: HashMap<&str, u64> = stored
            .iter()
            .filter_map(|message| Some((message.client_msg_id.as_deref()?, message.seq)))
            .collect();
        let visitor_messages = stored
            .iter()
            .filter(|message| message.client_msg_id.is_some())
            .count();
        assert_eq!(
            by_id.len(),
            visitor_messages,
            "run {run}: none stored twice"
        );
        for (id, seq) in &sent.acked {
            assert_eq!(
                by_id.get(id.as_str()),
                Some(seq),
                "run {run}: {id} kept its seq"
            );
        }
    }
    ana_sees_the_stores_transcripts(&mut ana, b, &chats, run).await;
    drop(node_a);
    cluster.stop().await;
}

/// Sends until the node dies; counts acknowledged messages, and says when there are
/// enough to kill the node.
async fn send_until_cut(
    mut visitor: Ws,
    mut sent: Sent,
    total: Arc<AtomicUsize>,
    enough: Arc<Notify>,
) -> Sent {
    for n in 1.. {
        let (id, body) = (format!("m-{n}"), format!("message {n}"));
        visitor
            .send(json!({"type": "send", "client_msg_id": id, "body": body}))
            .await;
        sent.in_flight = Some((id.clone(), body));
        let ack = loop {
            match visitor.next().await {
                Some(frame) if frame["type"] == "ack" => break frame,
                Some(_) => {}
                None => return sent,
            }
        };
        sent.acked.insert(id, ack["seq"].as_u64().unwrap());
        sent.in_flight = None;
        if total.fetch_add(1, Ordering::Relaxed) + 1 == ACKED_BEFORE_KILL {
            enough.notify_one();
        }
    }
    sent
}

/// The agent on B has, for each chat, exactly the store's messages from their join
/// on: those node A stored and never passed on included.
async fn ana_sees_the_stores_transcripts(
    ana: &mut Ws,
    b: &common::TestRelay,
    chats: &[Sent],
    run: usize,
) {
    let mut stored: HashMap<i64, BTreeMap<u64, String>> = HashMap::new();
    for sent in chats {
        let messages = b
            .state
            .store
            .messages_after(sent.chat, 0, 10_000)
            .await
            .unwrap();
        stored.insert(
            sent.chat,
            messages
                .into_iter()
                .map(|message| (message.seq, message.body))
                .collect(),
        );
    }
    let mut seen: HashMap<i64, Vec<(u64, String)>> = HashMap::new();
    let caught_up = |seen: &HashMap<i64, Vec<(u64, String)>>| {
        stored.iter().all(|(chat, messages)| {
            seen.get(chat)
                .and_then(|list| list.last())
                .map(|(seq, _)| *seq)
                == messages.keys().next_back().copied()
        })
    };
    tokio::time::timeout(PATIENCE * 3, async {
        while !caught_up(&seen) {
            let frame: Value = ana.next_json().await;
            if frame["type"] == "message" {
                let chat = frame["conversation_id"].as_i64().unwrap();
                let entry = (
                    frame["seq"].as_u64().unwrap(),
                    frame["body"].as_str().unwrap().to_owned(),
                );
                seen.entry(chat).or_default().push(entry);
            }
        }
    })
    .await
    .expect("the agent gets every stored message");
    for (chat, list) in &seen {
        let first = list.first().map_or(0, |(seq, _)| *seq);
        let expected: Vec<(u64, String)> = stored[chat]
            .range(first..)
            .map(|(seq, body)| (*seq, body.clone()))
            .collect();
        assert_eq!(
            list, &expected,
            "run {run}: chat {chat} as the agent saw it"
        );
    }
}

const MINUTE_MS: i64 = 60_000;
const WAIT_MESSAGE: &str = "Thanks for waiting.";
const ABANDONED: &str = "The chat ended: nobody was there to answer";

/// Moves every chat's clock back by `minutes`, as if that much time had passed, then
/// has the nodes' timers look again.
async fn age_all(cluster: &Cluster, minutes: i64) {
    let db = common::postgres::connected(&cluster.postgres_url).await;
    db.execute(
        "UPDATE conversations SET queued_at = queued_at - $1, \
         still_there_at = still_there_at - $1, still_there_asked_at = still_there_asked_at - $1",
        &[&(minutes * MINUTE_MS)],
    )
    .await
    .unwrap();
    porchlight_relay::chat::timers::look_again(&cluster.nodes[0].state);
}

/// Reads the console until every chat of `chats` has said `body`.
async fn until_each_says(console: &mut Ws, chats: &[i64], body: &str) {
    let mut said: HashMap<i64, usize> = HashMap::new();
    while chats.iter().any(|chat| !said.contains_key(chat)) {
        let frame = console.next_of_type("message").await;
        if frame["body"] == body {
            *said
                .entry(frame["conversation_id"].as_i64().unwrap())
                .or_default() += 1;
        }
    }
}

/// Ten chats wait on node A with an agent online elsewhere; A is killed after their
/// wait messages, and node B asks "are you still there?" and ends each as abandoned:
/// each chat gets each of the three exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_waiting_timers_fire_once_each_when_a_node_dies_midway() {
    let cluster = Cluster::start(1).await;
    let b = &cluster.nodes[0];
    let mut profile = porchlight_relay::profiles::default_profile();
    profile.waiting.messages = vec![WAIT_MESSAGE.into()];
    profile.waiting.message_interval_minutes = 2;
    profile.waiting.repeat_messages = false;
    b.use_profile(&profile, true).await;
    b.state
        .store
        .set_abandon_rules(common::abandon_rules(5, 10))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (mut node_a, addr_a) = spawn_node(&cluster, &dir.path().join("a")).await;
    let (mut ana, _) = cluster.console(0, "Ana").await;
    let mut chats = Vec::new();
    let mut visitors = Vec::new();
    for n in 0..10 {
        let mut visitor = Ws::connect(&format!("ws://{addr_a}/ws/visitor"), &[]).await;
        visitor.hello(None, None).await;
        let chat = visitor.say("v-1", &format!("waiting {n}")).await["conversation_id"]
            .as_i64()
            .unwrap();
        ana.send(json!({"type": "open", "conversation_id": chat, "last_seq": 0}))
            .await;
        chats.push(chat);
        visitors.push(visitor);
    }

    age_all(&cluster, 3).await;
    until_each_says(&mut ana, &chats, WAIT_MESSAGE).await;
    node_a.start_kill().unwrap();
    node_a.wait().await.unwrap();
    age_all(&cluster, 3).await;
    until_each_says(
        &mut ana,
        &chats,
        porchlight_relay::chat::timers::STILL_THERE_QUESTION,
    )
    .await;
    age_all(&cluster, 11).await;
    until_each_says(&mut ana, &chats, ABANDONED).await;

    for chat in &chats {
        let messages = b.state.store.messages_after(*chat, 0, 1_000).await.unwrap();
        let count = |body: &str| {
            messages
                .iter()
                .filter(|message| message.body == body)
                .count()
        };
        assert_eq!(
            [
                count(WAIT_MESSAGE),
                count(porchlight_relay::chat::timers::STILL_THERE_QUESTION),
                count(ABANDONED)
            ],
            [1, 1, 1],
            "chat {chat}: each timer once"
        );
    }
    drop(visitors);
    cluster.stop().await;
}

/// A node whose NATS URL leads nowhere says so and does not start (it would serve
/// without hearing the others).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_cannot_reach_nats_says_so_and_does_not_start() {
    let postgres = common::postgres::TestPostgres::start();
    let url = postgres.schema().await;
    let nowhere = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let nats = format!("nats://{}", nowhere.local_addr().unwrap());
    drop(nowhere);
    let dir = tempfile::tempdir().unwrap();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_porchlight"))
        .args(["serve", "--addr", "127.0.0.1:0", "--data"])
        .arg(dir.path())
        .args(["--postgres", &url, "--nats", &nats])
        .env("PORCHLIGHT_LOG", "warn")
        .output();
    let output = tokio::time::timeout(PATIENCE, output)
        .await
        .expect("it gives up in time")
        .unwrap();
    assert!(!output.status.success());
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        said.contains("cannot join the cluster") && said.contains("cannot reach NATS"),
        "{said}"
    );
}
