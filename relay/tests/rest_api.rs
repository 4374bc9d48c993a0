//! The REST API for the site's own servers: keys made in the console (shown once,
//! hashed, scoped, revocable, last use shown), each refusal with its code, identify,
//! conversations by cursor, messages after a `seq`, a bot's message posted into a chat,
//! the per-key rate limit, and an OpenAPI document that names every `/api/v1` route
//! the router serves.

mod common;

use common::{TestRelay, header, http, json_call, start};
use porchlight_relay::throttle::API_REQUESTS_PER_MINUTE;
use serde_json::{Value, json};

/// An admin makes a key for `site` with `scope`; returns the key.
async fn make_key(relay: &TestRelay, site: &str, scope: &str) -> (String, Value) {
    let admin = relay.agent_cookie(&relay.admin().email, "Admin").await;
    let (status, made) = json_call(
        relay.addr,
        "POST",
        &format!("/api/admin/sites/{site}/api-keys"),
        &admin,
        json!({"name": format!("{scope} key"), "scope": scope}),
    )
    .await;
    assert_eq!(status, 201, "{made}");
    (
        made["key"].as_str().unwrap().to_owned(),
        made["listed"].clone(),
    )
}

/// A call with an API key: the status, the headers and the parsed answer.
async fn call(
    relay: &TestRelay,
    key: Option<&str>,
    method: &str,
    path: &str,
    body: &Value,
) -> (u16, Vec<(String, String)>, Value) {
    let bearer = key.map(|key| format!("Bearer {key}"));
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(bearer) = &bearer {
        headers.push(("Authorization", bearer));
    }
    let text = if body.is_null() {
        String::new()
    } else {
        body.to_string()
    };
    let (status, headers, answer) = http(relay.addr, method, path, &headers, &text).await;
    (
        status,
        headers,
        serde_json::from_str(&answer).unwrap_or(Value::Null),
    )
}

/// Asserts the status and error code a call gets.
async fn answers(
    relay: &TestRelay,
    key: Option<&str>,
    method: &str,
    path: &str,
    body: Value,
    expected: (u16, &str),
) {
    let got = code(relay, key, method, path, body).await;
    assert_eq!((got.0, got.1.as_str()), expected, "{method} {path}");
}

async fn code(
    relay: &TestRelay,
    key: Option<&str>,
    method: &str,
    path: &str,
    body: Value,
) -> (u16, String) {
    let (status, _, answer) = call(relay, key, method, path, &body).await;
    (
        status,
        answer["code"].as_str().unwrap_or_default().to_owned(),
    )
}

/// Three chats waiting on the demo site, oldest first.
async fn three_chats(relay: &TestRelay) -> Vec<i64> {
    let mut ids = Vec::new();
    for n in 0..3 {
        let mut visitor = relay.visitor().await;
        visitor.hello(None, None).await;
        let ack = visitor
            .say(&format!("m{n}"), &format!("Question {n}"))
            .await;
        ids.push(ack["conversation_id"].as_i64().unwrap());
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_are_shown_once_scoped_and_revocable_and_each_refusal_has_its_code() {
    let relay = start().await;
    let (reader, listed) = make_key(&relay, "demo", "read").await;
    assert!(reader.starts_with("plk_"));
    assert!(
        listed["prefix"]
            .as_str()
            .unwrap()
            .starts_with(&reader[..12])
    );
    let (writer, _) = make_key(&relay, "demo", "read_write").await;

    let admin = relay.agent_cookie(&relay.admin().email, "Admin").await;
    let (_, keys) = json_call(
        relay.addr,
        "GET",
        "/api/admin/sites/demo/api-keys",
        &admin,
        Value::Null,
    )
    .await;
    assert_eq!(keys.as_array().unwrap().len(), 2);
    assert!(
        !keys.to_string().contains(&reader[12..]),
        "the key is never listed"
    );
    assert!(keys[0].get("last_used_at").is_none());

    let list = "/api/v1/conversations";
    answers(
        &relay,
        None,
        "GET",
        list,
        Value::Null,
        (401, "api_key_required"),
    )
    .await;
    answers(
        &relay,
        Some("plk_nope"),
        "GET",
        list,
        Value::Null,
        (401, "api_key_invalid"),
    )
    .await;
    answers(&relay, Some(&reader), "GET", list, Value::Null, (200, "")).await;
    let (_, keys) = json_call(
        relay.addr,
        "GET",
        "/api/admin/sites/demo/api-keys",
        &admin,
        Value::Null,
    )
    .await;
    assert!(
        keys[1]["last_used_at"].is_i64(),
        "the read key's last use is shown: {keys}"
    );
    let identify = json!({"user_id": "u-1"});
    answers(
        &relay,
        Some(&reader),
        "POST",
        "/api/v1/visitors/identify",
        identify.clone(),
        (403, "read_only_key"),
    )
    .await;
    answers(
        &relay,
        Some(&writer),
        "POST",
        "/api/v1/visitors/identify",
        identify.clone(),
        (200, ""),
    )
    .await;
    answers(
        &relay,
        Some(&reader),
        "GET",
        "/api/v1/conversations?site=shop",
        Value::Null,
        (403, "wrong_site"),
    )
    .await;

    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_key_stops_working_at_once() {
    let relay = start().await;
    let (writer, writer_listed) = make_key(&relay, "demo", "read_write").await;
    let admin = relay.agent_cookie(&relay.admin().email, "Admin").await;
    let identify = json!({"user_id": "u-1"});
    answers(
        &relay,
        Some(&writer),
        "POST",
        "/api/v1/visitors/identify",
        identify.clone(),
        (200, ""),
    )
    .await;
    let id = writer_listed["id"].as_i64().unwrap();
    let (status, revoked) = json_call(
        relay.addr,
        "DELETE",
        &format!("/api/admin/sites/demo/api-keys/{id}"),
        &admin,
        Value::Null,
    )
    .await;
    assert_eq!(status, 200);
    assert!(revoked["revoked_at"].is_i64());
    answers(
        &relay,
        Some(&writer),
        "POST",
        "/api/v1/visitors/identify",
        identify,
        (401, "api_key_invalid"),
    )
    .await;
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_sites_key_sees_none_of_this_sites_chats() {
    let relay = start().await;
    let admin = relay.agent_cookie(&relay.admin().email, "Admin").await;
    let (status, _) = json_call(
        relay.addr,
        "POST",
        "/api/admin/sites",
        &admin,
        json!({"key": "shop", "name": "Shop"}),
    )
    .await;
    assert_eq!(status, 201);
    let (shop_key, _) = make_key(&relay, "shop", "read_write").await;
    let chats = three_chats(&relay).await;

    let (status, _, page) = call(
        &relay,
        Some(&shop_key),
        "GET",
        "/api/v1/conversations",
        &Value::Null,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(page["items"], json!([]), "the shop has no chats");
    for path in [
        format!("/api/v1/conversations/{}", chats[0]),
        format!("/api/v1/conversations/{}/messages", chats[0]),
    ] {
        answers(
            &relay,
            Some(&shop_key),
            "GET",
            &path,
            Value::Null,
            (404, "not_found"),
        )
        .await;
    }
    let post = json!({"body": "Hi", "author": "system"});
    let path = format!("/api/v1/conversations/{}/messages", chats[0]);
    answers(
        &relay,
        Some(&shop_key),
        "POST",
        &path,
        post,
        (404, "not_found"),
    )
    .await;
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_pages_through_the_sites_chats_newest_first() {
    let relay = start().await;
    let (key, _) = make_key(&relay, "demo", "read_write").await;
    let chats = three_chats(&relay).await;

    let (_, _, first) = call(
        &relay,
        Some(&key),
        "GET",
        "/api/v1/conversations?limit=2",
        &Value::Null,
    )
    .await;
    let ids: Vec<i64> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [chats[2], chats[1]], "newest first");
    let cursor = first["next_cursor"].as_str().unwrap();
    let (_, _, second) = call(
        &relay,
        Some(&key),
        "GET",
        &format!("/api/v1/conversations?limit=2&cursor={cursor}"),
        &Value::Null,
    )
    .await;
    assert_eq!(second["items"][0]["id"], chats[0]);
    assert!(second.get("next_cursor").is_none(), "the last page");
    let (_, _, queued) = call(
        &relay,
        Some(&key),
        "GET",
        "/api/v1/conversations?status=queued&limit=10",
        &Value::Null,
    )
    .await;
    assert_eq!(queued["items"].as_array().unwrap().len(), 3);
    answers(
        &relay,
        Some(&key),
        "GET",
        "/api/v1/conversations?status=lost",
        Value::Null,
        (422, "invalid"),
    )
    .await;
    answers(
        &relay,
        Some(&key),
        "GET",
        "/api/v1/conversations?limit=lots",
        Value::Null,
        (422, "bad_request"),
    )
    .await;

    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_posts_into_a_chat_as_its_bot_once_per_message_id() {
    let relay = start().await;
    let (key, _) = make_key(&relay, "demo", "read_write").await;
    let mut visitor = relay.visitor().await;
    let welcome = visitor.hello(None, None).await;
    let chat = visitor.say("v1", "Is my order late?").await["conversation_id"]
        .as_i64()
        .unwrap();
    assert!(welcome.get("conversation").is_none());
    let path = format!("/api/v1/conversations/{chat}/messages");
    let post = json!({"body": "Your order ships today.", "author": "bot", "name": "Order bot", "client_msg_id": "o-1"});
    let (status, _, posted) = call(&relay, Some(&key), "POST", &path, &post).await;
    assert_eq!(status, 201, "{posted}");
    let heard = visitor.next_message("Your order ships today.").await;
    assert_eq!(
        (heard["author"].as_str(), heard["author_name"].as_str()),
        (Some("bot"), Some("Order bot"))
    );
    let (_, _, again) = call(&relay, Some(&key), "POST", &path, &post).await;
    assert_eq!(again["seq"], posted["seq"], "a retry is stored once");
    let nameless = json!({"body": "Hi", "author": "bot"});
    answers(
        &relay,
        Some(&key),
        "POST",
        &path,
        nameless,
        (422, "invalid"),
    )
    .await;
    answers(
        &relay,
        Some(&key),
        "POST",
        &path,
        json!({"body": 1}),
        (422, "bad_request"),
    )
    .await;

    let (_, _, after_first) = call(
        &relay,
        Some(&key),
        "GET",
        &format!("{path}?after=1"),
        &Value::Null,
    )
    .await;
    let bodies: Vec<&str> = after_first["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert!(
        bodies.contains(&"Your order ships today.") && !bodies.contains(&"Is my order late?"),
        "{bodies:?}"
    );
    let (_, _, one) = call(
        &relay,
        Some(&key),
        "GET",
        &format!("/api/v1/conversations/{chat}"),
        &Value::Null,
    )
    .await;
    assert_eq!(one["last_seq"], posted["seq"]);

    visitor.send(json!({"type": "end_chat"})).await;
    visitor.next_status("ended").await;
    let late = json!({"body": "Anything else?", "author": "system"});
    answers(
        &relay,
        Some(&key),
        "POST",
        &path,
        late,
        (409, "conversation_ended"),
    )
    .await;
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identify_from_the_server_names_the_user_a_page_later_proves() {
    let relay = start().await;
    let (key, _) = make_key(&relay, "demo", "read_write").await;
    let body = json!({"user_id": "42", "name": "Ana Lima", "email": "ana@example.com",
        "traits": {"plan": "Pro"}, "context": {"plan": {"label": "Current plan", "value": "Pro, renews 1 May"}}});
    let (status, _, made) = call(
        &relay,
        Some(&key),
        "POST",
        "/api/v1/visitors/identify",
        &body,
    )
    .await;
    assert_eq!(status, 200, "{made}");
    let (_, _, again) = call(
        &relay,
        Some(&key),
        "POST",
        "/api/v1/visitors/identify",
        &json!({"user_id": "42", "traits": {"seats": "5"}}),
    )
    .await;
    assert_eq!(
        again["visitor_id"], made["visitor_id"],
        "one visitor per user"
    );

    let contact = relay
        .state
        .store
        .contact(made["visitor_id"].as_i64().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(contact.name, "Ana Lima");
    assert!(contact.verified);
    assert_eq!(contact.known.traits.len(), 2, "traits merge");
    assert_eq!(
        contact.known.context["plan"].value, "Pro, renews 1 May",
        "kept when not given"
    );
    answers(
        &relay,
        Some(&key),
        "POST",
        "/api/v1/visitors/identify",
        json!({"user_id": " "}),
        (422, "invalid"),
    )
    .await;
    let huge = json!({"user_id": "42", "name": "x".repeat(70_000)});
    answers(
        &relay,
        Some(&key),
        "POST",
        "/api/v1/visitors/identify",
        huge,
        (413, "too_large"),
    )
    .await;
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_past_its_rate_gets_429_with_retry_after() {
    let relay = start().await;
    let (key, _) = make_key(&relay, "demo", "read").await;
    // The budget refills as the minute passes, so a few more may get through.
    let mut served = 0;
    let (status, headers, answer) = loop {
        let answer = call(
            &relay,
            Some(&key),
            "GET",
            "/api/v1/conversations?limit=1",
            &Value::Null,
        )
        .await;
        if answer.0 != 200 || served > API_REQUESTS_PER_MINUTE * 2 {
            break answer;
        }
        served += 1;
    };
    assert!(served >= API_REQUESTS_PER_MINUTE, "{served} served first");
    assert_eq!(
        (status, answer["code"].as_str()),
        (429, Some("rate_limited"))
    );
    let wait: u64 = header(&headers, "retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_names_every_route_the_router_serves_under_api_v1() {
    let relay = start().await;
    let (status, headers, body) = http(relay.addr, "GET", "/api/v1/openapi.json", &[], "").await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "content-type"), Some("application/json"));
    let document: Value = serde_json::from_str(&body).unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = document["paths"].as_object().unwrap();

    // Every /api/v1 route written in the router is documented...
    let router = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http/mod.rs"),
    )
    .unwrap();
    for route in router
        .split('"')
        .filter(|part| part.starts_with("/api/v1/"))
    {
        if route == "/api/v1/openapi.json" || route == "/api/v1/docs" {
            continue;
        }
        assert!(
            paths.contains_key(route),
            "{route} is not in the OpenAPI document"
        );
    }
    // ...and every documented operation is served (without a key: 401, not 404/405).
    for (path, operations) in paths {
        for method in operations.as_object().unwrap().keys() {
            let concrete = path.replace("{id}", "1").replace("{key}", "demo");
            let (status, _, _) = http(relay.addr, &method.to_uppercase(), &concrete, &[], "").await;
            assert!(
                status != 404 || path.contains("{"),
                "{method} {path} is not served"
            );
            assert_ne!(status, 405, "{method} {path} is not served");
        }
    }
    assert!(paths.contains_key("/api/v1/conversations/{id}/messages"));
    let (status, _, page) = http(relay.addr, "GET", "/api/v1/docs", &[], "").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("openapi.json") && !page.contains("https://"),
        "renders it with nothing from elsewhere"
    );
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_opens_a_ticket_a_page_links_a_chat_to_and_works_it() {
    let relay = start().await;
    let (key, _) = make_key(&relay, "demo", "read_write").await;
    let (reader, _) = make_key(&relay, "demo", "read").await;
    let ticket = json!({"subject": "Refund for order #1042", "requester_email": "ana@example.com"});
    answers(
        &relay,
        Some(&reader),
        "POST",
        "/api/v1/tickets",
        ticket.clone(),
        (403, "read_only_key"),
    )
    .await;
    // Alike on both stores: PostgreSQL's text cannot hold a NUL.
    answers(
        &relay,
        Some(&key),
        "POST",
        "/api/v1/tickets",
        json!({"subject": "Refund\u{0}"}),
        (422, "invalid"),
    )
    .await;
    let (status, _, made) = call(&relay, Some(&key), "POST", "/api/v1/tickets", &ticket).await;
    assert_eq!(status, 201, "{made}");
    let id = made["id"].as_i64().unwrap();

    // The page links the visitor's chat to it with the token.
    let mut visitor = relay.visitor().await;
    let link = json!({"id": id, "token": made["link_token"]});
    visitor
        .send(json!({"type": "hello", "v": 1, "site": "demo", "ticket": link}))
        .await;
    assert_eq!(
        visitor.next_json().await["type"],
        "welcome",
        "the link is good"
    );
    let chat = visitor.say("t1", "About my refund").await["conversation_id"].clone();

    let path = format!("/api/v1/tickets/{id}");
    let (_, _, detail) = call(&relay, Some(&reader), "GET", &path, &Value::Null).await;
    assert_eq!(detail["ticket"]["subject"], "Refund for order #1042");
    assert_eq!(detail["chats"][0]["conversation_id"], chat);
    assert_eq!(detail["requester_email"], "ana@example.com");

    let change = json!({"subject": "Refund sent", "status": "closed"});
    assert_eq!(
        call(&relay, Some(&key), "PATCH", &path, &change).await.0,
        204
    );
    answers(
        &relay,
        Some(&key),
        "PATCH",
        &path,
        json!({"status": "lost"}),
        (422, "invalid"),
    )
    .await;
    let note = json!({"body": "Refunded 42 EUR.", "author": "Billing system"});
    let (status, _, stored) =
        call(&relay, Some(&key), "POST", &format!("{path}/notes"), &note).await;
    assert_eq!(status, 201, "{stored}");
    assert_eq!(
        (stored["kind"].as_str(), stored["author"].as_str()),
        (Some("note"), Some("Billing system"))
    );

    let (_, _, closed) = call(
        &relay,
        Some(&reader),
        "GET",
        "/api/v1/tickets?status=closed",
        &Value::Null,
    )
    .await;
    assert_eq!(closed["items"][0]["id"], id);
    assert_eq!(closed["items"][0]["subject"], "Refund sent");
    let (_, _, open) = call(
        &relay,
        Some(&reader),
        "GET",
        "/api/v1/tickets?status=open",
        &Value::Null,
    )
    .await;
    assert_eq!(open["items"], json!([]));
    let (_, _, detail) = call(&relay, Some(&reader), "GET", &path, &Value::Null).await;
    assert!(
        detail["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["body"] == "Refunded 42 EUR.")
    );

    another_site_cannot_touch(&relay, &path, note).await;
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_reads_the_sites_profiles_and_knowledge() {
    let relay = start().await;
    let (key, _) = make_key(&relay, "demo", "read").await;
    let (_, _, profiles) = call(&relay, Some(&key), "GET", "/api/v1/profiles", &Value::Null).await;
    let profiles = profiles.as_array().unwrap();
    assert_eq!(profiles.len(), 1);
    assert_eq!(
        (
            profiles[0]["site"].as_str(),
            profiles[0]["default"].as_bool()
        ),
        (Some("demo"), Some(true))
    );

    let admin = relay.agent_cookie(&relay.admin().email, "Admin").await;
    let document =
        json!({"name": "refunds.md", "text": "# Refunds\n\nRefunds take 5 to 10 working days."});
    let (status, _) = json_call(
        relay.addr,
        "POST",
        "/api/admin/knowledge?site=demo",
        &admin,
        document,
    )
    .await;
    assert_eq!(status, 200);
    let (_, _, knowledge) =
        call(&relay, Some(&key), "GET", "/api/v1/knowledge", &Value::Null).await;
    assert_eq!(knowledge[0]["title"], "Refunds", "{knowledge}");
    relay.stop().await;
}

/// A second site's key finds none of the demo site's ticket at `path`.
async fn another_site_cannot_touch(relay: &TestRelay, path: &str, note: Value) {
    let admin = relay.agent_cookie(&relay.admin().email, "Admin").await;
    json_call(
        relay.addr,
        "POST",
        "/api/admin/sites",
        &admin,
        json!({"key": "shop", "name": "Shop"}),
    )
    .await;
    let (shop_key, _) = make_key(relay, "shop", "read_write").await;
    answers(
        relay,
        Some(&shop_key),
        "GET",
        path,
        Value::Null,
        (404, "not_found"),
    )
    .await;
    answers(
        relay,
        Some(&shop_key),
        "POST",
        &format!("{path}/notes"),
        note,
        (404, "not_found"),
    )
    .await;
}
