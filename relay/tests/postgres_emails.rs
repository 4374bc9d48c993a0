//! The email outbox on the PostgreSQL store: the same behaviour as SQLite's, and each
//! due email taken by one node's sender when several look at once.

mod common;

use std::collections::BTreeSet;

use common::postgres::{TestPostgres, on_both_stores, store_with};
use porchlight_relay::store::PgStore;
use porchlight_relay::store::emails::{Attempt, EmailStore};

async fn the_outbox(store: &impl EmailStore) {
    store
        .queue_transcript_email(7, "sam@example.com".into())
        .await
        .unwrap();
    let now = i64::MAX / 4;
    let due = store.due_emails(now, 10).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(
        (due[0].kind.as_str(), due[0].conversation_id),
        ("transcript", Some(7))
    );
    let later = now + 60_000;
    store
        .record_attempt(
            due[0].id,
            Attempt::Failed {
                error: "busy".into(),
                retry_at: Some(later),
            },
            now,
        )
        .await
        .unwrap();
    assert!(store.due_emails(now, 10).await.unwrap().is_empty());
    assert_eq!(store.next_email_at().await.unwrap(), Some(later));
    let again = store.due_emails(later, 10).await.unwrap();
    assert_eq!(again[0].attempts, 1);
    let sent = Attempt::Sent {
        to: "sam@example.com".into(),
        subject: "Your chat".into(),
    };
    store
        .record_attempt(again[0].id, sent, later)
        .await
        .unwrap();
    assert_eq!(store.next_email_at().await.unwrap(), None);
    let outbox = store.outbox(10).await.unwrap();
    assert_eq!((outbox[0].status.as_str(), outbox[0].attempts), ("sent", 2));
    assert_eq!(outbox[0].subject.as_deref(), Some("Your chat"));
    assert_eq!(
        store.retry_emails(later).await.unwrap(),
        0,
        "nothing pending"
    );
}

#[tokio::test]
async fn the_outbox_behaves_alike_on_both_stores() {
    on_both_stores!(the_outbox);
}

#[tokio::test]
async fn three_nodes_taking_due_emails_at_once_take_each_once() {
    let server = TestPostgres::start();
    let (a, url) = store_with(&server, "").await;
    let [b, c] = [
        PgStore::connect(&url).await.unwrap(),
        PgStore::connect(&url).await.unwrap(),
    ];
    for chat in 0..90 {
        a.queue_transcript_email(chat, "sam@example.com".into())
            .await
            .unwrap();
    }
    let now = i64::MAX / 4;
    let mut taken = Vec::new();
    for _ in 0..4 {
        let (on_a, on_b, on_c) = tokio::join!(
            a.due_emails(now, 10),
            b.due_emails(now, 10),
            c.due_emails(now, 10),
        );
        for batch in [on_a, on_b, on_c] {
            taken.extend(batch.unwrap().into_iter().map(|email| email.id));
        }
    }
    let distinct: BTreeSet<i64> = taken.iter().copied().collect();
    assert_eq!(distinct.len(), taken.len(), "no email taken twice");
    assert_eq!(taken.len(), 90, "every email taken");

    // A node that took emails and died: after the claim they fall due again.
    let unreported = a.due_emails(now + 121_000, 100).await.unwrap();
    assert_eq!(unreported.len(), 90);
}
