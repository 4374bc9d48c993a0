//! Cluster mode: three relays A, B and C on one PostgreSQL store and one NATS server,
//! each test in a schema and a cluster name of its own, the test choosing which node
//! each socket uses. What a socket on one node says reaches the others' sockets, each
//! message once and in seq order; rings reach every node and one join wins.

mod common;

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use common::cluster::{Cluster, waiting_visitor};
use common::{PATIENCE, TestRelay, Ws, http, json_call, upload};
use porchlight_relay::hub::Frame;
use porchlight_relay::server::DEMO_ADMIN_EMAIL;
use serde_json::{Value, json};

/// The message frames a socket got, per conversation, in the order they came.
#[derive(Default)]
struct Seen {
    seqs: HashMap<i64, Vec<u64>>,
    from: HashMap<(i64, String), usize>,
    /// Own messages the relay acknowledged (stored).
    acks: usize,
}

impl Seen {
    fn take(&mut self, frame: &Value) {
        if frame["type"] == "ack" {
            self.acks += 1;
        }
        if frame["type"] != "message" {
            return;
        }
        let chat = frame["conversation_id"].as_i64().unwrap();
        self.seqs
            .entry(chat)
            .or_default()
            .push(frame["seq"].as_u64().unwrap());
        let author = frame["author"].as_str().unwrap().to_owned();
        *self.from.entry((chat, author)).or_default() += 1;
    }

    /// Messages by `author`, in every chat.
    fn total(&self, author: &str) -> usize {
        self.from
            .iter()
            .filter(|((_, by), _)| by == author)
            .map(|(_, count)| count)
            .sum()
    }

    fn count(&self, chat: i64, author: &str) -> usize {
        self.from
            .get(&(chat, author.to_owned()))
            .copied()
            .unwrap_or(0)
    }

    /// Each message once, in seq order.
    fn assert_once_in_order(&self, who: &str) {
        for (chat, seqs) in &self.seqs {
            assert!(
                seqs.windows(2).all(|pair| pair[0] < pair[1]),
                "{who} got chat {chat}'s messages out of order or twice: {seqs:?}"
            );
        }
    }
}

/// Reads frames until `done` says the socket has seen enough.
async fn read_until(ws: &mut Ws, seen: &mut Seen, done: impl Fn(&Seen) -> bool) {
    while !done(seen) {
        let frame = ws.next_json().await;
        assert_ne!(frame["type"], "error", "{frame}");
        seen.take(&frame);
    }
}

/// A visitor sends the rest of their messages, then reads until each is acknowledged
/// and every one of their agent's has come.
async fn visitor_talks(mut visitor: Ws, chat: i64) -> Seen {
    for n in 1..EACH {
        let (id, body) = (format!("v-{n}"), format!("visitor {n}"));
        visitor
            .send(json!({"type": "send", "client_msg_id": id, "body": body}))
            .await;
    }
    let mut seen = Seen::default();
    read_until(&mut visitor, &mut seen, |seen| {
        seen.acks == EACH - 1 && seen.count(chat, "agent") == EACH
    })
    .await;
    seen.assert_once_in_order("a visitor on A");
    seen
}

/// An agent sends their messages into each of their chats, then reads until each is
/// acknowledged and every message of their visitors has come.
async fn agent_talks(mut console: Ws, chats: Vec<i64>) -> Seen {
    for chat in &chats {
        for n in 0..EACH {
            console
                .send(json!({
                    "type": "send", "conversation_id": chat,
                    "client_msg_id": format!("a-{chat}-{n}"), "body": format!("agent {n}")
                }))
                .await;
        }
    }
    let mut seen = Seen::default();
    read_until(&mut console, &mut seen, |seen| {
        seen.acks == chats.len() * EACH
            && chats
                .iter()
                .all(|chat| seen.count(*chat, "visitor") == EACH - 1)
    })
    .await;
    seen.assert_once_in_order("an agent on B or C");
    seen
}

const VISITORS: usize = 40;
const AGENTS_PER_NODE: usize = 4;
/// Messages each visitor sends, and each agent sends into each of their chats.
const EACH: usize = 25;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_cross_nodes_each_once_and_in_seq_order() {
    exchange(Cluster::start(3).await).await;
}

/// NATS drops what a slow subscriber does not read, and a node can die between a
/// COMMIT and its publish: a node that misses a message reads it from the store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_lost_on_the_way_arrive_from_the_store_once_and_in_order() {
    exchange(Cluster::start_losing(3, 50).await).await;
}

/// Forty visitors on A, eight agents on B and C; each side sends 1,000 messages.
async fn exchange(cluster: Cluster) {
    let mut agents = Vec::new();
    for node in [1, 2] {
        for n in 0..AGENTS_PER_NODE {
            agents.push(cluster.console(node, &format!("Agent{node}x{n}")).await);
        }
    }
    let ids: Vec<i64> = agents.iter().map(|(_, id)| *id).collect();
    cluster.until_online(&ids).await;

    // Forty visitors on A; each chat joined by an agent on B or C.
    let mut visitors = Vec::new();
    let mut chats_of: Vec<Vec<i64>> = vec![Vec::new(); agents.len()];
    for n in 0..VISITORS {
        let (visitor, chat) = waiting_visitor(&cluster.nodes[0], &format!("hello {n}")).await;
        let holder = n % agents.len();
        let (console, _) = &mut agents[holder];
        let joined = console
            .answer(json!({"type": "join", "conversation_id": chat}), "joined")
            .await;
        assert_eq!(joined["type"], "joined", "{joined}");
        chats_of[holder].push(chat);
        visitors.push((visitor, chat));
    }

    let mut talking = tokio::task::JoinSet::new();
    for (visitor, chat) in visitors {
        talking.spawn(visitor_talks(visitor, chat));
    }
    let mut consoles = tokio::task::JoinSet::new();
    for ((console, _), chats) in agents.into_iter().zip(chats_of) {
        consoles.spawn(agent_talks(console, chats));
    }
    let (visitors, consoles) = tokio::time::timeout(PATIENCE * 6, async {
        (talking.join_all().await, consoles.join_all().await)
    })
    .await
    .expect("every message arrives on every node");
    let from_agents: usize = visitors.iter().map(|seen| seen.total("agent")).sum();
    assert_eq!(
        from_agents,
        VISITORS * EACH,
        "1,000 messages from B and C reached A"
    );
    let from_visitors: usize = consoles.iter().map(|seen| seen.total("visitor")).sum();
    assert_eq!(
        from_visitors,
        VISITORS * (EACH - 1),
        "the visitors' messages reached B and C"
    );
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_on_one_node_rings_on_the_others_and_one_join_wins() {
    let cluster = Cluster::start(3).await;
    let (mut ana, ana_id) = cluster.console(1, "Ana").await;
    let (mut bo, bo_id) = cluster.console(2, "Bo").await;
    cluster.until_online(&[ana_id, bo_id]).await;
    for trial in 0..100 {
        let (mut visitor, chat) =
            waiting_visitor(&cluster.nodes[0], &format!("trial {trial}")).await;
        for console in [&mut ana, &mut bo] {
            let ring = console.next_of_type("ring").await;
            assert_eq!(ring["conversation_id"], chat, "trial {trial}: {ring}");
        }
        let join = json!({"type": "join", "conversation_id": chat});
        let (from_ana, from_bo) = tokio::join!(
            ana.answer(join.clone(), "joined"),
            bo.answer(join.clone(), "joined")
        );
        let outcomes = [&from_ana, &from_bo].map(|reply| {
            if reply["type"] == "joined" {
                "joined".to_owned()
            } else {
                reply["code"].as_str().unwrap_or_default().to_owned()
            }
        });
        let mut sorted = outcomes.clone();
        sorted.sort();
        assert_eq!(
            sorted,
            ["already_taken", "joined"],
            "trial {trial}: exactly one join wins"
        );
        for console in [&mut ana, &mut bo] {
            let stop = console.next_of_type("ring_stop").await;
            assert_eq!(
                stop["conversation_id"], chat,
                "trial {trial}: every console stops ringing"
            );
        }
        let (winner, winner_name) = if outcomes[0] == "joined" {
            (&mut ana, "Ana")
        } else {
            (&mut bo, "Bo")
        };
        visitor
            .next_message(&format!("{winner_name} joined the chat"))
            .await;
        winner
            .send(json!({"type": "end_chat", "conversation_id": chat}))
            .await;
        visitor.next_status("ended").await;
    }
    cluster.stop().await;
}

/// Settings a node keeps in memory, saved on one node, are used on the others.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_saved_on_one_node_are_used_on_the_others() {
    let cluster = Cluster::start(2).await;
    let (mut console, _) = cluster.console(1, "Ana").await;
    let on_b = |relay: &TestRelay| relay.state.email_on.load(Ordering::Relaxed);
    assert!(!on_b(&cluster.nodes[1]), "no email yet");
    let a = &cluster.nodes[0];
    let admin = a.agent_cookie(DEMO_ADMIN_EMAIL, "Admin").await;
    let smtp = json!({
        "host": "127.0.0.1", "port": 2525, "security": "none", "user": "", "password": "",
        "from": "Acme Support <support@example.com>", "team_to": "team@example.com"
    });
    let (status, saved) = json_call(a.addr, "PUT", "/api/admin/email", &admin, smtp).await;
    assert_eq!(status, 200, "{saved}");
    // Ops reach a node in the order they were sent: once B's console has the frame
    // sent after the change, B has applied the change.
    a.state
        .hub
        .publish_to_consoles(Frame::from(r#"{"type":"after_the_change"}"#));
    console.next_of_type("after_the_change").await;
    assert!(on_b(&cluster.nodes[1]), "B sends transcripts by email now");
    cluster.stop().await;
}

/// One agent with a console on B and one on C joins two waiting chats at once, one
/// from each: exactly one join succeeds, whether their own limit of one chat or the
/// one-chat rule stops the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_on_two_nodes_never_passes_their_limit() {
    let cluster = Cluster::start(3).await;
    let (mut on_b, agent) = cluster.console(1, "Cap").await;
    let (mut on_c, _) = cluster.console(2, "Cap").await;
    let store = &cluster.nodes[0].state.store;
    store.set_agent_capacity(agent, Some(1)).await.unwrap();
    capacity_race(&cluster, [&mut on_b, &mut on_c], "max_chats = 1").await;
    store.set_agent_capacity(agent, None).await.unwrap();
    let mut rules = store.chat_rules().await.unwrap();
    rules.one_chat_per_agent = true;
    store.set_chat_rules(rules).await.unwrap();
    capacity_race(&cluster, [&mut on_b, &mut on_c], "the one-chat rule").await;
    cluster.stop().await;
}

async fn capacity_race(cluster: &Cluster, consoles: [&mut Ws; 2], limit: &str) {
    let [on_b, on_c] = consoles;
    for trial in 0..100 {
        let (mut first, one) = waiting_visitor(&cluster.nodes[0], &format!("one {trial}")).await;
        let (mut second, two) = waiting_visitor(&cluster.nodes[0], &format!("two {trial}")).await;
        let (from_b, from_c) = tokio::join!(
            on_b.answer(json!({"type": "join", "conversation_id": one}), "joined"),
            on_c.answer(json!({"type": "join", "conversation_id": two}), "joined")
        );
        let joined: Vec<&Value> = [&from_b, &from_c]
            .into_iter()
            .filter(|reply| reply["type"] == "joined")
            .collect();
        assert_eq!(joined.len(), 1, "{limit}, trial {trial}: {from_b} {from_c}");
        let refused = if from_b["type"] == "joined" {
            &from_c
        } else {
            &from_b
        };
        assert_eq!(refused["code"], "at_capacity", "{limit}, trial {trial}");
        for visitor in [&mut first, &mut second] {
            visitor.send(json!({"type": "end_chat"})).await;
            visitor.next_status("ended").await;
        }
    }
}

/// One visitor whose widget is open in two tabs, one on A and one on B, sends from
/// both at once: one chat.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_on_two_nodes_at_once_opens_one_chat() {
    let cluster = Cluster::start(2).await;
    for trial in 0..20 {
        let mut on_a = cluster.nodes[0].visitor().await;
        let welcome = on_a.hello(None, None).await;
        let token = welcome["token"].as_str().unwrap();
        let mut on_b = cluster.nodes[1].visitor().await;
        on_b.hello(Some(token), None).await;
        let (from_a, from_b) = tokio::join!(on_a.say("a", "from A"), on_b.say("b", "from B"));
        assert_eq!(
            from_a["conversation_id"], from_b["conversation_id"],
            "trial {trial}: one conversation"
        );
        on_a.send(json!({"type": "end_chat"})).await;
        on_a.next_status("ended").await;
    }
    cluster.stop().await;
}

/// A file uploaded through one node is served by every node.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_uploaded_on_one_node_is_served_by_another() {
    let cluster = Cluster::start(2).await;
    let mut visitor = cluster.nodes[0].visitor().await;
    let token = visitor.hello(None, None).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let chat = visitor.say("v-0", "here is my order").await["conversation_id"]
        .as_i64()
        .unwrap();
    let bearer = format!("Bearer {token}");
    let sent = b"order 1234: two lamps";
    let (status, message) = upload(
        cluster.nodes[0].addr,
        chat,
        ("Authorization", &bearer),
        "order.txt",
        sent,
    )
    .await;
    assert_eq!(status, 201, "{message}");
    let url = message["attachment"]["url"].as_str().unwrap();
    let (status, _, body) = http(cluster.nodes[1].addr, "GET", url, &[], "").await;
    assert_eq!(status, 200, "B serves the file A took");
    assert_eq!(body.as_bytes(), sent);
    cluster.stop().await;
}

/// A node that stops says so: its agents are offline on the others at once, not ten
/// seconds later.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_stops_takes_its_agents_offline_at_once() {
    let mut cluster = Cluster::start(2).await;
    let (_ana, ana) = cluster.console(1, "Ana").await;
    cluster.until_online(&[ana]).await;
    let a = std::sync::Arc::clone(&cluster.nodes[0].state.hub);
    let mut heard = a.presence_heard().unwrap();
    heard.mark_unchanged();
    cluster.nodes.remove(1).stop().await;
    tokio::time::timeout(PATIENCE, async {
        while a.online_agents().contains(&ana) {
            heard.changed().await.unwrap();
        }
    })
    .await
    .expect("A hears that B's agents are gone");
    cluster.stop().await;
}

/// The queue moving on one node moves the places shown to visitors waiting on the
/// others.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_on_one_node_sees_the_queue_move_on_another() {
    let cluster = Cluster::start(2).await;
    let (_first, chat) = waiting_visitor(&cluster.nodes[0], "first").await;
    let (mut second, _) = waiting_visitor(&cluster.nodes[1], "second").await;
    until_place(&mut second, 2).await;
    let (mut ana, _) = cluster.console(0, "Ana").await;
    ana.send(json!({"type": "join", "conversation_id": chat}))
        .await;
    ana.next_of_type("joined").await;
    until_place(&mut second, 1).await;
    cluster.stop().await;
}

/// Reads the visitor's queue frames until one shows `place`.
async fn until_place(visitor: &mut Ws, place: u64) {
    while visitor.next_of_type("queue").await["position"] != place {}
}

/// A conversation's messages travel on a subject of its own, which only the nodes
/// following it subscribe to.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversations_messages_travel_on_its_own_subject() {
    use futures_util::StreamExt;
    let cluster = Cluster::start(1).await;
    let listener = async_nats::connect(cluster.nats.url()).await.unwrap();
    let mut chats = listener
        .subscribe(format!("{}.chat.*", cluster.name))
        .await
        .unwrap();
    listener.flush().await.unwrap();
    let (mut visitor, chat) = waiting_visitor(&cluster.nodes[0], "first").await;
    visitor.say("v-1", "on its own subject").await;
    let subject = format!("{}.chat.{chat}", cluster.name);
    loop {
        let heard = tokio::time::timeout(PATIENCE, chats.next())
            .await
            .expect("the message is published")
            .unwrap();
        assert_eq!(heard.subject.as_str(), subject);
        if String::from_utf8_lossy(&heard.payload).contains("on its own subject") {
            break;
        }
    }
    cluster.stop().await;
}
