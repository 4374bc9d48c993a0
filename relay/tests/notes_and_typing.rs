//! Around the messages: private notes (agents only, stored once) and typing pulses
//! (both ways, throttled, never stored).

mod common;

use common::{Ws, start};
use serde_json::{Value, json};

/// Every frame up to and including the message `body`.
async fn frames_until_message(ws: &mut Ws, body: &str) -> Vec<Value> {
    let mut seen = Vec::new();
    loop {
        let frame = ws.next_json().await;
        let done = frame["type"] == "message" && frame["body"] == body;
        seen.push(frame);
        if done {
            return seen;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_note_reaches_agents_only_and_never_the_visitor() {
    let relay = start().await;
    let mut visitor = relay.visitor().await;
    let welcome = visitor.hello(None, None).await;
    let token = welcome["token"].as_str().unwrap().to_owned();
    let chat = visitor.say("v-1", "Where is my parcel?").await["conversation_id"]
        .as_i64()
        .unwrap();
    let (mut ana, _) = relay.agent(&relay.admin().email, "Admin").await;
    ana.send(json!({"type": "join", "conversation_id": chat}))
        .await;
    ana.next_of_type("joined").await;
    let (mut bo, _) = relay.agent("bo@example.com", "Bo").await;
    bo.send(json!({"type": "open", "conversation_id": chat, "last_seq": 0}))
        .await;
    bo.next_message("Where is my parcel?").await;

    let secret = "Customer is on the VIP list; refund without asking";
    ana.send(
        json!({"type": "note", "conversation_id": chat, "client_msg_id": "n-1", "body": secret}),
    )
    .await;
    let mine = ana.next_of_type("note").await;
    assert_eq!(
        (
            &mine["body"],
            &mine["client_msg_id"],
            &mine["author"]["name"]
        ),
        (&json!(secret), &json!("n-1"), &json!("Admin"))
    );
    assert!(mine["id"].as_i64().unwrap() > 0 && mine["at"].as_i64().unwrap() > 0);
    let theirs = bo.next_of_type("note").await;
    assert_eq!(theirs, mine, "a colleague following the chat sees the note");

    // Bo, who does not hold the chat, may add a note too; a resend is stored once.
    bo.send(json!({"type": "note", "conversation_id": chat, "client_msg_id": "n-2", "body": "Checked the courier: delayed"}))
        .await;
    let bos = bo.next_of_type("note").await;
    assert_eq!(ana.next_of_type("note").await, bos);
    bo.send(json!({"type": "note", "conversation_id": chat, "client_msg_id": "n-2", "body": "Checked the courier: delayed"}))
        .await;
    assert_eq!(bo.next_of_type("note").await["id"], bos["id"]);

    ana.send(json!({"type": "send", "conversation_id": chat, "client_msg_id": "a-1", "body": "It ships tomorrow."}))
        .await;
    let heard = frames_until_message(&mut visitor, "It ships tomorrow.").await;
    let heard = serde_json::to_string(&heard).unwrap();
    assert!(
        !heard.contains("VIP") && !heard.contains("courier"),
        "{heard}"
    );
    assert!(!heard.contains("\"note\""), "{heard}");
    // The resend reached no one: the next thing Ana hears is the message's ack.
    assert_eq!(ana.next_json().await["type"], "ack");

    // Nor is a note in the history a returning visitor gets.
    let mut again = relay.visitor().await;
    again.hello(Some(&token), Some((chat, 0))).await;
    let history = frames_until_message(&mut again, "It ships tomorrow.").await;
    let history = serde_json::to_string(&history).unwrap();
    assert!(!history.contains("VIP") && !history.contains("courier"));

    // A console opening the chat later gets the messages, then both notes in order.
    let (mut cy, _) = relay.agent("cy@example.com", "Cy").await;
    cy.send(json!({"type": "open", "conversation_id": chat, "last_seq": 0}))
        .await;
    cy.next_message("It ships tomorrow.").await;
    let first = cy.next_of_type("note").await;
    let second = cy.next_of_type("note").await;
    assert_eq!((first, second), (mine, bos));

    // Bad notes get clear errors; a visitor cannot send one at all.
    for (frame, code) in [
        (
            json!({"type": "note", "conversation_id": chat, "client_msg_id": "n-3", "body": "  "}),
            "empty_message",
        ),
        (
            json!({"type": "note", "conversation_id": 999, "client_msg_id": "n-4", "body": "x"}),
            "not_found",
        ),
    ] {
        cy.send(frame).await;
        assert_eq!(cy.next_of_type("error").await["code"], code);
    }
    visitor
        .send(json!({"type": "note", "client_msg_id": "v-9", "body": "hi"}))
        .await;
    assert_eq!(visitor.next_of_type("error").await["code"], "unknown_type");
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_shows_on_the_other_side_throttled_and_never_stored() {
    let relay = start().await;
    let mut visitor = relay.visitor().await;
    visitor.hello(None, None).await;
    let chat = visitor.say("v-1", "Hello?").await["conversation_id"]
        .as_i64()
        .unwrap();
    let (mut ana, _) = relay.agent(&relay.admin().email, "Admin").await;
    ana.send(json!({"type": "join", "conversation_id": chat}))
        .await;
    ana.next_of_type("joined").await;
    visitor.next_status("active").await;

    // Three pulses at once pass as one; the relay drops the others.
    for _ in 0..3 {
        visitor.send(json!({"type": "typing"})).await;
    }
    visitor.say("v-2", "Are you there").await;
    let heard = frames_until_message(&mut ana, "Are you there").await;
    let pulses: Vec<&Value> = heard
        .iter()
        .filter(|frame| frame["type"] == "typing")
        .collect();
    assert_eq!(
        pulses,
        [&json!({"type": "typing", "conversation_id": chat})]
    );

    for _ in 0..3 {
        ana.send(json!({"type": "typing", "conversation_id": chat}))
            .await;
    }
    ana.send(
        json!({"type": "send", "conversation_id": chat, "client_msg_id": "a-1", "body": "Yes!"}),
    )
    .await;
    let heard = frames_until_message(&mut visitor, "Yes!").await;
    let pulses: Vec<&Value> = heard
        .iter()
        .filter(|frame| frame["type"] == "typing")
        .collect();
    assert_eq!(
        pulses,
        [&json!({"type": "typing", "conversation_id": chat})]
    );
    assert_eq!(heard.last().unwrap()["seq"], 4, "pulses took no seq");

    // Only the agent in the chat can show typing to its visitor.
    let (mut bo, _) = relay.agent("bo@example.com", "Bo").await;
    bo.send(json!({"type": "typing", "conversation_id": chat}))
        .await;
    assert_eq!(bo.next_of_type("error").await["code"], "not_joined");
    relay.stop().await;
}
