//! The honest wait: waiting visitors get their place in line and the estimate, and
//! both move as the queue moves.

mod common;

use common::{TestRelay, Ws, start};
use serde_json::{Value, json};

async fn queued_visitor(relay: &TestRelay, id: &str) -> (Ws, i64) {
    let mut visitor = relay.visitor().await;
    visitor.hello(None, None).await;
    let chat = visitor.say(id, "Hello").await["conversation_id"]
        .as_i64()
        .unwrap();
    (visitor, chat)
}

/// The visitor's queue frames until one says `position`; returns that frame.
async fn until_position(visitor: &mut Ws, position: u64) -> Value {
    loop {
        let frame = visitor.next_of_type("queue").await;
        if frame["position"] == position {
            return frame;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_waiting_visitors_move_up_as_the_first_is_served() {
    let relay = start().await;
    let (mut first, first_chat) = queued_visitor(&relay, "a-1").await;
    let frame = until_position(&mut first, 1).await;
    assert_eq!(frame["conversation_id"], first_chat);
    assert_eq!(frame["wait"], "5", "no data yet: the profile's default");
    let (mut second, second_chat) = queued_visitor(&relay, "b-1").await;
    let (mut third, _) = queued_visitor(&relay, "c-1").await;
    until_position(&mut second, 2).await;
    until_position(&mut third, 3).await;

    // Canned text gets the same figures from the relay.
    let cookie = relay.agent_cookie("bo@example.com", "Bo").await;
    let (status, _, body) = common::http(
        relay.addr,
        "GET",
        &format!("/api/conversations/{second_chat}/estimate"),
        &[("Cookie", &cookie)],
        "",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"conversation_id": second_chat, "position": 2, "wait": "5"})
    );

    let (mut agent, _) = relay.agent("ana@example.com", "Ana").await;
    agent
        .send(json!({"type": "join", "conversation_id": first_chat}))
        .await;
    agent.next_of_type("joined").await;
    let second_now = until_position(&mut second, 1).await;
    assert_eq!(
        second_now["wait"], "< 1",
        "the average of the last hour: the first chat waited under a minute"
    );
    assert_eq!(until_position(&mut third, 2).await["wait"], "< 1");
    relay.stop().await;
}

/// The visitor of `chat` coming back on a new socket: the first queue frame they get.
async fn comes_back(relay: &TestRelay, token: &str, chat: i64) -> Value {
    let mut visitor = relay.visitor().await;
    visitor.hello(Some(token), Some((chat, 0))).await;
    visitor.next_of_type("queue").await
}

/// A visitor coming back to a waiting chat hears their place at once, as the queue
/// stands: what was last shown while the queue has not moved, never what it was
/// before it moved.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_returning_visitor_hears_their_place_as_the_queue_stands() {
    let relay = start().await;
    let (mut first, first_chat) = queued_visitor(&relay, "a-1").await;
    until_position(&mut first, 1).await;
    let mut second = relay.visitor().await;
    let welcome = second.hello(None, None).await;
    let token = welcome["token"].as_str().unwrap().to_owned();
    let second_chat = second.say("b-1", "Hello").await["conversation_id"]
        .as_i64()
        .unwrap();
    until_position(&mut second, 2).await;
    drop(second);

    let frame = comes_back(&relay, &token, second_chat).await;
    assert_eq!(frame["position"], 2, "{frame}");

    let (mut agent, _) = relay.agent("ana@example.com", "Ana").await;
    agent
        .send(json!({"type": "join", "conversation_id": first_chat}))
        .await;
    agent.next_of_type("joined").await;
    let frame = comes_back(&relay, &token, second_chat).await;
    assert_eq!(frame["position"], 1, "the first chat was served: {frame}");
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_times_survive_a_restart() {
    let relay = start().await;
    let (_visitor, chat) = queued_visitor(&relay, "a-1").await;
    let (mut agent, _) = relay.agent("ana@example.com", "Ana").await;
    agent
        .send(json!({"type": "join", "conversation_id": chat}))
        .await;
    agent.next_of_type("joined").await;
    drop(agent);
    let dir = relay.stop().await;

    let relay = common::start_in(dir).await;
    let (mut visitor, _) = queued_visitor(&relay, "b-1").await;
    assert_eq!(
        until_position(&mut visitor, 1).await["wait"],
        "< 1",
        "the rolling window was rebuilt from SQLite"
    );
    relay.stop().await;
}
