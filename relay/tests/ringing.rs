//! Ringing over real sockets: a waiting chat rings for every available agent of its
//! teams, stops for all when one joins, and rings for whoever becomes available.

mod common;

use common::{agent_in, start, waiting_chat};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_rings_for_its_team_and_stops_for_everyone_when_one_joins() {
    let relay = start().await;
    let (mut ana, welcome) = agent_in(&relay, "ana@example.com", "Ana", &["Support"]).await;
    assert_eq!(welcome["statuses"][0]["name"], "Available");
    assert_eq!(welcome["status_id"], welcome["statuses"][0]["id"]);
    let (mut bo, _) = agent_in(&relay, "bo@example.com", "Bo", &["Support"]).await;
    let (mut cy, _) = agent_in(&relay, "cy@example.com", "Cy", &["Sales"]).await;

    let (chat, _visitor) = waiting_chat(&relay, "help").await;
    for agent in [&mut ana, &mut bo] {
        let ring = agent.next_of_type("ring").await;
        assert_eq!(ring["conversation_id"], chat);
        assert_eq!(ring["teams"], json!(["Support"]));
    }
    ana.send(json!({"type": "join", "conversation_id": chat}))
        .await;
    ana.next_of_type("joined").await;
    assert_eq!(bo.next_of_type("ring_stop").await["conversation_id"], chat);

    // Cy (Sales) never rang: the next frame Cy gets is the chat list update, not a ring.
    cy.send(json!({"type": "set_status", "status_id": 1})).await;
    loop {
        let frame = cy.next_json().await;
        assert_ne!(
            frame["type"], "ring",
            "a Sales agent got a Support ring: {frame}"
        );
        if frame["type"] == "my_status" {
            break;
        }
    }
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_nobody_available_a_chat_waits_and_rings_for_the_first_who_becomes_available() {
    let relay = start().await;
    let (mut ana, welcome) = agent_in(&relay, "ana@example.com", "Ana", &["Support"]).await;
    let away = welcome["statuses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|status| status["name"] == "Away")
        .unwrap()["id"]
        .clone();
    let available = welcome["statuses"][0]["id"].clone();
    ana.send(json!({"type": "set_status", "status_id": away}))
        .await;
    assert_eq!(ana.next_of_type("my_status").await["status_id"], away);

    let (chat, _visitor) = waiting_chat(&relay, "anyone?").await;
    // Nobody rings: going available is what rings it.
    ana.send(json!({"type": "set_status", "status_id": available}))
        .await;
    loop {
        let frame = ana.next_json().await;
        assert_ne!(frame["type"], "ring", "rang while away: {frame}");
        if frame["type"] == "my_status" {
            break;
        }
    }
    assert_eq!(ana.next_of_type("ring").await["conversation_id"], chat);

    // An agent who logs in later rings for the waiting chat at once.
    let (mut bo, _) = agent_in(&relay, "bo@example.com", "Bo", &["Support"]).await;
    assert_eq!(bo.next_of_type("ring").await["conversation_id"], chat);
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_with_no_room_gets_no_rings_and_cannot_join() {
    let relay = start().await;
    let (mut ana, _) = agent_in(&relay, "ana@example.com", "Ana", &["Support"]).await;
    let ana_id = relay
        .state
        .store
        .agent_by_email("ana@example.com")
        .await
        .unwrap()
        .unwrap()
        .id;
    relay
        .state
        .store
        .set_agent_capacity(ana_id, Some(1))
        .await
        .unwrap();
    let (first, _first_visitor) = waiting_chat(&relay, "first").await;
    assert_eq!(ana.next_of_type("ring").await["conversation_id"], first);
    ana.send(json!({"type": "join", "conversation_id": first}))
        .await;
    ana.next_of_type("joined").await;
    assert_eq!(
        ana.next_of_type("ring_stop").await["conversation_id"],
        first
    );

    let (second, _second_visitor) = waiting_chat(&relay, "second").await;
    ana.send(json!({"type": "join", "conversation_id": second}))
        .await;
    loop {
        let frame = ana.next_json().await;
        assert_ne!(frame["type"], "ring", "rang at capacity: {frame}");
        if frame["type"] == "error" {
            assert_eq!(frame["code"], "at_capacity");
            break;
        }
    }

    // Ending the first chat frees room: the second rings.
    ana.send(json!({"type": "end_chat", "conversation_id": first}))
        .await;
    assert_eq!(ana.next_of_type("ring").await["conversation_id"], second);
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transfer_rings_again_for_the_new_team_or_agent_and_tells_both_sides() {
    let relay = start().await;
    let (mut ana, welcome) = agent_in(&relay, "ana@example.com", "Ana", &["Support"]).await;
    let (mut bo, _) = agent_in(&relay, "bo@example.com", "Bo", &["Support"]).await;
    let (mut cy, _) = agent_in(&relay, "cy@example.com", "Cy", &["Sales"]).await;
    assert!(
        welcome["teams"]
            .as_array()
            .unwrap()
            .contains(&json!("Support"))
    );

    let mut visitor = relay.visitor().await;
    visitor.hello(None, None).await;
    let chat = visitor.say("v-1", "I want to buy").await["conversation_id"]
        .as_i64()
        .unwrap();
    ana.next_of_type("ring").await;
    ana.send(json!({"type": "join", "conversation_id": chat}))
        .await;
    ana.next_of_type("joined").await;
    bo.next_of_type("ring_stop").await;

    ana.send(json!({"type": "transfer", "conversation_id": chat, "to_team": "Sales"}))
        .await;
    visitor
        .next_message("Ana transferred the chat to Sales")
        .await;
    visitor.next_status("queued").await;
    let ring = cy.next_of_type("ring").await;
    assert_eq!(
        (ring["conversation_id"].as_i64(), &ring["teams"]),
        (Some(chat), &json!(["Sales"]))
    );
    ana.next_message("Ana transferred the chat to Sales").await;

    cy.send(json!({"type": "join", "conversation_id": chat}))
        .await;
    cy.next_of_type("joined").await;
    // Only the holder may transfer.
    ana.send(json!({"type": "transfer", "conversation_id": chat, "to_team": "Support"}))
        .await;
    assert_eq!(ana.next_of_type("error").await["code"], "not_joined");

    let bo_id = relay
        .state
        .store
        .agent_by_email("bo@example.com")
        .await
        .unwrap()
        .unwrap()
        .id;
    cy.send(json!({"type": "transfer", "conversation_id": chat, "to_agent": bo_id}))
        .await;
    let ring = bo.next_of_type("ring").await;
    assert_eq!(ring["conversation_id"], chat);
    visitor.next_message("Cy transferred the chat to Bo").await;
    // Ana (same team, but not the one asked for) does not ring.
    bo.send(json!({"type": "join", "conversation_id": chat}))
        .await;
    bo.next_of_type("joined").await;
    loop {
        let frame = ana.next_json().await;
        assert_ne!(
            frame["type"], "ring",
            "Ana rang for a chat sent to Bo: {frame}"
        );
        if frame["type"] == "message" && frame["body"] == "Bo joined the chat" {
            break;
        }
    }
    relay.stop().await;
}
