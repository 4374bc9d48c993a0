//! The relay over real sockets on 127.0.0.1:0: round trips, resume, races, bad frames.

mod common;

use common::start;
use futures_util::SinkExt;
use porchlight_relay::auth::token_hash;
use porchlight_relay::store::visitors::VisitorStore;
use porchlight_relay::store::{ConversationStore, SiteStore, SqliteStore};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_and_an_agent_talk_through_the_relay() {
    let relay = start().await;
    let mut visitor = relay.visitor().await;
    let welcome = visitor.hello(None, None).await;
    assert_eq!(welcome["v"], 1);
    assert!(welcome["token"].as_str().unwrap().len() == 64);
    assert!(welcome.get("conversation").is_none());

    let ack = visitor.say("v-1", "My sink is leaking").await;
    assert_eq!(ack["seq"], 1);
    let conversation = ack["conversation_id"].as_i64().unwrap();

    let (mut agent, welcome) = relay.agent(&relay.admin().email, "Admin").await;
    assert_eq!(welcome["agent"]["name"], "Admin");
    let chats = welcome["chats"].as_array().unwrap();
    assert_eq!(chats.len(), 1);
    assert_eq!(chats[0]["conversation_id"], conversation);
    assert_eq!(chats[0]["status"], "queued");

    agent
        .send(json!({"type": "join", "conversation_id": conversation}))
        .await;
    assert_eq!(
        agent.next_of_type("joined").await["conversation_id"],
        conversation
    );
    let queued = visitor.next_of_type("status").await;
    assert_eq!(
        queued["status"], "queued",
        "the first message queued the chat"
    );
    let joined = visitor.next_message("Admin joined the chat").await;
    assert_eq!(joined["author"], "system");
    assert_eq!(joined["seq"], 2);
    let status = visitor.next_of_type("status").await;
    assert_eq!(status["status"], "active");
    assert_eq!(status["agent_name"], "Admin");

    agent
        .send(json!({"type": "open", "conversation_id": conversation, "last_seq": 0}))
        .await;
    let first = agent.next_message("My sink is leaking").await;
    assert_eq!(
        (first["seq"].as_u64(), first["author"].as_str()),
        (Some(1), Some("visitor"))
    );
    assert!(ack["at"].as_i64().unwrap() > 0);
    assert_eq!(first["at"], ack["at"], "the ack carries the stored time");

    agent
        .send(json!({"type": "send", "conversation_id": conversation, "client_msg_id": "a-1", "body": "Turn off the valve under it."}))
        .await;
    let agent_ack = agent.next_of_type("ack").await;
    assert_eq!(agent_ack["seq"], 3);
    let reply = visitor.next_message("Turn off the valve under it.").await;
    assert_eq!(reply["author"], "agent");
    assert_eq!(reply["at"], agent_ack["at"]);
    assert_eq!(reply["author_name"], "Admin");

    visitor.say("v-2", "Done, thanks").await;
    let echoed = agent.next_message("Done, thanks").await;
    assert_eq!(echoed["seq"], 4);

    agent
        .send(json!({"type": "end_chat", "conversation_id": conversation}))
        .await;
    visitor.next_message("Admin ended the chat").await;
    visitor.next_status("ended").await;

    // A console opened later lists the ended chat (for the "closed" filter).
    let (_, later) = relay.agent("bo@example.com", "Bo").await;
    let closed: Vec<&serde_json::Value> = later["chats"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|chat| chat["conversation_id"] == conversation)
        .collect();
    assert_eq!(closed.len(), 1);
    assert_eq!(closed[0]["status"], "ended");

    // After the end, a new message starts a new conversation.
    let ack = visitor.say("v-3", "One more thing").await;
    assert_ne!(ack["conversation_id"], conversation);
    assert_eq!(ack["seq"], 1);
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconnecting_visitor_gets_each_missed_message_once_in_order() {
    let relay = start().await;
    let mut visitor = relay.visitor().await;
    let token = visitor.hello(None, None).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let conversation = visitor.say("v-1", "hello").await["conversation_id"]
        .as_i64()
        .unwrap();
    drop(visitor);

    let (mut agent, _) = relay.agent("bo@example.com", "Bo").await;
    agent
        .send(json!({"type": "join", "conversation_id": conversation}))
        .await;
    agent.next_of_type("joined").await;
    for n in 1..=3 {
        agent
            .send(json!({"type": "send", "conversation_id": conversation, "client_msg_id": format!("a-{n}"), "body": format!("reply {n}")}))
            .await;
        agent.next_of_type("ack").await;
    }

    let mut visitor = relay.visitor().await;
    let welcome = visitor.hello(Some(&token), Some((conversation, 1))).await;
    assert_eq!(welcome["token"], token.as_str(), "the same visitor");
    assert_eq!(welcome["conversation"]["id"], conversation);
    assert_eq!(welcome["conversation"]["status"], "active");
    assert_eq!(welcome["conversation"]["last_seq"], 5);
    let mut missed = Vec::new();
    for _ in 0..4 {
        let message = visitor.next_of_type("message").await;
        missed.push((
            message["seq"].as_u64().unwrap(),
            message["body"].as_str().unwrap().to_owned(),
        ));
    }
    assert_eq!(
        missed,
        vec![
            (2, "Bo joined the chat".to_owned()),
            (3, "reply 1".to_owned()),
            (4, "reply 2".to_owned()),
            (5, "reply 3".to_owned()),
        ]
    );

    // A resend of an acknowledged message is answered with its original seq, not stored again.
    let again = visitor.say("v-1", "hello").await;
    assert_eq!(again["seq"], 1);
    let stored = relay
        .state
        .store
        .messages_after(conversation, 0, 100)
        .await
        .unwrap();
    assert_eq!(stored.len(), 5);

    // Nothing is replayed twice: the next frame after the backlog is live.
    agent
        .send(json!({"type": "send", "conversation_id": conversation, "client_msg_id": "a-4", "body": "live"}))
        .await;
    let live = visitor.next_of_type("message").await;
    assert_eq!(
        (live["seq"].as_u64(), live["body"].as_str()),
        (Some(6), Some("live"))
    );
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_two_agents_race_to_join_exactly_one_wins() {
    let relay = start().await;
    let mut visitor = relay.visitor().await;
    visitor.hello(None, None).await;
    let conversation = visitor.say("v-1", "anyone?").await["conversation_id"].clone();
    let (mut ana, _) = relay.agent("ana@example.com", "Ana").await;
    let (mut bo, _) = relay.agent("bo@example.com", "Bo").await;
    let join = json!({"type": "join", "conversation_id": conversation});
    let (_, _) = tokio::join!(ana.send(join.clone()), bo.send(join));
    let first = |frame: serde_json::Value| frame["type"] == "joined" || frame["type"] == "error";
    let mut outcomes = Vec::new();
    for agent in [&mut ana, &mut bo] {
        loop {
            let frame = agent.next_json().await;
            if first(frame.clone()) {
                outcomes.push(frame);
                break;
            }
        }
    }
    let joined = outcomes.iter().filter(|f| f["type"] == "joined").count();
    let refused: Vec<_> = outcomes.iter().filter(|f| f["type"] == "error").collect();
    assert_eq!(joined, 1, "{outcomes:?}");
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0]["code"], "already_taken");
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_frames_get_error_frames_and_the_socket_lives_on() {
    let relay = start().await;
    let mut visitor = relay.visitor().await;
    visitor
        .send(json!({"type": "send", "client_msg_id": "x", "body": "too early"}))
        .await;
    assert_eq!(visitor.next_json().await["code"], "hello_required");
    visitor.hello(None, None).await;

    visitor.send_text("this is not json").await;
    let error = visitor.next_json().await;
    assert_eq!(
        (error["type"].as_str(), error["code"].as_str()),
        (Some("error"), Some("bad_frame"))
    );

    visitor.send(json!({"type": "launch"})).await;
    assert_eq!(visitor.next_json().await["code"], "unknown_type");

    visitor
        .send(json!({"type": "send", "client_msg_id": "big", "body": "x".repeat(20_000)}))
        .await;
    assert_eq!(visitor.next_json().await["code"], "frame_too_large");

    visitor
        .send(json!({"type": "send", "client_msg_id": "blank", "body": "   "}))
        .await;
    assert_eq!(visitor.next_json().await["code"], "empty_message");

    visitor
        .stream
        .send(Message::Binary(vec![1, 2, 3].into()))
        .await
        .unwrap();
    assert_eq!(visitor.next_json().await["code"], "bad_frame");

    let ack = visitor.say("v-1", "still here").await;
    assert_eq!(ack["seq"], 1, "the connection survived every bad frame");
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_sites_versions_origins_and_missing_logins_are_refused() {
    let relay = start().await;
    let mut visitor = relay.visitor().await;
    visitor
        .send(json!({"type": "hello", "v": 1, "site": "nope"}))
        .await;
    assert_eq!(visitor.next_json().await["code"], "unknown_site");
    assert!(visitor.next().await.is_none(), "the socket is closed");

    let mut visitor = relay.visitor().await;
    visitor
        .send(json!({"type": "hello", "v": 99, "site": "demo"}))
        .await;
    assert_eq!(visitor.next_json().await["code"], "unsupported_version");

    let no_login = tokio_tungstenite::connect_async(relay.url("/ws/agent")).await;
    assert!(no_login.is_err(), "no session cookie, no agent socket");

    let cookie = relay.agent_cookie("ana@example.com", "Ana").await;
    let mut request =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
            relay.url("/ws/agent"),
        )
        .unwrap();
    request
        .headers_mut()
        .insert("cookie", cookie.parse().unwrap());
    request
        .headers_mut()
        .insert("origin", "https://evil.example".parse().unwrap());
    assert!(
        tokio_tungstenite::connect_async(request).await.is_err(),
        "another origin cannot ride the agent's cookie"
    );

    let (mut agent, _) = relay.agent("ana@example.com", "Ana").await;
    agent
        .send(json!({"type": "send", "conversation_id": 1, "client_msg_id": "a", "body": "hi"}))
        .await;
    assert_eq!(agent.next_json().await["code"], "not_found");
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_sockets_and_keeps_every_acknowledged_message() {
    if common::sqlite_only("reads the stopped relay's SQLite file") {
        return;
    }
    let relay = start().await;
    let mut visitor = relay.visitor().await;
    let token = visitor.hello(None, None).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    for n in 0..20 {
        visitor.say(&format!("v-{n}"), "kept").await;
    }
    let closing = tokio::spawn(async move { visitor.next().await });
    let dir = relay.stop().await;
    assert!(
        closing.await.unwrap().is_none(),
        "the relay closed the socket on shutdown"
    );

    let store = SqliteStore::open(&dir.path().join("data")).unwrap();
    let site = store.site_by_key("demo").await.unwrap().unwrap();
    let visitor = store
        .visitor_by_token(site.id, &token_hash(&token))
        .await
        .unwrap()
        .unwrap();
    let conversation = store
        .latest_conversation(visitor.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(conversation.last_seq, 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_tabs_of_one_visitor_write_into_one_chat() {
    let relay = start().await;
    let mut first = relay.visitor().await;
    let token = first.hello(None, None).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut second = relay.visitor().await;
    second.hello(Some(&token), None).await;

    let a = first.say("a-1", "from the first tab").await;
    let b = second.say("b-1", "from the second tab").await;
    assert_eq!(
        a["conversation_id"], b["conversation_id"],
        "one chat, not two"
    );
    assert_eq!((a["seq"].as_u64(), b["seq"].as_u64()), (Some(1), Some(2)));
    // The first tab sees the second tab's message.
    first.next_message("from the second tab").await;
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_resent_after_its_chat_ended_is_acknowledged_not_stored_again() {
    let relay = start().await;
    let mut visitor = relay.visitor().await;
    visitor.hello(None, None).await;
    let first = visitor.say("m-1", "hello").await;
    visitor.send(json!({"type": "end_chat"})).await;
    visitor.next_status("ended").await;
    // The outbox resends m-1 (its ack was lost): same seq, same chat, no new chat.
    let again = visitor.say("m-1", "hello").await;
    assert_eq!(again, first);
    let next = visitor.say("m-2", "a new question").await;
    assert_ne!(next["conversation_id"], first["conversation_id"]);
    assert_eq!(next["seq"], 1);
    relay.stop().await;
}
