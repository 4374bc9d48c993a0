//! Chats and their messages on the PostgreSQL store: the same behaviour as SQLite's
//! (one check run on both), and the guarantees several nodes need, each tried with two
//! or three nodes (stores) on one database: one open conversation per visitor, seqs
//! without gaps or doubles however many nodes append, a resend answered with the
//! original, exactly one winner of a join, and an agent's capacity held across nodes.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use common::postgres::{TestPostgres, bot_turn, demo_people, on_both_stores, seed, store_with};
use porchlight_protocol::{AgentInfo, Author, ConversationId, ConversationStatus};
use porchlight_relay::store::ratings::RatingStore;
use porchlight_relay::store::visitors::VisitorStore;
use porchlight_relay::store::{
    ChatRules, ConversationStore, FlowTurn, JoinOutcome, MessageStore, NewConversation, NewMessage,
    PgStore, SiteStore, StoreError, TransferTarget, TurnOutcome,
};

/// The seed's admin: the first agent.
fn admin() -> AgentInfo {
    AgentInfo {
        id: 1,
        name: "A".into(),
    }
}

fn new_chat(site: i64, visitor: i64) -> NewConversation {
    NewConversation {
        site_id: site,
        visitor_id: visitor,
        profile_id: None,
        page_url: Some("https://example.com/pricing".into()),
        referrer: None,
        user_agent: None,
        ticket_id: None,
    }
}

fn visitor_says(chat: ConversationId, id: &str, body: &str) -> NewMessage {
    NewMessage::text(
        chat,
        Some(id.into()),
        Author::Visitor,
        None,
        None,
        body.into(),
    )
}

fn agent_says(chat: ConversationId, agent: &AgentInfo, body: &str) -> NewMessage {
    NewMessage::text(
        chat,
        None,
        Author::Agent,
        Some(agent.id),
        Some(agent.name.clone()),
        body.into(),
    )
}

/// The bot's opening turn, handing the chat to the queue when `queue`.
fn turn(expected_state: Option<String>, queue: bool) -> FlowTurn {
    FlowTurn {
        expected_state,
        bot_name: "Porchlight".into(),
        bot_messages: vec!["Hi! What can we help with?".into()],
        flow_state: if queue { "queued" } else { "asked" }.into(),
        current_step: Some("start".into()),
        queue,
        ..bot_turn()
    }
}

/// A chat from start to rating, as the relay drives it; the same on either store.
async fn a_chat_from_start_to_rating(
    store: &(impl SiteStore + VisitorStore + ConversationStore + MessageStore + RatingStore),
) {
    assert!(store.seed_if_empty(seed()).await.unwrap());
    let site = store.site_by_key("demo").await.unwrap().unwrap().id;
    let visitor = store.create_visitor(site, "browser".into()).await.unwrap();
    let (chat, started) = store
        .open_or_start_conversation(new_chat(site, visitor.id), ConversationStatus::Bot)
        .await
        .unwrap();
    assert!(started);
    assert_eq!(chat.status, ConversationStatus::Bot);
    let (again, started) = store
        .open_or_start_conversation(new_chat(site, visitor.id), ConversationStatus::Bot)
        .await
        .unwrap();
    assert!(!started, "the open chat is resumed");
    assert_eq!(again.id, chat.id);
    the_bots_turns(store, chat.id).await;
    messages_joins_and_transfers(store, chat.id).await;
    the_end_and_the_rating(store, chat.id).await;

    // A new chat for the same visitor, now the old one has ended.
    let (next, started) = store
        .open_or_start_conversation(new_chat(site, visitor.id), ConversationStatus::Queued)
        .await
        .unwrap();
    assert!(started);
    assert_ne!(next.id, chat.id);
    assert_eq!(
        store
            .latest_conversation(visitor.id)
            .await
            .unwrap()
            .unwrap()
            .id,
        next.id
    );
    assert!(matches!(
        store.set_visitor_uploads(chat.id, Some(true)).await,
        Err(StoreError::ConversationEnded)
    ));
    let allowed = store
        .set_visitor_uploads(next.id, Some(true))
        .await
        .unwrap();
    assert_eq!(allowed.visitor_uploads, Some(true));
}

async fn the_bots_turns(store: &impl ConversationStore, id: ConversationId) {
    // The bot's turns: one from a state another turn has moved on writes nothing.
    let TurnOutcome::Applied {
        conversation,
        messages,
    } = store.flow_turn(id, turn(None, false)).await.unwrap()
    else {
        panic!("the first turn applies");
    };
    assert_eq!(conversation.flow_state.as_deref(), Some("asked"));
    assert_eq!(messages[0].seq, 1);
    assert_eq!(
        store.flow_turn(id, turn(None, true)).await.unwrap(),
        TurnOutcome::Conflict
    );
    let TurnOutcome::Applied { conversation, .. } = store
        .flow_turn(id, turn(Some("asked".into()), true))
        .await
        .unwrap()
    else {
        panic!("the turn from the current state applies");
    };
    assert_eq!(conversation.status, ConversationStatus::Queued);
    assert_eq!(store.waiting_conversations().await.unwrap()[0].id, id);
}

async fn messages_joins_and_transfers(
    store: &(impl ConversationStore + MessageStore),
    id: ConversationId,
) {
    // Messages: a resend is the original; an agent speaks only once joined.
    let first = store
        .append_message(visitor_says(id, "m1", "Do you ship to Lisbon?"))
        .await
        .unwrap();
    assert!(!first.duplicate);
    let resent = store
        .append_message(visitor_says(id, "m1", "Do you ship to Lisbon?"))
        .await
        .unwrap();
    assert!(resent.duplicate);
    assert_eq!(resent.message, first.message);
    assert!(matches!(
        store
            .append_message(agent_says(id, &admin(), "Hello"))
            .await,
        Err(StoreError::NotJoined)
    ));
    let rules = ChatRules::default();
    let JoinOutcome::Joined(joined) = store.join(id, admin(), rules).await.unwrap() else {
        panic!("the chat was waiting");
    };
    let (conversation, event) = *joined;
    assert_eq!(conversation.status, ConversationStatus::Active);
    assert_eq!(conversation.agent, Some(admin()));
    assert!(conversation.queue_ms.is_some());
    assert_eq!(event.author, Author::System);
    assert_eq!(
        store.join(id, admin(), rules).await.unwrap(),
        JoinOutcome::Taken
    );
    store
        .append_message(agent_says(id, &admin(), "We do, in 3 days."))
        .await
        .unwrap();

    // Transferred back to the queue, joined again, ended by the agent.
    let (conversation, _) = store
        .transfer(id, admin(), false, TransferTarget::Team("Support".into()))
        .await
        .unwrap();
    assert_eq!(conversation.status, ConversationStatus::Queued);
    assert_eq!(conversation.teams, ["Support"]);
    assert!(matches!(
        store.join(id, admin(), rules).await.unwrap(),
        JoinOutcome::Joined(_)
    ));
    assert_eq!(store.open_conversations().await.unwrap()[0].id, id);
}

async fn the_end_and_the_rating(
    store: &(impl ConversationStore + MessageStore + RatingStore),
    id: ConversationId,
) {
    assert!(matches!(
        store.rate(id, 5, None).await,
        Err(StoreError::Conflict)
    ));
    let (ended, _) = store
        .end(id, Author::Agent, Some("A".into()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ended.status, ConversationStatus::Ended);
    assert!(
        store
            .end(id, Author::Visitor, None)
            .await
            .unwrap()
            .is_none()
    );
    assert!(matches!(
        store.append_message(visitor_says(id, "m2", "Thanks")).await,
        Err(StoreError::ConversationEnded)
    ));
    assert!(
        store
            .append_message(visitor_says(id, "m1", "Do you ship to Lisbon?"))
            .await
            .unwrap()
            .duplicate,
        "an outbox resent after the end is answered with the original"
    );
    let rated = store.rate(id, 4, Some("Quick".into())).await.unwrap();
    assert_eq!(rated.rating, Some(4));
    assert_eq!(rated.rating_comment.as_deref(), Some("Quick"));

    // Every message once, seqs 1..n, and the lists agree.
    let all = store.messages_after(id, 0, 100).await.unwrap();
    let seqs: Vec<u64> = all.iter().map(|message| message.seq).collect();
    assert_eq!(seqs, (1..=all.len() as u64).collect::<Vec<_>>());
    assert_eq!(all.len(), 8, "{all:#?}");
    assert_eq!(store.messages_after(id, 6, 1).await.unwrap()[0].seq, 7);
    assert!(store.open_conversations().await.unwrap().is_empty());
    assert_eq!(store.recent_ended(5).await.unwrap()[0].id, id);
    let latest = store.conversation(id).await.unwrap().unwrap();
    assert_eq!(latest.last_seq, 8);
    assert_eq!(
        store.last_seqs(vec![id, id + 1000]).await.unwrap(),
        [(id, 8)],
        "a chat that does not exist is left out"
    );
}

#[tokio::test]
async fn a_chat_from_start_to_rating_behaves_alike_on_both_stores() {
    on_both_stores!(a_chat_from_start_to_rating);
}

/// A waiting chat for each visitor `1..=count`, through `store`.
async fn waiting_chats(store: &PgStore, count: i64) -> Vec<ConversationId> {
    let mut chats = Vec::new();
    for visitor in 1..=count {
        let (chat, _) = store
            .open_or_start_conversation(new_chat(1, visitor), ConversationStatus::Queued)
            .await
            .unwrap();
        chats.push(chat.id);
    }
    chats
}

fn agent(id: i64, name: &str) -> AgentInfo {
    AgentInfo {
        id,
        name: name.into(),
    }
}

#[tokio::test]
async fn a_visitor_opening_on_two_nodes_at_once_gets_one_conversation() {
    let server = TestPostgres::start();
    let (a, url) = store_with(&server, &demo_people(20)).await;
    let b = PgStore::connect(&url).await.unwrap();
    for visitor in 1..=20 {
        let (on_a, on_b) = tokio::join!(
            a.open_or_start_conversation(new_chat(1, visitor), ConversationStatus::Queued),
            b.open_or_start_conversation(new_chat(1, visitor), ConversationStatus::Queued),
        );
        let ((on_a, started_a), (on_b, started_b)) = (on_a.unwrap(), on_b.unwrap());
        assert_eq!(on_a.id, on_b.id, "visitor {visitor}");
        assert!(started_a != started_b, "exactly one node started it");
    }
}

#[tokio::test]
async fn three_nodes_appending_to_one_chat_leave_seqs_without_gaps_or_doubles() {
    let server = TestPostgres::start();
    let (a, url) = store_with(&server, &demo_people(1)).await;
    let nodes = Arc::new([
        a,
        PgStore::connect(&url).await.unwrap(),
        PgStore::connect(&url).await.unwrap(),
    ]);
    let chat = waiting_chats(&nodes[0], 1).await[0];
    // Each message is sent through one node and resent through the next, at once.
    let mut sending = Vec::new();
    for node in 0..3 {
        let nodes = Arc::clone(&nodes);
        sending.push(tokio::spawn(async move {
            for n in 0..40 {
                let id = format!("n{node}-{n}");
                let message = visitor_says(chat, &id, &id);
                let (sent, resent) = tokio::join!(
                    nodes[node].append_message(message.clone()),
                    nodes[(node + 1) % 3].append_message(message),
                );
                let (sent, resent) = (sent.unwrap(), resent.unwrap());
                assert_eq!(sent.message, resent.message, "{id}");
                assert!(sent.duplicate != resent.duplicate, "{id} stored once");
            }
        }));
    }
    for sender in sending {
        sender.await.unwrap();
    }
    let stored = nodes[2].messages_after(chat, 0, 1000).await.unwrap();
    let seqs: Vec<u64> = stored.iter().map(|message| message.seq).collect();
    assert_eq!(seqs, (1..=120).collect::<Vec<_>>());
    let ids: BTreeSet<_> = stored.iter().map(|m| m.client_msg_id.clone()).collect();
    assert_eq!(ids.len(), 120, "each message exactly once");
    let chat = nodes[1].conversation(chat).await.unwrap().unwrap();
    assert_eq!(chat.last_seq, 120);
}

#[tokio::test]
async fn of_two_agents_joining_at_once_on_two_nodes_exactly_one_wins() {
    let server = TestPostgres::start();
    let (a, url) = store_with(&server, &demo_people(50)).await;
    let b = PgStore::connect(&url).await.unwrap();
    let rules = ChatRules::default();
    for chat in waiting_chats(&a, 50).await {
        let (ana, ben) = tokio::join!(
            a.join(chat, agent(1, "Ana"), rules),
            b.join(chat, agent(2, "Ben"), rules),
        );
        let outcomes = [ana.unwrap(), ben.unwrap()];
        let joined = outcomes
            .iter()
            .filter(|outcome| matches!(outcome, JoinOutcome::Joined(_)))
            .count();
        assert_eq!(joined, 1, "chat {chat}: {outcomes:?}");
        assert!(outcomes.contains(&JoinOutcome::Taken), "{outcomes:?}");
        let events = b.messages_after(chat, 0, 10).await.unwrap();
        assert_eq!(events.len(), 1, "one joined event");
    }
}

#[tokio::test]
async fn an_agents_capacity_and_the_one_chat_rule_hold_across_nodes() {
    let server = TestPostgres::start();
    let (a, url) = store_with(&server, &demo_people(100)).await;
    let b = PgStore::connect(&url).await.unwrap();
    let chats = waiting_chats(&a, 100).await;
    let ana = agent(1, "Ana");
    let capacity = ChatRules::default();
    let one_chat = ChatRules {
        one_chat_per_agent: true,
        ..ChatRules::default()
    };
    let client = common::postgres::connected(&url).await;
    for (trial, pair) in chats.chunks(2).enumerate() {
        // Half the trials under Ana's own limit of one, half under the one-chat rule
        // with no limit of her own.
        let (rules, max_chats) = if trial % 2 == 0 {
            (capacity, "1")
        } else {
            (one_chat, "NULL")
        };
        client
            .batch_execute(&format!(
                "UPDATE agents SET max_chats = {max_chats} WHERE id = 1"
            ))
            .await
            .unwrap();
        let (first, second) = tokio::join!(
            a.join(pair[0], ana.clone(), rules),
            b.join(pair[1], ana.clone(), rules),
        );
        let outcomes = [first.unwrap(), second.unwrap()];
        let joined = outcomes
            .iter()
            .filter(|outcome| matches!(outcome, JoinOutcome::Joined(_)))
            .count();
        assert_eq!(joined, 1, "trial {trial}: {outcomes:?}");
        assert!(outcomes.contains(&JoinOutcome::AtCapacity), "{outcomes:?}");
        // Ana finishes the chat she won, so the next trial starts from none.
        for chat in pair {
            a.end(*chat, Author::Agent, Some("Ana".into()))
                .await
                .unwrap();
        }
    }
}

/// How many of the outcomes are `Some`.
fn fired<T, E: std::fmt::Debug>(outcomes: [Result<Option<T>, E>; 3]) -> usize {
    outcomes
        .into_iter()
        .filter(|outcome| outcome.as_ref().unwrap().is_some())
        .count()
}

#[tokio::test]
async fn timers_firing_on_three_nodes_at_once_post_each_message_once() {
    use porchlight_relay::store::WaitingStore;

    let server = TestPostgres::start();
    let (a, url) = store_with(&server, &demo_people(20)).await;
    let [b, c] = [
        PgStore::connect(&url).await.unwrap(),
        PgStore::connect(&url).await.unwrap(),
    ];
    let bot = || "Porchlight".to_owned();
    for chat in waiting_chats(&a, 20).await {
        let wait = |store: &'static str| format!("Thanks for waiting ({store})");
        let posted = tokio::join!(
            a.post_wait_message(chat, bot(), wait("a"), 0),
            b.post_wait_message(chat, bot(), wait("b"), 0),
            c.post_wait_message(chat, bot(), wait("c"), 0),
        );
        assert_eq!(fired(posted.into()), 1, "one wait message");
        let asked = tokio::join!(
            a.ask_still_there(chat, bot(), "Still there?".into()),
            b.ask_still_there(chat, bot(), "Still there?".into()),
            c.ask_still_there(chat, bot(), "Still there?".into()),
        );
        assert_eq!(fired(asked.into()), 1, "asked once");
        let abandoned = tokio::join!(
            a.abandon(chat, true, Default::default()),
            b.abandon(chat, true, Default::default()),
            c.abandon(chat, true, Default::default()),
        );
        assert_eq!(fired(abandoned.into()), 1, "abandoned once");
        let said: Vec<u64> = c
            .messages_after(chat, 0, 10)
            .await
            .unwrap()
            .iter()
            .map(|message| message.seq)
            .collect();
        assert_eq!(said, [1, 2, 3], "wait, still there?, nobody answered");
    }
}
