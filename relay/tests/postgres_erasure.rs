//! Data rights and retention on the PostgreSQL store: a visitor's records read out and
//! erased, and expired chats deleted, the same as on SQLite (one check run on both).

mod common;

use common::postgres::{bot_turn, new_visitors_chat, on_both_stores, seed};
use porchlight_protocol::{Author, ConversationStatus};
use porchlight_relay::store::erasure::ErasureStore;
use porchlight_relay::store::visitors::VisitorStore;
use porchlight_relay::store::{
    ConversationStore, FlowTurn, MessageStore, NewMessage, SiteChange, SiteStore, StoreError,
    StoredAttachment, TicketStore,
};

/// A visitor's chat with a message, a file, and a ticket the flow opened, ended.
async fn a_finished_chat(
    store: &(impl VisitorStore + ConversationStore + MessageStore),
    site: i64,
) -> (i64, i64) {
    let (visitor, chat) = new_visitors_chat(store, site, "gone", ConversationStatus::Bot).await;
    let turn = FlowTurn {
        bot_messages: vec!["We will email you".into()],
        ticket_subject: Some("Call me back on 555-0100".into()),
        ..bot_turn()
    };
    store.flow_turn(chat, turn).await.unwrap();
    let said = |body: &str| NewMessage::text(chat, None, Author::Visitor, None, None, body.into());
    store
        .append_message(said("My number is 555-0100"))
        .await
        .unwrap();
    let file = StoredAttachment {
        conversation_id: chat,
        storage_key: "k1".into(),
        name: "id.png".into(),
        content_type: "image/png".into(),
        size: 3,
    };
    store
        .add_attachment(file, None, said("id.png"))
        .await
        .unwrap();
    store.end(chat, Author::Visitor, None).await.unwrap();
    (visitor, chat)
}

async fn erasure_and_retention(
    store: &(
         impl SiteStore + VisitorStore + ConversationStore + MessageStore + TicketStore + ErasureStore
     ),
) {
    assert!(store.seed_if_empty(seed()).await.unwrap());
    let site = store.site_by_key("demo").await.unwrap().unwrap().id;
    let (visitor, chat) = a_finished_chat(store, site).await;
    let records = store.visitor_records(visitor).await.unwrap().unwrap();
    assert_eq!(records.visitor.site, "demo");
    assert_eq!(records.conversations[0].0.id, chat);
    assert_eq!(records.conversations[0].1.len(), 4, "bot, two said, ended");
    assert_eq!(records.files[0].storage_key, "k1");
    let ticket = records.tickets[0].id;

    // One waiting for a person cannot be erased yet.
    let (waiting, _) = new_visitors_chat(store, site, "waiting", ConversationStatus::Queued).await;
    assert!(matches!(
        store.erase_visitor(waiting, "Admin".into()).await,
        Err(StoreError::Conflict)
    ));

    let erased = store
        .erase_visitor(visitor, "Admin".into())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(erased.chats, [chat]);
    assert_eq!(erased.file_keys, ["k1"]);
    assert_eq!(
        (
            erased.record.conversations,
            erased.record.messages,
            erased.record.tickets
        ),
        (1, 4, 1)
    );
    assert_eq!(store.visitor_records(visitor).await.unwrap(), None);
    assert!(
        store
            .erase_visitor(visitor, "Admin".into())
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(store.erasures().await.unwrap(), [erased.record]);
    assert_eq!(
        store.tickets(Some(ticket), 1).await.unwrap()[0].subject,
        "(erased)"
    );
    assert_eq!(store.conversation(chat).await.unwrap(), None);
    assert_eq!(store.files_to_delete().await.unwrap(), ["k1"]);
    store.files_deleted(vec!["k1".into()]).await.unwrap();
    assert!(store.files_to_delete().await.unwrap().is_empty());

    // Retention: a site keeping chats a day loses those ended two days ago.
    let (_, old) = a_finished_chat(store, site).await;
    let now = porchlight_relay::store::now_ms();
    assert_eq!(
        store.delete_expired(now, 10).await.unwrap().conversations,
        0
    );
    let demo = store.site(site).await.unwrap().unwrap();
    let keep_a_day = SiteChange {
        name: demo.name,
        allowed_origins: Vec::new(),
        default_profile_id: None,
        retention_days: Some(1),
        require_verified_identity: false,
    };
    store.update_site(site, keep_a_day).await.unwrap();
    let expired = store
        .delete_expired(now + 2 * 86_400_000, 10)
        .await
        .unwrap();
    assert_eq!((expired.conversations, expired.messages), (1, 4));
    assert_eq!(expired.file_keys, ["k1"]);
    assert_eq!(store.conversation(old).await.unwrap(), None);
}

#[tokio::test]
async fn erasure_and_retention_behave_alike_on_both_stores() {
    on_both_stores!(erasure_and_retention);
}
