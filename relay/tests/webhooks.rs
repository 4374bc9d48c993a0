//! Webhooks from chat, end to end: an admin adds an endpoint; a chat's life (started,
//! queued, messages, joined, ended) reaches a receiver signed so that an independent
//! Standard Webhooks verifier (Python's standard library, `common/verify_webhook.py`)
//! accepts it, and refuses it when anything is off; a rotated secret signs beside the
//! old one; the Deliveries tab lists each request and redelivers one with the same id;
//! the REST API lists the site's endpoints and refuses another site's.

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::process::{Command, Stdio};

use axum::http::StatusCode;
use common::receiver::{Received, next_request, receiver};
use common::{TestRelay, agent_in, http, json_call, start_allowing_loopback, waiting_chat};
use porchlight_relay::store::now_ms;
use serde_json::{Value, json};
use tokio::sync::mpsc;

/// What the independent verifier says: `Ok` when valid, else why not.
fn verify(
    secret: &str,
    headers: &BTreeMap<String, String>,
    body: &str,
    now_s: i64,
) -> Result<(), String> {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/common/verify_webhook.py"
    );
    let mut child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs the verifier");
    let input = json!({"secret": secret, "headers": headers, "body": body, "now": now_s});
    std::io::Write::write_all(
        &mut child.stdin.take().unwrap(),
        input.to_string().as_bytes(),
    )
    .unwrap();
    let output = child.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    if output.status.success() {
        Ok(())
    } else {
        Err(said)
    }
}

fn now_s() -> i64 {
    now_ms() / 1000
}

/// An admin adds an endpoint for `events` at the receiver; returns its id and secret.
async fn add_webhook(
    relay: &TestRelay,
    admin: &str,
    receiver: SocketAddr,
    events: Value,
) -> (i64, String) {
    let (status, made) = json_call(
        relay.addr,
        "POST",
        "/api/admin/sites/demo/webhooks",
        admin,
        json!({
            "name": "CRM",
            "url": format!("http://{receiver}/hook"),
            "events": events,
            "auth_header": {"name": "Authorization", "value": "Bearer crm-token"},
        }),
    )
    .await;
    assert_eq!(status, 201, "{made}");
    assert!(made["webhook"].get("auth_header_value").is_none(), "{made}");
    (
        made["webhook"]["id"].as_i64().unwrap(),
        made["secret"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn a_chats_life_reaches_the_receiver_signed_and_verifiable() {
    let relay = start_allowing_loopback().await;
    let admin = relay.agent_cookie(&relay.admin().email, "Admin").await;
    let (receiver_addr, mut requests) = receiver(|_| Some(StatusCode::NO_CONTENT)).await;
    let all = json!([
        "chat.message",
        "chat.started",
        "chat.queued",
        "chat.joined",
        "chat.ended",
        "chat.abandoned",
        "ticket.created"
    ]);
    let (webhook, secret) = add_webhook(&relay, &admin, receiver_addr, all).await;

    let (chat, mut visitor) = waiting_chat(&relay, "My sink is leaking").await;
    let (mut ana, _) = agent_in(&relay, "ana@example.com", "Ana", &["Support"]).await;
    ana.answer(json!({"type": "join", "conversation_id": chat}), "joined")
        .await;
    ana.send(json!({"type": "send", "conversation_id": chat, "client_msg_id": "a-1", "body": "On my way"}))
        .await;
    ana.next_of_type("ack").await;
    visitor.send(json!({"type": "end_chat"})).await;

    let mut seen: Vec<Received> = Vec::new();
    let wanted = ["chat.started", "chat.queued", "chat.joined", "chat.ended"];
    while !wanted
        .iter()
        .all(|kind| seen.iter().any(|got| got.event()["type"] == *kind))
        || !seen
            .iter()
            .any(|got| got.event()["data"]["text"] == "On my way")
    {
        seen.push(next_request(&mut requests).await);
    }
    for got in &seen {
        assert_eq!(
            verify(&secret, &got.headers, &got.body, now_s()),
            Ok(()),
            "{got:?}"
        );
        assert_eq!(got.headers["authorization"], "Bearer crm-token");
        assert_eq!(got.headers["content-type"], "application/json");
        let event = got.event();
        assert!(event["id"].as_str().unwrap().starts_with("evt_"), "{event}");
        assert_eq!(event["data"]["site"], "demo", "{event}");
    }
    let said = |text: &str| {
        seen.iter()
            .map(Received::event)
            .find(|event| event["type"] == "chat.message" && event["data"]["text"] == text)
            .unwrap_or_else(|| panic!("no chat.message for {text:?}"))
    };
    let visitors = said("My sink is leaking");
    assert_eq!(visitors["data"]["author"], "visitor");
    assert_eq!(visitors["data"]["conversation_id"], chat);
    assert_eq!(said("On my way")["data"]["author_name"], "Ana");
    let joined = seen
        .iter()
        .map(Received::event)
        .find(|event| event["type"] == "chat.joined")
        .unwrap();
    assert_eq!(joined["data"]["agent_name"], "Ana");
    let ended = seen
        .iter()
        .map(Received::event)
        .find(|event| event["type"] == "chat.ended")
        .unwrap();
    assert_eq!(ended["data"]["ended_by"], "visitor");

    the_verifier_refuses_what_is_off(&secret, &seen[0]);

    // A rotated secret: both sign for a day, so a receiver still on the old one and
    // one already on the new one both accept the next request.
    let (status, rotated) = json_call(
        relay.addr,
        "POST",
        &format!("/api/admin/sites/demo/webhooks/{webhook}/rotate-secret"),
        &admin,
        Value::Null,
    )
    .await;
    assert_eq!(status, 200, "{rotated}");
    let new_secret = rotated["secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, secret);
    let (_, mut second) = waiting_chat(&relay, "Another question").await;
    let after = loop {
        let got = next_request(&mut requests).await;
        if got.event()["data"]["text"] == "Another question" {
            break got;
        }
    };
    assert_eq!(after.headers["webhook-signature"].split(' ').count(), 2);
    assert_eq!(
        verify(&new_secret, &after.headers, &after.body, now_s()),
        Ok(())
    );
    assert_eq!(
        verify(&secret, &after.headers, &after.body, now_s()),
        Ok(())
    );
    second.send(json!({"type": "end_chat"})).await;

    deliveries_are_listed_and_redelivered(&relay, &admin, webhook, &seen, &mut requests).await;
}

/// The verifier is no pushover: a tampered body, a wrong secret, an old timestamp and
/// each missing header are refused.
fn the_verifier_refuses_what_is_off(secret: &str, one: &Received) {
    let tampered = one.body.replacen("demo", "dem0", 1);
    assert!(
        verify(secret, &one.headers, &tampered, now_s()).is_err(),
        "tampered body"
    );
    let wrong = "whsec_".to_owned() + &"QUJD".repeat(8);
    assert!(
        verify(&wrong, &one.headers, &one.body, now_s()).is_err(),
        "wrong secret"
    );
    assert!(
        verify(secret, &one.headers, &one.body, now_s() + 600)
            .is_err_and(|why| why.contains("tolerance")),
        "an old timestamp"
    );
    for missing in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
        let mut headers = one.headers.clone();
        headers.remove(missing);
        assert!(
            verify(secret, &headers, &one.body, now_s()).is_err(),
            "without {missing}"
        );
    }
}

/// The Deliveries tab: each request with its event, status, code and body; a
/// redelivery is the same request again (same webhook-id, same body).
async fn deliveries_are_listed_and_redelivered(
    relay: &TestRelay,
    admin: &str,
    webhook: i64,
    seen: &[Received],
    requests: &mut mpsc::UnboundedReceiver<Received>,
) {
    let path = format!("/api/admin/sites/demo/webhooks/{webhook}/deliveries");
    let (status, listed) = json_call(relay.addr, "GET", &path, admin, Value::Null).await;
    assert_eq!(status, 200, "{listed}");
    let first = &seen[0];
    let line = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|line| line["webhook_id"] == first.headers["webhook-id"].as_str())
        .unwrap_or_else(|| panic!("not listed: {listed}"));
    assert_eq!(line["status"], "delivered");
    assert_eq!(line["response_code"], 204);
    assert_eq!(line["attempts"], 1);
    assert_eq!(line["event"], first.event()["type"]);
    assert_eq!(line["body"], first.body.as_str());

    let id = line["id"].as_i64().unwrap();
    let (status, _) = json_call(
        relay.addr,
        "POST",
        &format!("{path}/{id}/redeliver"),
        admin,
        Value::Null,
    )
    .await;
    assert_eq!(status, 202);
    let again = loop {
        let got = next_request(requests).await;
        if got.headers["webhook-id"] == first.headers["webhook-id"] {
            break got;
        }
    };
    assert_eq!(again.body, first.body);
    let (status, _) = json_call(
        relay.addr,
        "POST",
        &format!("{path}/999999/redeliver"),
        admin,
        Value::Null,
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn endpoints_are_checked_and_each_site_sees_only_its_own() {
    let relay = start_allowing_loopback().await;
    let admin = relay.agent_cookie(&relay.admin().email, "Admin").await;
    let good = json!({"name": "CRM", "url": "http://127.0.0.1:9/hook", "events": ["chat.message"]});
    let refused = [
        (json!({"name": ""}), "Name the webhook"),
        (json!({"url": "ftp://example.com/"}), "not an http(s) URL"),
        (json!({"url": "http://10.0.0.8/hook"}), "private"),
        (
            json!({"url": "http://169.254.169.254/latest"}),
            "link-local",
        ),
        (json!({"events": []}), "at least one event"),
        (json!({"batch_max": 101}), "batch_max"),
        (
            json!({"batch_max": 10, "batch_seconds": 0}),
            "batch_seconds",
        ),
        (json!({"profile_id": 999_999}), "not one of this site's"),
        (
            json!({"auth_header": {"name": "webhook-signature", "value": "x"}}),
            "sets webhook-signature itself",
        ),
        (
            json!({"auth_header": {"name": "X-Key", "value": "a\r\nb"}}),
            "one line",
        ),
        (
            json!({"auth_header": {"name": "X-Key", "value": "café"}}),
            "plain ASCII",
        ),
        (
            json!({"auth_header": {"name": "Webhook-Extra", "value": "x"}}),
            "sets Webhook-Extra itself",
        ),
        (
            json!({"url": "http://no-such-host.invalid/hook"}),
            "does not resolve",
        ),
    ];
    for (change, why) in refused {
        let mut form = good.clone();
        for (key, value) in change.as_object().unwrap() {
            form[key] = value.clone();
        }
        let (status, answer) = json_call(
            relay.addr,
            "POST",
            "/api/admin/sites/demo/webhooks",
            &admin,
            form.clone(),
        )
        .await;
        assert_eq!(status, 422, "{form} → {answer}");
        assert!(
            answer["message"].as_str().unwrap().contains(why),
            "{form} → {answer}"
        );
    }
    let (status, made) = json_call(
        relay.addr,
        "POST",
        "/api/admin/sites/demo/webhooks",
        &admin,
        good.clone(),
    )
    .await;
    assert_eq!(status, 201, "{made}");
    let id = made["webhook"]["id"].as_i64().unwrap();

    // An endpoint turned off is held only to its URL's words (its name may no longer
    // resolve); turning it on checks the address again.
    let mut off = good.clone();
    off["url"] = json!("http://no-such-host.invalid/hook");
    off["enabled"] = json!(false);
    let (status, answer) = json_call(
        relay.addr,
        "PUT",
        &format!("/api/admin/sites/demo/webhooks/{id}"),
        &admin,
        off.clone(),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    off["enabled"] = json!(true);
    let (status, answer) = json_call(
        relay.addr,
        "PUT",
        &format!("/api/admin/sites/demo/webhooks/{id}"),
        &admin,
        off,
    )
    .await;
    assert_eq!(status, 422, "{answer}");
    let (status, answer) = json_call(
        relay.addr,
        "PUT",
        &format!("/api/admin/sites/demo/webhooks/{id}"),
        &admin,
        good.clone(),
    )
    .await;
    assert_eq!(status, 200, "{answer}");

    the_rest_api_shows_only_the_sites_own(&relay, &admin, id, &good).await;
}

/// The REST API: the site's key lists its endpoints; a read key cannot change one;
/// another site's key does not find it.
async fn the_rest_api_shows_only_the_sites_own(
    relay: &TestRelay,
    admin: &str,
    id: i64,
    good: &Value,
) {
    let key = |site: &'static str, scope: &'static str| {
        let admin = admin.to_owned();
        async move {
            let (status, made) = json_call(
                relay.addr,
                "POST",
                &format!("/api/admin/sites/{site}/api-keys"),
                &admin,
                json!({"name": "k", "scope": scope}),
            )
            .await;
            assert_eq!(status, 201, "{made}");
            format!("Bearer {}", made["key"].as_str().unwrap())
        }
    };
    let (status, _) = json_call(
        relay.addr,
        "POST",
        "/api/admin/sites",
        admin,
        json!({"key": "blog", "name": "Blog"}),
    )
    .await;
    assert_eq!(status, 201);
    let demo_read = key("demo", "read").await;
    let blog_write = key("blog", "read_write").await;
    let call = |bearer: &str, method: &'static str, path: String, body: &Value| {
        let headers = [
            ("Authorization", bearer.to_owned()),
            ("Content-Type", "application/json".to_owned()),
        ];
        let body = if body.is_null() {
            String::new()
        } else {
            body.to_string()
        };
        async move {
            let headers: Vec<(&str, &str)> =
                headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
            let (status, _, answer) = http(relay.addr, method, &path, &headers, &body).await;
            (
                status,
                serde_json::from_str::<Value>(&answer).unwrap_or(Value::Null),
            )
        }
    };
    let (status, listed) = call(&demo_read, "GET", "/api/v1/webhooks".into(), &Value::Null).await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed[0]["id"], id);
    assert!(listed[0].get("secret").is_none(), "{listed}");
    let (status, answer) = call(&demo_read, "POST", "/api/v1/webhooks".into(), good).await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (403, Some("read_only_key"))
    );
    let (status, _) = call(
        &blog_write,
        "GET",
        format!("/api/v1/webhooks/{id}"),
        &Value::Null,
    )
    .await;
    assert_eq!(status, 404, "another site's webhook is not found");
    let (status, _) = call(
        &blog_write,
        "DELETE",
        format!("/api/v1/webhooks/{id}"),
        &Value::Null,
    )
    .await;
    assert_eq!(status, 404);
    let (status, page) = call(
        &demo_read,
        "GET",
        format!("/api/v1/webhooks/{id}/deliveries?limit=5"),
        &Value::Null,
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["items"], json!([]));
}
