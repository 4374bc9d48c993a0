//! Abandoned chats end by themselves, and the timers resume from the store after a
//! restart: the test moves the chat's times back while the relay is stopped, and the
//! restarted relay does what is overdue.

mod common;

use common::{TestRelay, Ws, age_waiting_in, start, start_in};
use porchlight_protocol::ConversationStatus;
use porchlight_relay::chat::timers::RelayWaiter;
use porchlight_relay::chat::timers::due::{Due, Waiter};
use porchlight_relay::flow::Profile;
use porchlight_relay::store::AbandonRules;
use porchlight_relay::store::ChatRules;
use serde_json::json;

/// A console following the chat, its history first (the timers may have fired before
/// it connected).
async fn watch(relay: &TestRelay, chat: i64) -> Ws {
    let (mut console, _) = relay.agent("ana@example.com", "Ana").await;
    console
        .send(json!({"type": "open", "conversation_id": chat, "last_seq": 0}))
        .await;
    console
}

/// A visitor waiting in a new chat, and the chat.
async fn waiting_visitor(relay: &TestRelay) -> (Ws, i64) {
    let mut visitor = relay.visitor().await;
    visitor.hello(None, None).await;
    let chat = visitor.say("v-1", "Hello").await["conversation_id"]
        .as_i64()
        .unwrap();
    (visitor, chat)
}

/// The default profile with `messages` posted every two minutes of waiting (over again
/// when `repeat`), in use.
async fn use_wait_messages(relay: &TestRelay, messages: &[&str], repeat: bool) -> Profile {
    let mut profile = porchlight_relay::profiles::default_profile();
    profile.waiting.messages = messages.iter().map(|&message| message.to_owned()).collect();
    profile.waiting.message_interval_minutes = 2;
    profile.waiting.repeat_messages = repeat;
    relay.use_profile(&profile, true).await;
    profile
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_chat_is_asked_then_ended_as_abandoned_across_restarts() {
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
    age_waiting_in(dir.path(), 6).await;
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
    age_waiting_in(dir.path(), 11).await;
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
    let relay = start().await;
    let mut profile = use_wait_messages(
        &relay,
        &["Thanks for waiting: you're number $QUEUEPOSITION."],
        false,
    )
    .await;
    let (visitor, chat) = waiting_visitor(&relay).await;
    drop(visitor);
    let dir = relay.stop().await;

    age_waiting_in(dir.path(), 3).await;
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
    age_waiting_in(dir.path(), 30).await;
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
    use_wait_messages(&relay, &["First.", "Second."], true).await;
    let (mut visitor, chat) = waiting_visitor(&relay).await;
    relay.age_waiting(3).await;

    // Both nodes saw no message sent yet: the first is due on each (and on the
    // relay's own timers, which may fire first).
    let waiter = RelayWaiter {
        state: relay.state.clone(),
    };
    let first = Due::WaitMessage {
        index: 0,
        sent_before: 0,
    };
    assert!(waiter.fire(chat, first.clone()).await);
    assert!(
        waiter.fire(chat, first).await,
        "not a failure: nothing to do"
    );
    visitor.next_message("First.").await;
    let after = relay.state.store.conversation(chat).await.unwrap().unwrap();
    assert_eq!(after.wait_messages_sent, 1);
    assert_eq!(
        bodies(&relay, chat, &["First.", "Second."]).await,
        ["First."]
    );
    relay.stop().await;
}

/// A node that found "are you still there?" due just before the visitor answered it
/// on another node must neither ask again nor end the chat.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_answered_meanwhile_is_neither_asked_again_nor_ends_the_chat() {
    let relay = start().await;
    relay
        .state
        .store
        .set_abandon_rules(common::abandon_rules(5, 10))
        .await
        .unwrap();
    let (mut visitor, chat) = waiting_visitor(&relay).await;
    relay.age_waiting(6).await;
    let question = porchlight_relay::chat::timers::STILL_THERE_QUESTION;
    visitor.next_message(question).await;
    visitor
        .say("v-2", porchlight_relay::chat::timers::STILL_HERE)
        .await;

    let waiter = RelayWaiter {
        state: relay.state.clone(),
    };
    assert!(waiter.fire(chat, Due::AskStillThere).await);
    assert!(waiter.fire(chat, Due::Abandon).await);
    let after = relay.state.store.conversation(chat).await.unwrap().unwrap();
    assert_eq!(after.status, ConversationStatus::Queued, "still waiting");
    assert_eq!(after.still_there_asked_at, None, "not asked again");
    assert_eq!(bodies(&relay, chat, &[question]).await, [question]);
    relay.stop().await;
}

/// The chat's messages whose body is one of `wanted`, in order.
async fn bodies(relay: &TestRelay, chat: i64, wanted: &[&str]) -> Vec<String> {
    relay
        .state
        .store
        .messages_after(chat, 0, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|message| message.body)
        .filter(|body| wanted.contains(&body.as_str()))
        .collect()
}
