//! A relay serving from PostgreSQL (`postgres = URL`): a visitor's chat rings, an agent
//! joins, both talk over their sockets, and after a restart on the same database the
//! visitor resumes with nothing lost.

mod common;

use common::postgres::TestPostgres;
use common::{agent_in, start_configured};
use porchlight_relay::store::Durability;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_on_postgresql_serves_a_whole_chat_and_keeps_it_across_a_restart() {
    let server = TestPostgres::start();
    let url = server.schema().await;
    let on_postgres = |url: String| {
        move |config: &mut porchlight_relay::config::Config| {
            config.postgres = Some(url);
            config.durability = Durability::Normal;
        }
    };
    let relay = start_configured(tempfile::tempdir().unwrap(), on_postgres(url.clone())).await;
    assert_eq!(
        relay.admin().email,
        porchlight_relay::server::DEMO_ADMIN_EMAIL,
        "seeded"
    );
    let (mut ana, _) = agent_in(&relay, "ana@example.com", "Ana", &["Support"]).await;
    let mut visitor = relay.visitor().await;
    let token = visitor.hello(None, None).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let chat = visitor.say("v-1", "Do you ship to Lisbon?").await["conversation_id"]
        .as_i64()
        .unwrap();
    assert_eq!(ana.next_of_type("ring").await["conversation_id"], chat);
    ana.send(json!({"type": "join", "conversation_id": chat}))
        .await;
    ana.next_of_type("joined").await;
    ana.send(json!({
        "type": "send", "conversation_id": chat, "client_msg_id": "a-1",
        "body": "We do, in three days."
    }))
    .await;
    let answer = visitor.next_message("We do, in three days.").await;
    let seq = answer["seq"].as_u64().unwrap();
    visitor.say("v-2", "Great, thanks").await;
    ana.next_message("Great, thanks").await;
    let stored = relay
        .state
        .store
        .messages_after(chat, 0, 100)
        .await
        .unwrap();
    let seqs: Vec<u64> = stored.iter().map(|message| message.seq).collect();
    assert_eq!(seqs, (1..=stored.len() as u64).collect::<Vec<_>>());
    let dir = relay.stop().await;

    // Another relay on the same database (the data folder only holds files).
    let again = start_configured(dir, on_postgres(url)).await;
    let sites = again.state.store.sites().await.unwrap();
    assert_eq!(sites.len(), 1, "seeded once");
    let mut back = again.visitor().await;
    drop(visitor);
    let welcome = back.hello(Some(&token), Some((chat, seq))).await;
    let resumed = &welcome["conversation"];
    assert_eq!(resumed["id"], chat, "{welcome}");
    assert_eq!(
        (resumed["status"].as_str(), resumed["agent_name"].as_str()),
        (Some("active"), Some("Ana"))
    );
    back.next_message("Great, thanks").await;
    again.stop().await;
}
