//! Webhooks on the PostgreSQL store: endpoints, their events queued with what they tell
//! of, gathered into deliveries, tried and recorded, the same as on SQLite (one check
//! run on both); and with three nodes at once, every event in one delivery and every
//! delivery taken by one node's sender.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::postgres::{TestPostgres, new_visitors_chat, on_both_stores, seed, store_with};
use porchlight_protocol::api::webhooks::{MessageTypes, WebhookEvent, WebhookForm};
use porchlight_protocol::{Author, ConversationStatus};
use porchlight_relay::store::visitors::VisitorStore;
use porchlight_relay::store::webhooks::{Outcome, Tried, WebhookStore};
use porchlight_relay::store::{
    ConversationStore, MessageStore, NewMessage, PgStore, SiteStore, now_ms,
};

fn form(batch_max: u32) -> WebhookForm {
    WebhookForm {
        name: "CRM".into(),
        url: "https://crm.example.com/hook".into(),
        events: vec![WebhookEvent::ChatMessage],
        message_types: MessageTypes::All,
        profile_id: None,
        batch_max,
        batch_seconds: 0,
        auth_header: None,
        enabled: true,
    }
}

fn tried(outcome: Outcome) -> Tried {
    Tried {
        code: Some(200),
        duration_ms: 12,
        excerpt: None,
        error: None,
        outcome,
    }
}

/// A queued chat of a new visitor on `site`, and a message from them in it.
async fn visitor_says(
    store: &(impl VisitorStore + ConversationStore + MessageStore),
    site: i64,
    said: &str,
) {
    let (_, chat) = new_visitors_chat(store, site, said, ConversationStatus::Queued).await;
    let message = NewMessage::text(chat, None, Author::Visitor, None, None, said.into());
    store.append_message(message).await.unwrap();
}

async fn webhooks(
    store: &(impl SiteStore + VisitorStore + ConversationStore + MessageStore + WebhookStore),
) {
    assert!(store.seed_if_empty(seed()).await.unwrap());
    let site = store.site_by_key("demo").await.unwrap().unwrap().id;
    let hook = store
        .create_webhook(site, form(1), "first".into())
        .await
        .unwrap();
    assert_eq!(
        store.webhooks(site).await.unwrap(),
        std::slice::from_ref(&hook)
    );
    assert_eq!(store.webhook(site + 1, hook.id).await.unwrap(), None);

    visitor_says(store, site, "Hello there").await;
    tokio::time::timeout(
        Duration::from_secs(10),
        store.webhook_events_queued().notified(),
    )
    .await
    .expect("the sender is woken once the event is committed");
    assert_eq!(store.webhook_backlog().await.unwrap(), 1);
    let now = now_ms();
    assert_eq!(store.gather_deliveries(now).await.unwrap(), None);
    let due = store.due_deliveries(now, 10, 4).await.unwrap();
    assert_eq!(due.len(), 1);
    assert!(due[0].body.contains("Hello there"), "{}", due[0].body);
    assert_eq!(due[0].target.secrets, ["first"]);
    store
        .record_try(&due[0], tried(Outcome::Delivered), now)
        .await
        .unwrap();
    let listed = store
        .webhook_deliveries(site, hook.id, None, 10)
        .await
        .unwrap();
    assert_eq!(
        (listed[0].status.as_str(), listed[0].attempts),
        ("delivered", 1)
    );
    assert_eq!(store.webhook_backlog().await.unwrap(), 0);

    // Sent again on request; given up; forgotten.
    assert!(
        store
            .redeliver(site, hook.id, due[0].id, now)
            .await
            .unwrap()
    );
    assert!(
        !store
            .redeliver(site + 1, hook.id, due[0].id, now)
            .await
            .unwrap()
    );
    let again = store.due_deliveries(now, 10, 4).await.unwrap();
    assert_eq!(
        again[0].webhook_id, due[0].webhook_id,
        "the same webhook-id"
    );
    store
        .record_try(&again[0], tried(Outcome::RetryAt(None)), now)
        .await
        .unwrap();
    assert_eq!(store.forget_old_deliveries(now + 1).await.unwrap(), 1);

    // A new secret signs beside the old one during the overlap; batching gathers.
    store
        .rotate_webhook_secret(site, hook.id, "second".into(), now + 60_000)
        .await
        .unwrap()
        .unwrap();
    let batching = store
        .update_webhook(site, hook.id, form(5))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(batching.batch_max, 5);
    for said in ["one", "two", "three"] {
        visitor_says(store, site, said).await;
    }
    store.gather_deliveries(now_ms()).await.unwrap();
    let batch = store.due_deliveries(now_ms(), 10, 4).await.unwrap();
    assert_eq!(batch.len(), 1, "one batch of three");
    assert_eq!(batch[0].target.secrets, ["second", "first"]);
    assert!(batch[0].body.starts_with(r#"{"type":"batch""#));
    assert!(store.delete_webhook(site, hook.id).await.unwrap());
    assert!(!store.delete_webhook(site, hook.id).await.unwrap());
}

#[tokio::test]
async fn webhooks_behave_alike_on_both_stores() {
    on_both_stores!(webhooks);
}

#[tokio::test]
async fn three_nodes_gather_each_event_once_and_send_each_delivery_once() {
    let server = TestPostgres::start();
    let (a, url) = store_with(&server, "").await;
    let [b, c] = [
        PgStore::connect(&url).await.unwrap(),
        PgStore::connect(&url).await.unwrap(),
    ];
    assert!(a.seed_if_empty(seed()).await.unwrap());
    let site = a.site_by_key("demo").await.unwrap().unwrap().id;
    let hook = a.create_webhook(site, form(1), "s".into()).await.unwrap();
    for n in 0..60 {
        visitor_says(&a, site, &format!("message {n}")).await;
    }
    let now = now_ms();
    let (gathered_a, gathered_b, gathered_c) = tokio::join!(
        a.gather_deliveries(now),
        b.gather_deliveries(now),
        c.gather_deliveries(now),
    );
    for gathered in [gathered_a, gathered_b, gathered_c] {
        gathered.unwrap();
    }
    let deliveries = a
        .webhook_deliveries(site, hook.id, None, 100)
        .await
        .unwrap();
    assert_eq!(deliveries.len(), 60, "each event in one delivery");

    // Each node takes at most four of an endpoint's deliveries at a time (the other
    // nodes skip those), so it takes rounds; each round takes some.
    let mut taken = Vec::new();
    for _ in 0..60 {
        if taken.len() == 60 {
            break;
        }
        let (on_a, on_b, on_c) = tokio::join!(
            a.due_deliveries(now, 100, 4),
            b.due_deliveries(now, 100, 4),
            c.due_deliveries(now, 100, 4),
        );
        for due in [on_a, on_b, on_c] {
            for delivery in due.unwrap() {
                taken.push(delivery.id);
                a.record_try(&delivery, tried(Outcome::Delivered), now)
                    .await
                    .unwrap();
            }
        }
    }
    let distinct: BTreeSet<i64> = taken.iter().copied().collect();
    assert_eq!(distinct.len(), taken.len(), "no delivery taken twice");
    assert_eq!(taken.len(), 60, "every delivery sent");
}
