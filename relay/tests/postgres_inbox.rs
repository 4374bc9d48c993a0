//! Tickets, the REST API's lists and the console's chat search on the PostgreSQL
//! store: the same behaviour as SQLite's, each check run on both.

mod common;

use std::collections::BTreeMap;

use common::postgres::{bot_turn, on_both_stores, seed};
use porchlight_protocol::api::tickets::TicketCategory;
use porchlight_protocol::{Author, ConversationStatus};
use porchlight_relay::store::listing::{ConversationFilter, ListingStore, TicketFilter};
use porchlight_relay::store::search::{ChatSearch, SearchStore};
use porchlight_relay::store::visitors::VisitorStore;
use porchlight_relay::store::{
    ConversationStore, FlowTurn, MessageStore, NewConversation, NewMessage, SiteStore, StoreError,
    TicketStore,
};

fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect()
}

async fn tickets_and_lists(
    store: &(impl SiteStore + VisitorStore + ConversationStore + TicketStore + ListingStore),
) {
    assert!(store.seed_if_empty(seed()).await.unwrap());
    let site = store.site_by_key("demo").await.unwrap().unwrap().id;
    let reason = TicketCategory {
        name: "Reason".into(),
        values: vec!["Refund".into(), "Bug".into()],
    };
    store.create_ticket_category(reason.clone()).await.unwrap();
    assert!(matches!(
        store
            .create_ticket_category(TicketCategory {
                name: "reason".into(),
                ..reason.clone()
            })
            .await,
        Err(StoreError::Duplicate)
    ));
    assert_eq!(store.ticket_categories().await.unwrap(), [reason]);

    let id = store
        .create_ticket(
            site,
            "Broken checkout".into(),
            None,
            None,
            Some("sam@example.com".into()),
        )
        .await
        .unwrap();
    assert_eq!(store.ticket_site(id).await.unwrap(), Some(site));
    assert_eq!(
        store.ticket_requester_email(id).await.unwrap().as_deref(),
        Some("sam@example.com")
    );
    categories_on(store, id).await;

    // Notes: an agent's reply (emailed), a note from the site's server.
    let reply = store
        .reply_on_ticket(id, 1, "On it".into(), Some("sam@example.com".into()), None)
        .await
        .unwrap();
    assert_eq!(
        (reply.kind.as_str(), reply.author.as_deref()),
        ("reply", Some("A"))
    );
    assert!(matches!(
        store.reply_on_ticket(999, 1, "x".into(), None, None).await,
        Err(StoreError::NotFound)
    ));
    let note = store
        .add_ticket_note(id, "Paid by card".into(), "CRM".into())
        .await
        .unwrap();
    assert_eq!(note.author.as_deref(), Some("CRM"));
    store
        .set_ticket_subject(id, "Checkout fails".into())
        .await
        .unwrap();
    store.assign_ticket(id, Some(1)).await.unwrap();
    for missing in [
        store.set_ticket_subject(999, "x".into()).await,
        store.set_ticket_status(999, "closed").await,
        store.assign_ticket(999, None).await,
    ] {
        assert!(matches!(missing, Err(StoreError::NotFound)));
    }

    // A chat about the ticket: linked, and its transcript kept when it ends.
    let visitor = store.create_visitor(site, "browser".into()).await.unwrap();
    let (chat, _) = store
        .open_or_start_conversation(
            NewConversation {
                ticket_id: Some(id),
                ..NewConversation::of_visitor(site, visitor.id)
            },
            ConversationStatus::Queued,
        )
        .await
        .unwrap();
    store.end(chat.id, Author::Visitor, None).await.unwrap();
    let (notes, chats) = store.ticket_notes_and_chats(id).await.unwrap();
    let kinds: Vec<&str> = notes.iter().map(|note| note.kind.as_str()).collect();
    assert_eq!(kinds, ["reply", "note", "transcript"]);
    assert_eq!(chats[0].conversation_id, chat.id);
    let line = &store.tickets(Some(id), 10).await.unwrap()[0];
    assert_eq!(line.subject, "Checkout fails");
    assert_eq!(line.agent.as_ref().map(|agent| agent.id), Some(1));
    assert_eq!(line.team.as_deref(), None, "the admin has no default team");
    assert_eq!(
        line.chat.as_ref().map(|chat| chat.status),
        Some(ConversationStatus::Ended)
    );
    lists(store, site, id, chat.id).await;
}

async fn categories_on(store: &impl TicketStore, id: i64) {
    store
        .set_ticket_categories(id, values(&[("Reason", "Refund")]))
        .await
        .unwrap();
    assert!(matches!(
        store
            .set_ticket_categories(id, values(&[("Reason", "Praise")]))
            .await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        store.ticket_category_values(id).await.unwrap(),
        values(&[("Reason", "Refund")])
    );
}

async fn lists(store: &(impl TicketStore + ListingStore), site: i64, ticket: i64, chat: i64) {
    store.set_ticket_status(ticket, "closed").await.unwrap();
    let second = store
        .create_ticket(site, "Another".into(), Some("Support".into()), None, None)
        .await
        .unwrap();
    let all = TicketFilter {
        site_id: Some(site),
        limit: 10,
        ..TicketFilter::default()
    };
    let ids = |lines: Vec<porchlight_protocol::api::tickets::TicketLine>| -> Vec<i64> {
        lines.iter().map(|line| line.id).collect()
    };
    assert_eq!(
        ids(store.list_tickets(all.clone()).await.unwrap()),
        [second, ticket]
    );
    let closed = TicketFilter {
        status: Some("closed".into()),
        ..all.clone()
    };
    assert_eq!(ids(store.list_tickets(closed).await.unwrap()), [ticket]);
    let page = TicketFilter {
        before_id: Some(second),
        ..all
    };
    assert_eq!(ids(store.list_tickets(page).await.unwrap()), [ticket]);

    let chats = ConversationFilter {
        site_id: site,
        limit: 10,
        ..ConversationFilter::default()
    };
    let found = store.list_conversations(chats.clone()).await.unwrap();
    assert_eq!(found.iter().map(|c| c.id).collect::<Vec<_>>(), [chat]);
    for (filter, expected) in [
        (
            ConversationFilter {
                status: Some(ConversationStatus::Ended),
                ticket_id: Some(ticket),
                ..chats.clone()
            },
            1,
        ),
        (
            ConversationFilter {
                status: Some(ConversationStatus::Queued),
                ..chats.clone()
            },
            0,
        ),
        (
            ConversationFilter {
                before_id: Some(chat),
                ..chats.clone()
            },
            0,
        ),
        (
            ConversationFilter {
                site_id: site + 1,
                ..chats.clone()
            },
            0,
        ),
    ] {
        let listed = store.list_conversations(filter.clone()).await.unwrap();
        assert_eq!(listed.len(), expected, "{filter:?}");
    }
}

#[tokio::test]
async fn tickets_and_the_apis_lists_behave_alike_on_both_stores() {
    on_both_stores!(tickets_and_lists);
}

/// A chat of a new visitor, its flow having stored `answers` (the flow state's
/// variables), and the visitor saying `said`.
async fn chat_saying(
    store: &(impl VisitorStore + ConversationStore + MessageStore),
    site: i64,
    answers: &str,
    said: &str,
) -> i64 {
    let visitor = store.create_visitor(site, said.into()).await.unwrap();
    let new = NewConversation::of_visitor(site, visitor.id);
    let (chat, _) = store
        .open_or_start_conversation(new, ConversationStatus::Bot)
        .await
        .unwrap();
    let turn = FlowTurn {
        flow_state: format!(r#"{{"variables": {answers}}}"#),
        queue: true,
        ..bot_turn()
    };
    store.flow_turn(chat.id, turn).await.unwrap();
    let message = NewMessage::text(chat.id, None, Author::Visitor, None, None, said.into());
    store.append_message(message).await.unwrap();
    chat.id
}

async fn finding_chats(
    store: &(impl SiteStore + VisitorStore + ConversationStore + MessageStore + SearchStore),
) {
    assert!(store.seed_if_empty(seed()).await.unwrap());
    let site = store.site_by_key("demo").await.unwrap().unwrap().id;
    let refund = chat_saying(
        store,
        site,
        r#"{"email": "sam@example.com"}"#,
        "I would like a refund for my order please",
    )
    .await;
    let shipping = chat_saying(store, site, "[]", "Where is my parcel? Shipping is slow").await;
    let search = |text: &str| ChatSearch {
        text: text.into(),
        from: 0,
        to: i64::MAX,
    };
    let found = |results: Vec<porchlight_relay::store::search::Found>| -> Vec<i64> {
        results.iter().map(|found| found.conversation.id).collect()
    };

    let refun = store.search_chats(search("REFUN order")).await.unwrap();
    assert_eq!(
        found(refun.clone()),
        [refund],
        "every word, each as a prefix"
    );
    assert!(refun[0].snippet.as_deref().unwrap().contains("refund"));
    assert_eq!(
        found(store.search_chats(search("sam@example.com")).await.unwrap()),
        [refund],
        "the flow's answers"
    );
    let by_number = store
        .search_chats(search(&format!("#{shipping}")))
        .await
        .unwrap();
    assert_eq!(found(by_number), [shipping]);
    assert_eq!(
        found(store.search_chats(search("my")).await.unwrap()).len(),
        2
    );
    assert_eq!(
        found(store.search_chats(search("")).await.unwrap()),
        [shipping, refund],
        "blank: every chat in the range, newest first"
    );
    let before = ChatSearch {
        to: 1,
        ..search("refund")
    };
    assert!(store.search_chats(before).await.unwrap().is_empty());
    assert!(
        store
            .search_chats(search("NOT \"x\" OR y* ' &|!"))
            .await
            .unwrap()
            .is_empty(),
        "operators are only words"
    );
}

#[tokio::test]
async fn finding_chats_behaves_alike_on_both_stores() {
    on_both_stores!(finding_chats);
}

/// PostgreSQL's text cannot hold a NUL character: such text is refused as bad input
/// (a 422 from the API), not failed as the store's fault (a 500).
#[tokio::test]
async fn text_with_a_nul_character_is_refused_as_bad_input() {
    let server = common::postgres::TestPostgres::start();
    let store = porchlight_relay::store::PgStore::connect(&server.schema().await)
        .await
        .unwrap();
    store.seed_if_empty(seed()).await.unwrap();
    let site = store.site_by_key("demo").await.unwrap().unwrap().id;
    let refused = store
        .create_ticket(site, "a\0b".into(), None, None, None)
        .await;
    assert!(matches!(refused, Err(StoreError::NulInText)), "{refused:?}");
    let error = porchlight_relay::error::ApiError::from(StoreError::NulInText);
    assert_eq!(error.code(), porchlight_protocol::api::ApiCode::Invalid);
}
