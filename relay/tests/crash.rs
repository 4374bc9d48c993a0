//! Kill -9 the real `porchlight` process after its acks, restart it on the same data:
//! every acknowledged message is there exactly once, and reaches its webhook.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use axum::http::StatusCode;
use common::Ws;
use common::process::spawn_relay;
use common::receiver::{Received, next_request, receiver};
use porchlight_protocol::api::webhooks::{MessageTypes, WebhookEvent, WebhookForm};
use porchlight_relay::store::SqliteStore;
use porchlight_relay::store::webhooks::WebhookStore;
use porchlight_relay::store::{SiteStore, Store};
use porchlight_relay::webhooks::sign::new_secret;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_messages_survive_kill_9_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (mut relay, addr) = spawn_relay(&data, &[]).await;

    let mut visitor = Ws::connect(&format!("ws://{addr}/ws/visitor"), &[]).await;
    let token = visitor.hello(None, None).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut conversation = 0;
    for n in 1..=25 {
        let ack = visitor
            .say(&format!("m-{n}"), &format!("message {n}"))
            .await;
        assert_eq!(ack["seq"], n);
        conversation = ack["conversation_id"].as_i64().unwrap();
    }
    relay.start_kill().unwrap();
    relay.wait().await.unwrap();

    let (_relay, addr) = spawn_relay(&data, &[]).await;
    let mut visitor = Ws::connect(&format!("ws://{addr}/ws/visitor"), &[]).await;
    let welcome = visitor.hello(Some(&token), None).await;
    assert_eq!(welcome["conversation"]["id"], conversation);
    assert_eq!(welcome["conversation"]["last_seq"], 25);
    let mut bodies = Vec::new();
    for _ in 0..25 {
        let message = visitor.next_of_type("message").await;
        bodies.push((
            message["seq"].as_u64().unwrap(),
            message["body"].as_str().unwrap().to_owned(),
        ));
    }
    let expected: Vec<(u64, String)> = (1..=25).map(|n| (n, format!("message {n}"))).collect();
    assert_eq!(bodies, expected);

    // Resending everything after the crash stores nothing twice.
    for n in 1..=25 {
        let ack = visitor
            .say(&format!("m-{n}"), &format!("message {n}"))
            .await;
        assert_eq!(ack["seq"], n);
    }
    let ack = visitor.say("m-26", "after the restart").await;
    assert_eq!(ack["seq"], 26);
}

/// Points the demo site's one webhook (made on first call, for visitors' messages) at
/// `receiver`, while the relay is stopped.
async fn point_webhook(data: &std::path::Path, receiver: std::net::SocketAddr) {
    let store = SqliteStore::open(data).unwrap();
    let site = store.site_by_key("demo").await.unwrap().unwrap();
    let form = WebhookForm {
        name: "CRM".into(),
        url: format!("http://{receiver}/hook"),
        events: vec![WebhookEvent::ChatMessage],
        message_types: MessageTypes::Visitor,
        profile_id: None,
        batch_max: 1,
        batch_seconds: 0,
        auth_header: None,
        enabled: true,
    };
    match store.webhooks(site.id).await.unwrap().first() {
        Some(webhook) => {
            store
                .update_webhook(site.id, webhook.id, form)
                .await
                .unwrap();
        }
        None => {
            store
                .create_webhook(site.id, form, new_secret())
                .await
                .unwrap();
        }
    }
    store.flush().await.unwrap();
}

fn text_of(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body).unwrap()["data"]["text"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A webhook-id seen twice is a retry of the same request (the same body), and no
/// event went out under two webhook-ids.
fn only_retries_repeat(requests: &[Received]) {
    let mut bodies: BTreeMap<&str, &str> = BTreeMap::new();
    let mut ids_of_event: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    for request in requests {
        let (id, body) = (request.webhook_id(), request.body.as_str());
        assert_eq!(
            *bodies.entry(id).or_insert(body),
            body,
            "{id} resent with another body"
        );
        let event = serde_json::from_str::<serde_json::Value>(body).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        ids_of_event.entry(event).or_default().insert(id);
    }
    assert!(
        ids_of_event.values().all(|ids| ids.len() == 1),
        "{ids_of_event:?}"
    );
    assert_eq!(ids_of_event.len(), 25);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_webhook_outbox_loses_nothing_across_kill_9_and_repeats_only_as_retries() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("porchlight.toml");
    std::fs::write(&config, "outbound_allow = [\"127.0.0.1\"]\n").unwrap();
    let more = [std::ffi::OsStr::new("--config"), config.as_os_str()];
    // The first start seeds the demo site; the endpoint is added beside it.
    let (mut relay, _) = spawn_relay(&data, &more).await;
    relay.start_kill().unwrap();
    relay.wait().await.unwrap();
    let (before, mut seen_before) = receiver(|n| (n < 5).then_some(StatusCode::OK)).await;
    point_webhook(&data, before).await;

    let (mut relay, addr) = spawn_relay(&data, &more).await;
    let mut visitor = Ws::connect(&format!("ws://{addr}/ws/visitor"), &[]).await;
    visitor.hello(None, None).await;
    for n in 1..=25 {
        visitor
            .say(&format!("m-{n}"), &format!("message {n}"))
            .await;
    }
    // Five delivered, one in flight (held by the receiver), the rest queued behind it.
    let mut requests = Vec::new();
    for _ in 0..6 {
        requests.push(next_request(&mut seen_before).await);
    }
    relay.start_kill().unwrap();
    relay.wait().await.unwrap();

    // The endpoint moves to a receiver that answers everything; the restarted relay
    // sends what was not delivered.
    let (after, mut seen_after) = receiver(|_| Some(StatusCode::OK)).await;
    point_webhook(&data, after).await;
    let (_relay, _) = spawn_relay(&data, &more).await;
    let mut got: BTreeSet<String> = requests[..5]
        .iter()
        .map(|request| text_of(&request.body))
        .collect();
    let mut resent = Vec::new();
    while got.len() < 25 {
        let request = next_request(&mut seen_after).await;
        got.insert(text_of(&request.body));
        resent.push(request.webhook_id().to_owned());
        requests.push(request);
    }
    let expected: BTreeSet<String> = (1..=25).map(|n| format!("message {n}")).collect();
    assert_eq!(got, expected, "every acknowledged message, none lost");
    assert!(
        resent.iter().any(|id| id == requests[5].webhook_id()),
        "the request cut off is retried with its webhook-id"
    );
    only_retries_repeat(&requests);
}
