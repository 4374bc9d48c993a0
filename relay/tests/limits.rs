//! The socket limits, end to end over real sockets: the rate limit, the frame size
//! limit, pings and the idle close, a slow reader cut without holding anyone up, a
//! dropped console closed at once, and shutdowns that neither lose an acknowledged
//! message nor wait on a peer that does not read.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::raw::RawSocket;
use common::{json_call, start, start_configured};
use porchlight_relay::config::SocketTiming;
use serde_json::{Value, json};

fn code_of(frame: &common::raw::RawFrame) -> Option<String> {
    let json: Value = serde_json::from_slice(&frame.payload).ok()?;
    json["code"].as_str().map(str::to_owned)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_sixty_frames_is_taken_then_the_rest_are_refused_as_too_fast() {
    let relay = start().await;
    let mut raw = RawSocket::connect(relay.addr, "/ws/visitor", None).await;
    // Not hello: each is answered with an error, so every frame gets one reply.
    raw.send_many("x", 90).await;
    let mut codes = Vec::new();
    while codes.len() < 90 {
        let frame = raw.next().await.expect("a reply to every frame");
        if frame.opcode == 1 {
            codes.push(code_of(&frame).unwrap());
        }
    }
    let taken = codes.iter().filter(|code| *code == "bad_frame").count();
    let refused = codes.iter().filter(|code| *code == "rate_limited").count();
    // 60 at once, and the few the 20-a-second refill adds while they arrive.
    assert!((60..=64).contains(&taken), "{taken} taken: {codes:?}");
    assert_eq!(taken + refused, 90);
    assert!(
        codes[..60].iter().all(|code| code == "bad_frame"),
        "the burst comes first"
    );
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frame_over_64_kib_ends_the_socket() {
    let relay = start().await;
    let mut raw = RawSocket::connect(relay.addr, "/ws/visitor", None).await;
    raw.send_text(&"x".repeat(65 * 1024)).await;
    loop {
        match raw.next().await {
            None => break,
            Some(frame) => assert_ne!(frame.opcode, 1, "no reply, the socket ends: {frame:?}"),
        }
    }
    relay.stop().await;
}

/// A relay whose sockets ping and give up quickly.
async fn quick_relay(timing: SocketTiming) -> common::TestRelay {
    start_configured(tempfile::tempdir().unwrap(), |config| {
        config.sockets = timing
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_socket_is_pinged_then_closed_as_idle() {
    let relay = quick_relay(SocketTiming {
        ping_every: Duration::from_millis(100),
        idle_timeout: Duration::from_millis(600),
        ..SocketTiming::default()
    })
    .await;
    // This client never answers a ping, nor says anything.
    let mut raw = RawSocket::connect(relay.addr, "/ws/visitor", None).await;
    let mut pings = 0;
    let close = loop {
        let frame = raw.next().await.expect("a close before the end");
        match frame.opcode {
            9 => pings += 1,
            8 => break frame,
            other => panic!("unexpected opcode {other}"),
        }
    };
    assert!(pings >= 3, "pinged every 100 ms until idle: {pings}");
    assert_eq!(
        close.close_code(),
        Some(1001),
        "closed as going away (idle)"
    );
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_reader_is_cut_at_once_and_nobody_else_waits_for_it() {
    // Writes (and the closing frame) would wait a minute for it: the cut must not.
    let relay = quick_relay(SocketTiming {
        send_timeout: Duration::from_secs(60),
        ..SocketTiming::default()
    })
    .await;
    let mut bystander = relay.visitor().await;
    let welcome = bystander.hello(None, None).await;
    let token = welcome["token"].as_str().unwrap().to_owned();
    let chat = bystander.say("v-1", "Anyone?").await["conversation_id"]
        .as_i64()
        .unwrap();
    // The same visitor on a second socket that never reads, with a tiny window.
    let mut slow = RawSocket::connect(relay.addr, "/ws/visitor", Some(2048)).await;
    let hello = json!({"type": "hello", "v": 1, "site": "demo", "token": token});
    slow.send_text(&hello.to_string()).await;
    let (mut agent, _) = relay.agent(&relay.admin().email, "Admin").await;
    agent
        .send(json!({"type": "join", "conversation_id": chat}))
        .await;
    agent.next_of_type("joined").await;
    // More than the kernel's largest send buffer (4 MiB here) plus the outbox, so
    // the frames must pile up in the relay; sent from three consoles, as each
    // socket's rate limit allows a burst of 500.
    const SENT: usize = 1400;
    let mut consoles = vec![agent];
    for _ in 0..2 {
        consoles.push(relay.agent(&relay.admin().email, "Admin").await.0);
    }
    let body = "y".repeat(4000);
    for n in 0..SENT {
        consoles[n % 3]
            .send(json!({"type": "send", "conversation_id": chat, "client_msg_id": format!("a-{n}"), "body": body}))
            .await;
    }
    // The bystander gets every one of them...
    let mut seen = BTreeSet::new();
    while seen.len() < SENT {
        let frame = bystander.next_of_type("message").await;
        if frame["author"] == "agent" {
            seen.insert(frame["seq"].as_u64().unwrap());
        }
    }
    // ...and the slow socket was cut: reading now, it ends well short of them, with
    // a close that says to come back and resume.
    let mut messages = 0;
    let mut last = None;
    while let Some(frame) = slow.next().await {
        if frame.opcode == 1 && code_of(&frame).is_none() {
            messages += 1;
        }
        last = Some(frame);
    }
    assert!(messages < SENT, "{messages} frames reached the slow reader");
    let close = last.expect("frames, then the close");
    assert_eq!(close.close_code(), Some(1013), "closed as try again later");
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_whose_agent_an_admin_changes_is_closed_at_once_to_reconnect() {
    let relay = start().await;
    let cookie = relay.agent_cookie(&relay.admin().email, "Admin").await;
    let (mut console, welcome) = relay.agent(&relay.admin().email, "Admin").await;
    let id = welcome["agent"]["id"].as_i64().unwrap();
    let (status, _) = json_call(
        relay.addr,
        "PUT",
        &format!("/api/admin/agents/{id}"),
        &cookie,
        json!({"name": "Admin", "role": "admin", "teams": ["Support"], "access": "all"}),
    )
    .await;
    assert_eq!(status, 204);
    let closed = loop {
        match console.stream_next().await {
            Some(tokio_tungstenite::tungstenite::Message::Close(frame)) => break frame,
            Some(_) => {}
            None => panic!("the socket ended without a close frame"),
        }
    };
    assert_eq!(closed.map(|frame| u16::from(frame.code)), Some(1013));
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_stops_reading_does_not_hold_up_the_shutdown() {
    let relay = start().await;
    let mut flood = RawSocket::connect(relay.addr, "/ws/visitor", Some(2048)).await;
    // 60,000 bad frames; it reads none of the answers.
    flood.send_many("x", 60_000).await;
    let (mut agent, _) = relay.agent(&relay.admin().email, "Admin").await;
    agent
        .send(json!({"type": "set_status", "status_id": 1}))
        .await;
    agent.next_of_type("my_status").await;
    // `stop` panics past the test patience (10 s); the relay cuts the stuck socket.
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_with_messages_in_flight_loses_no_acknowledged_one() {
    let relay = start().await;
    let mut visitor = relay.visitor().await;
    visitor.hello(None, None).await;
    let first = visitor.say("m-0", "first").await;
    let chat = first["conversation_id"].as_i64().unwrap();
    for n in 1..300 {
        visitor
            .send(json!({"type": "send", "client_msg_id": format!("m-{n}"), "body": format!("message {n}")}))
            .await;
    }
    // Stop while they are arriving, then read every ack that made it out.
    let stopping = tokio::spawn(relay.stop());
    let mut acked = BTreeSet::from(["m-0".to_owned()]);
    while let Some(frame) = visitor.next().await {
        if frame["type"] == "ack" {
            acked.insert(frame["client_msg_id"].as_str().unwrap().to_owned());
        }
    }
    let data = stopping.await.unwrap();
    let relay = common::start_in(data).await;
    let stored = relay
        .state
        .store
        .messages_after(chat, 0, 1000)
        .await
        .unwrap();
    let seqs: Vec<u64> = stored.iter().map(|message| message.seq).collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as u64).collect::<Vec<_>>(),
        "gap-free"
    );
    let ids: Vec<String> = stored
        .iter()
        .filter_map(|message| message.client_msg_id.clone())
        .collect();
    let unique: BTreeSet<String> = ids.iter().cloned().collect();
    assert_eq!(unique.len(), ids.len(), "nothing stored twice");
    assert!(
        acked.is_subset(&unique),
        "every acknowledged message is stored: missing {:?}",
        acked.difference(&unique).collect::<Vec<_>>()
    );
    relay.stop().await;
}
