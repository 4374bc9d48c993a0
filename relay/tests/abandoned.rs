//! Abandoned chats end by themselves, and the timers resume from SQLite after a
//! restart: the test moves the chat's times back while the relay is stopped, and the
//! restarted relay does what is overdue.

mod common;

use common::{TestRelay, Ws, start, start_in};
use porchlight_relay::chat::timers::RelayWaiter;
use porchlight_relay::chat::timers::due::{Due, Waiter};
use porchlight_relay::store::AbandonRules;
use porchlight_relay::store::ChatRules;
use serde_json::json;

const MINUTE: i64 = 60_000;

/// Moves the chat's clock back by `minutes` (as if that much time had passed).
fn age(relay_dir: &std::path::Path, chat: i64, minutes: i64) {
    rusqlite::Connection::open(relay_dir.join("data/porchlight.sqlite3"))
        .unwrap()
        .execute(
            "UPDATE conversations SET queued_at = queued_at - ?1, \
             still_there_at = still_there_at - ?1, still_there_asked_at = still_there_asked_at - ?1 \
             WHERE id = ?2",
            [minutes * MINUTE, chat],
        )
        .unwrap();
}

/// A console following the chat, its history first (the timers may have fired before
/// it connected).
async fn watch(relay: &TestRelay, chat: i64) -> Ws {
    let (mut console, _) = relay.agent("ana@example.com", "Ana").await;
    console
        .send(json!({"type": "open", "conversation_id": chat, "last_seq": 0}))
        .await;
    console
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_chat_is_asked_then_ended_as_abandoned_across_restarts() {
    if common::sqlite_only("moves the chat's clock back with SQL on SQLite's file") {
        return;
    }
    let relay = start().await;
    let store = &relay.state.store;
    store
        .create_ticket_category(porchlight_protocol::api::tickets::TicketCategory {
            name: "Outcome".into(),
            values: vec!["Solved".into(), "No reply".into()],
        })
        .await
        .unwrap();
    store
        .set_abandon_rules(AbandonRules {
            enabled: true,
            ask_after_minutes: 5,
            end_after_minutes: 10,
            close_ticket: true,
            ticket_categories: [("Outcome".to_owned(), "No reply".to_owned())].into(),
        })
        .await
        .unwrap();
    store
        .set_chat_rules(ChatRules {
            through_tickets: true,
            ..ChatRules::default()
        })
        .await
        .unwrap();
    let mut visitor = relay.visitor().await;
    let token = visitor.hello(None, None).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let chat = visitor.say("v-1", "Hello?").await["conversation_id"]
        .as_i64()
        .unwrap();
    drop(visitor);
    let dir = relay.stop().await;

    // Six minutes later: the question comes, with its button, even after a restart.
    age(dir.path(), chat, 6);
    let relay = start_in(dir).await;
    let mut console = watch(&relay, chat).await;
    console
        .next_message(porchlight_relay::chat::timers::STILL_THERE_QUESTION)
        .await;
    let mut visitor = relay.visitor().await;
    let welcome = visitor.hello(Some(&token), None).await;
    assert_eq!(welcome["prompt"]["choices"], json!(["I'm still here"]));

    // The visitor answers: the button goes and the chat keeps its place.
    visitor.say("v-2", "I'm still here").await;
    let cleared = visitor.next_of_type("prompt").await;
    assert!(cleared.get("prompt").is_none(), "{cleared}");
    let kept = relay.state.store.conversation(chat).await.unwrap().unwrap();
    assert!(kept.still_there_at.is_some() && kept.still_there_asked_at.is_none());
    drop(visitor);
    drop(console);
    let dir = relay.stop().await;

    // Eleven minutes after that answer, with no agent: the chat ends as abandoned and
    // its ticket closes.
    age(dir.path(), chat, 11);
    let relay = start_in(dir).await;
    let mut console = watch(&relay, chat).await;
    console
        .next_message("The chat ended: nobody was there to answer")
        .await;
    let ended = relay.state.store.conversation(chat).await.unwrap().unwrap();
    assert_eq!(ended.status.as_str(), "ended");
    let tickets = relay.state.store.tickets(None, 10).await.unwrap();
    assert_eq!(tickets[0].status, "closed");
    let values = relay
        .state
        .store
        .ticket_category_values(tickets[0].id)
        .await
        .unwrap();
    assert_eq!(values.get("Outcome").map(String::as_str), Some("No reply"));
    let records = relay
        .state
        .store
        .chat_records(0, i64::MAX, None, 10)
        .await
        .unwrap();
    assert_eq!(records[0].ended_by.as_deref(), Some("abandoned"));
    assert!(porchlight_relay::reports::abandoned(&records[0]));
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_messages_are_posted_while_the_visitor_waits() {
    if common::sqlite_only("moves the chat's clock back with SQL on SQLite's file") {
        return;
    }
    let relay = start().await;
    let mut profile = porchlight_relay::profiles::default_profile();
    profile.waiting.messages = vec!["Thanks for waiting: you're number $QUEUEPOSITION.".into()];
    profile.waiting.message_interval_minutes = 2;
    profile.waiting.repeat_messages = false;
    relay.use_profile(&profile, true).await;
    let mut visitor = relay.visitor().await;
    visitor.hello(None, None).await;
    let chat = visitor.say("v-1", "Hello").await["conversation_id"]
        .as_i64()
        .unwrap();
    drop(visitor);
    let dir = relay.stop().await;

    age(dir.path(), chat, 3);
    let relay = start_in(dir).await;
    let mut console = watch(&relay, chat).await;
    console
        .next_message("Thanks for waiting: you're number 1.")
        .await;
    let after = relay.state.store.conversation(chat).await.unwrap().unwrap();
    assert_eq!(after.wait_messages_sent, 1, "one message; no loop");

    // Once an agent joins, no more wait messages (even when they would be due).
    profile.waiting.repeat_messages = true;
    relay.use_profile(&profile, true).await;
    console
        .send(json!({"type": "join", "conversation_id": chat}))
        .await;
    console.next_of_type("joined").await;
    drop(console);
    let dir = relay.stop().await;
    age(dir.path(), chat, 30);
    let relay = start_in(dir).await;
    let mut console = watch(&relay, chat).await;
    console.next_message("Ana joined the chat").await;
    // The agent's reply goes after anything the restart could have posted.
    console
        .send(
            json!({"type": "send", "conversation_id": chat, "client_msg_id": "a-1", "body": "Hi!"}),
        )
        .await;
    console.next_of_type("ack").await;
    let still = relay.state.store.conversation(chat).await.unwrap().unwrap();
    assert_eq!(
        still.wait_messages_sent, 1,
        "no wait messages once an agent joined"
    );
    relay.stop().await;
}

/// Two nodes can read a waiting chat at the same moment; the one that fires second
/// must not post the message the first has just posted (seen across nodes as the same
/// wait message twice).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wait_message_read_before_another_node_posted_it_is_not_posted_again() {
    let relay = start().await;
    let mut profile = porchlight_relay::profiles::default_profile();
    profile.waiting.messages = vec!["First.".into(), "Second.".into()];
    profile.waiting.message_interval_minutes = 2;
    relay.use_profile(&profile, true).await;
    let mut visitor = relay.visitor().await;
    visitor.hello(None, None).await;
    let chat = visitor.say("v-1", "Hello").await["conversation_id"]
        .as_i64()
        .unwrap();

    let waiter = RelayWaiter {
        state: relay.state.clone(),
    };
    // Both nodes saw no message sent yet: the first is due on each.
    let first = Due::WaitMessage {
        index: 0,
        sent_before: 0,
    };
    assert!(waiter.fire(chat, first.clone()).await);
    assert!(
        waiter.fire(chat, first).await,
        "not a failure: nothing to do"
    );
    let after = relay.state.store.conversation(chat).await.unwrap().unwrap();
    assert_eq!(after.wait_messages_sent, 1);
    let bodies: Vec<String> = relay
        .state
        .store
        .messages_after(chat, 0, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|message| message.body)
        .filter(|body| body == "First." || body == "Second.")
        .collect();
    assert_eq!(bodies, ["First."], "posted once");
    relay.stop().await;
}
