//! The console's helpers around a chat: canned text (every agent reads, admins
//! write) and the visitor context the agent sees.

mod common;

use common::{Ws, http, start};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[expect(
    clippy::too_many_lines,
    reason = "one user story, read from start to end"
)]
async fn admins_manage_canned_text_and_every_agent_reads_it() {
    let relay = start().await;
    let admin = relay
        .agent_cookie(&relay.admin().email.clone(), "Admin")
        .await;
    let agent = relay.agent_cookie("bo@example.com", "Bo").await;
    let call = |method: &'static str, path: String, cookie: String, body: Value| async move {
        common::json_call(relay.addr, method, &path, &cookie, body).await
    };
    let list = || call("GET", "/api/canned".into(), agent.clone(), Value::Null);

    let (status, _, _) = http(relay.addr, "GET", "/api/canned", &[], "").await;
    assert_eq!(status, 401, "logged out");
    assert_eq!(list().await, (200, json!([])));

    let greeting = json!({"group": "", "title": " Greeting ", "body": "Hi $NAME, I'm $AGENT."});
    let (status, body) = call(
        "POST",
        "/api/canned".into(),
        agent.clone(),
        greeting.clone(),
    )
    .await;
    assert_eq!((status, body["code"].as_str()), (403, Some("admin_only")));
    let (status, created) = call(
        "POST",
        "/api/canned".into(),
        admin.clone(),
        greeting.clone(),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(created["group"], "General", "a blank group is General");
    assert_eq!(created["title"], "Greeting", "trimmed");
    let id = created["id"].as_i64().unwrap();

    let (status, body) = call("POST", "/api/canned".into(), admin.clone(), greeting).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("title_taken")));
    for (bad, problem) in [
        (json!({"title": "", "body": "x"}), "needs a title"),
        (json!({"title": "T", "body": "  "}), "needs some text"),
        (
            json!({"title": "T", "body": "x".repeat(4001)}),
            "limited to 4000",
        ),
        (
            json!({"title": "T".repeat(81), "body": "x"}),
            "limited to 80",
        ),
    ] {
        let (status, body) = call("POST", "/api/canned".into(), admin.clone(), bad).await;
        assert_eq!(status, 422);
        assert!(
            body["message"].as_str().unwrap().contains(problem),
            "{body}"
        );
    }
    let (status, _) = call(
        "POST",
        "/api/canned".into(),
        admin.clone(),
        json!({"group": "Billing", "title": "Refunds", "body": "Refunds take 5 days."}),
    )
    .await;
    assert_eq!(status, 201);

    let (status, changed) = call(
        "PUT",
        format!("/api/canned/{id}"),
        admin.clone(),
        json!({"group": "Welcome", "title": "Greeting", "body": "Hello $NAME!"}),
    )
    .await;
    assert_eq!(
        (status, changed["body"].as_str()),
        (200, Some("Hello $NAME!"))
    );
    let (status, texts) = list().await;
    assert_eq!(status, 200);
    let titles: Vec<(&str, &str)> = texts
        .as_array()
        .unwrap()
        .iter()
        .map(|text| {
            (
                text["group"].as_str().unwrap(),
                text["title"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(titles, [("Billing", "Refunds"), ("Welcome", "Greeting")]);

    let (status, _, _) = http(
        relay.addr,
        "DELETE",
        &format!("/api/canned/{id}"),
        &[("Cookie", &admin), ("Origin", "https://elsewhere.example")],
        "",
    )
    .await;
    assert_eq!(status, 403, "changes only from the console's origin");
    let (status, _) = call(
        "DELETE",
        format!("/api/canned/{id}"),
        admin.clone(),
        Value::Null,
    )
    .await;
    assert_eq!(status, 204);
    let (status, body) = call(
        "DELETE",
        format!("/api/canned/{id}"),
        admin.clone(),
        Value::Null,
    )
    .await;
    assert_eq!((status, body["code"].as_str()), (404, Some("not_found")));
    assert_eq!(list().await.1.as_array().unwrap().len(), 1);
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_see_the_visitors_page_referrer_and_browser() {
    let relay = start().await;
    let (mut agent, _) = relay.agent("ana@example.com", "Ana").await;
    let mut visitor = Ws::connect(
        &relay.url("/ws/visitor"),
        &[(
            "user-agent",
            "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
        )],
    )
    .await;
    visitor
        .send(json!({
            "type": "hello", "v": 1, "site": "demo",
            "page": {"url": "https://shop.example/pricing", "referrer": "https://search.example/?q=chat"}
        }))
        .await;
    visitor.next_of_type("welcome").await;
    visitor.say("m1", "Hello").await;

    let chat = agent.next_of_type("chat").await;
    assert_eq!(chat["page_url"], "https://shop.example/pricing");
    assert_eq!(chat["referrer"], "https://search.example/?q=chat");
    assert_eq!(chat["browser"], "Firefox 128 on Linux");
    relay.stop().await;
}
