//! A site's page can open the chat about one of its tickets (`data-ticket` and a
//! `data-ticket-token` its server signs); a forged or foreign link is refused.

mod common;

use common::{TestRelay, start};
use porchlight_relay::auth::ticket_link;
use serde_json::{Value, json};

/// A ticket on the demo site, made as the site's help desk would.
fn new_ticket(relay: &TestRelay, subject: &str) -> i64 {
    let conn =
        rusqlite::Connection::open(relay.state.config.data_dir.join("porchlight.sqlite3")).unwrap();
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .unwrap();
    conn.execute(
        "INSERT INTO tickets (site_id, subject, created_at) \
         VALUES ((SELECT id FROM sites WHERE key = 'demo'), ?1, 0)",
        [subject],
    )
    .unwrap();
    conn.last_insert_rowid()
}

async fn chat_with_link(relay: &TestRelay, link: Value) -> (Vec<Value>, i64) {
    let mut visitor = relay.visitor().await;
    visitor
        .send(json!({"type": "hello", "v": 1, "site": "demo", "ticket": link}))
        .await;
    let mut before_welcome = Vec::new();
    loop {
        let frame = visitor.next().await.unwrap();
        if frame["type"] == "welcome" {
            break;
        }
        before_welcome.push(frame);
    }
    let chat = visitor.say("v-1", "About my ticket").await["conversation_id"]
        .as_i64()
        .unwrap();
    (before_welcome, chat)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_link_puts_the_chat_on_the_ticket_and_a_forged_one_is_refused() {
    if common::sqlite_only("makes its ticket with SQL on SQLite's file") {
        return;
    }
    let relay = start().await;
    let secret = relay
        .state
        .store
        .site_by_key("demo")
        .await
        .unwrap()
        .unwrap()
        .secret;
    assert_eq!(secret.len(), 64, "every site has a random secret");
    let ticket = new_ticket(&relay, "Broken boiler");
    let other = new_ticket(&relay, "Someone else's");

    let signed = json!({"id": ticket, "token": ticket_link::token(&secret, ticket)});
    let (refusals, chat) = chat_with_link(&relay, signed).await;
    assert!(refusals.is_empty(), "{refusals:?}");
    let linked = relay.state.store.conversation(chat).await.unwrap().unwrap();
    assert_eq!(linked.ticket_id, Some(ticket));

    for forged in [
        json!({"id": other, "token": ticket_link::token(&secret, ticket)}),
        json!({"id": other, "token": ticket_link::token("guessed", other)}),
        json!({"id": other, "token": "00".repeat(32)}),
    ] {
        let (refusals, chat) = chat_with_link(&relay, forged).await;
        assert_eq!(refusals.len(), 1);
        assert_eq!(refusals[0]["code"], "ticket_refused");
        let unlinked = relay.state.store.conversation(chat).await.unwrap().unwrap();
        assert_eq!(
            unlinked.ticket_id, None,
            "nothing is attached to someone else's ticket"
        );
    }
    relay.stop().await;
}
