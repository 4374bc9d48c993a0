//! Reports and the CSV export, over chats made through real sockets.

mod common;

use common::{header, http, queued_chat, start};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_count_served_and_abandoned_chats_and_export_them_as_csv() {
    let relay = start().await;
    let admin = relay
        .agent_cookie(&relay.admin().email.clone(), "Admin")
        .await;

    // One chat is served and answered...
    let mut served = relay.visitor().await;
    served.hello(None, None).await;
    let chat = served.say("s-1", "Invoice, please").await["conversation_id"]
        .as_i64()
        .unwrap();
    let (mut ana, _) = relay.agent("ana@example.com", "Ana").await;
    ana.send(json!({"type": "join", "conversation_id": chat}))
        .await;
    ana.next_of_type("joined").await;
    ana.send(json!({"type": "send", "conversation_id": chat, "client_msg_id": "a-1", "body": "=SUM(A1) sent, \"today\""}))
        .await;
    ana.next_of_type("ack").await;
    // ...the other is left before anyone joins.
    let mut gone = relay.visitor().await;
    gone.hello(None, None).await;
    gone.say("g-1", "Anyone?").await;
    gone.send(json!({"type": "end_chat"})).await;
    gone.next_status("ended").await;

    let (status, _, body) =
        http(relay.addr, "GET", "/api/reports", &[("Cookie", &admin)], "").await;
    assert_eq!(status, 200, "{body}");
    let report: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(report["chats"], 2);
    assert_eq!(
        (report["queued"].as_u64(), report["abandoned"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(report["per_agent"], json!([{"agent": "Ana", "chats": 1}]));
    assert_eq!(report["per_day"].as_array().unwrap().len(), 7);
    assert_eq!(report["per_day"][6]["chats"], 2, "today is the last day");
    assert_eq!(report["queue_time"]["count"], 1);
    assert_eq!(report["first_response"]["count"], 1);

    let (status, headers, csv) = http(
        relay.addr,
        "GET",
        "/api/reports/chats.csv",
        &[("Cookie", &admin)],
        "",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        header(&headers, "content-type"),
        Some("text/csv; charset=utf-8")
    );
    assert!(
        header(&headers, "content-disposition")
            .unwrap()
            .starts_with("attachment; filename=\"chats-")
    );
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 3, "a header and two chats");
    assert!(
        rows[1].contains(",active,") && rows[1].contains(",Ana,"),
        "{}",
        rows[1]
    );
    assert!(
        rows[2].contains(",ended,") && rows[2].contains(",true,"),
        "{}",
        rows[2]
    );

    let (_, _, csv) = http(
        relay.addr,
        "GET",
        "/api/reports/messages.csv",
        &[("Cookie", &admin)],
        "",
    )
    .await;
    assert!(
        csv.contains(",agent,Ana,text,\"'=SUM(A1) sent, \"\"today\"\"\""),
        "quoted and never a formula: {csv}"
    );
    assert!(csv.contains(",visitor,,text,Anyone?"));

    let agent = relay.agent_cookie("bo@example.com", "Bo").await;
    let (status, _, _) = http(relay.addr, "GET", "/api/reports", &[("Cookie", &agent)], "").await;
    assert_eq!(status, 403, "reports are for admins");
    let (status, _, body) = http(
        relay.addr,
        "GET",
        "/api/reports?from=2026-12-01&to=2026-11-01",
        &[("Cookie", &admin)],
        "",
    )
    .await;
    assert_eq!(status, 422);
    assert!(body.contains("starts after it ends"));
    relay.stop().await;
}

/// More chats than one page of an export or a report holds (200): every one is counted
/// and listed once, in the order they started.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_and_reports_longer_than_a_page_hold_every_chat_once() {
    use porchlight_protocol::Author;
    use porchlight_relay::store::NewMessage;

    let relay = start().await;
    let admin = relay
        .agent_cookie(&relay.admin().email.clone(), "Admin")
        .await;
    let store = &relay.state.store;
    let site = store.site_by_key("demo").await.unwrap().unwrap();
    let mut started = Vec::new();
    for number in 0..450 {
        let chat = queued_chat(store.as_ref(), site.id, &format!("visitor-{number}")).await;
        let body = format!("question {number}");
        let message = NewMessage::text(chat.id, None, Author::Visitor, None, None, body);
        store.append_message(message).await.unwrap();
        started.push(chat.id);
    }

    let (status, _, csv) = http(
        relay.addr,
        "GET",
        "/api/reports/chats.csv",
        &[("Cookie", &admin)],
        "",
    )
    .await;
    assert_eq!(status, 200);
    let listed: Vec<i64> = csv
        .lines()
        .skip(1)
        .map(|row| row.split(',').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(listed, started, "every chat once, oldest first");
    assert_eq!(csv.matches("id,created_at").count(), 1, "one header");

    let (_, _, csv) = http(
        relay.addr,
        "GET",
        "/api/reports/messages.csv",
        &[("Cookie", &admin)],
        "",
    )
    .await;
    let bodies: Vec<&str> = csv
        .lines()
        .skip(1)
        .map(|row| row.rsplit(',').next().unwrap())
        .collect();
    let asked: Vec<String> = (0..450)
        .map(|number| format!("question {number}"))
        .collect();
    assert_eq!(bodies, asked);

    let (_, _, body) = http(relay.addr, "GET", "/api/reports", &[("Cookie", &admin)], "").await;
    let report: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(report["chats"], 450);
    assert_eq!(report["per_day"][6]["chats"], 450, "all today");
    relay.stop().await;
}
