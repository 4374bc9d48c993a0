//! What one visitor or address can cost, tried as an attacker would: new chats from
//! one address past its share are refused in words and nothing is stored; the AI
//! agent's per-visitor and per-site caps are in `ai.rs`.

mod common;

use common::start_configured;
use porchlight_relay::throttle::Limits;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_opens_only_its_share_of_new_chats() {
    let relay = start_configured(tempfile::tempdir().unwrap(), |config| {
        config.limits = Limits {
            chats_per_address: 3,
            ..Limits::default()
        };
    })
    .await;
    let mut chats = Vec::new();
    for n in 0..3 {
        let mut visitor = relay.visitor().await;
        visitor.hello(None, None).await;
        let ack = visitor.say(&format!("v-{n}"), "Hello").await;
        chats.push((visitor, ack["conversation_id"].as_i64().unwrap()));
    }
    let open_before = relay.state.store.open_conversations().await.unwrap().len();
    let mut fourth = relay.visitor().await;
    fourth.hello(None, None).await;
    fourth
        .send(serde_json::json!({"type": "send", "client_msg_id": "v-4", "body": "Hello"}))
        .await;
    let refused = fourth.next_of_type("error").await;
    assert_eq!(refused["code"], "rate_limited");
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .starts_with("Many chats have started from your network; try again in "),
        "{refused}"
    );
    assert_eq!(
        relay.state.store.open_conversations().await.unwrap().len(),
        open_before,
        "no chat was opened"
    );
    // Chats already going are not held back.
    let (first, chat) = &mut chats[0];
    let ack = first.say("v-0b", "Still here").await;
    assert_eq!(ack["conversation_id"], *chat);
    relay.stop().await;
}
