//! Agents find any chat they may see: by its words (ranked, prefixes too), the
//! visitor's name, the chat's number and a date range, a page at a time.

mod common;

use common::{TestRelay, json_call, queued_chat, start};
use porchlight_protocol::Author;
use porchlight_relay::store::{AccessLevel, DB_FILE, NewMessage};
use serde_json::Value;

/// An ended chat whose visitor wrote `body`; returns its id.
async fn ended_chat(relay: &TestRelay, visitor: usize, body: &str) -> i64 {
    let store = &relay.state.store;
    let site = store.site_by_key("demo").await.unwrap().unwrap();
    let chat = queued_chat(store.as_ref(), site.id, &format!("visitor-{visitor}")).await;
    store
        .append_message(NewMessage::text(
            chat.id,
            Some(format!("v-{visitor}")),
            Author::Visitor,
            None,
            None,
            body.into(),
        ))
        .await
        .unwrap();
    store.end(chat.id, Author::Visitor, None).await.unwrap();
    chat.id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[expect(
    clippy::too_many_lines,
    reason = "one user story, read from start to end"
)]
async fn agents_find_old_chats_by_words_name_number_and_date_a_page_at_a_time() {
    if common::sqlite_only("dates a chat back with SQL on SQLite's file") {
        return;
    }
    let relay = start().await;
    let old = ended_chat(
        &relay,
        0,
        "My invoice INV-7731 shows the wrong refund amount",
    )
    .await;
    for visitor in 1..=60 {
        ended_chat(
            &relay,
            visitor,
            &format!("Question {visitor} about shipping"),
        )
        .await;
    }
    // The old chat started last spring.
    let db = rusqlite::Connection::open(relay.state.config.data_dir.join(DB_FILE)).unwrap();
    db.busy_timeout(std::time::Duration::from_secs(5)).unwrap();
    db.execute(
        "UPDATE conversations SET created_at = 1741600000000 WHERE id = ?1",
        [old],
    )
    .unwrap();
    let admin = relay
        .agent_cookie(&relay.admin().email.clone(), "Admin")
        .await;
    let find = |query: String| {
        let cookie = admin.clone();
        async move {
            json_call(
                relay.addr,
                "GET",
                &format!("/api/conversations/search?{query}"),
                &cookie,
                Value::Null,
            )
            .await
        }
    };
    let ids = |found: &Value| -> Vec<i64> {
        found["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|hit| hit["chat"]["conversation_id"].as_i64().unwrap())
            .collect()
    };

    // Older than the latest 50 the console lists, found by its words and by a prefix.
    for query in ["q=refund%20amount", "q=REFUN", "q=inv-7731"] {
        let (status, found) = find(query.into()).await;
        assert_eq!(status, 200, "{found}");
        assert_eq!(ids(&found), [old], "{query}");
        assert_eq!(found["total"], 1);
        let snippet = found["hits"][0]["snippet"].as_str().unwrap();
        assert!(snippet.contains("refund"), "{snippet}");
        assert_eq!(found["hits"][0]["started_at"], 1_741_600_000_000_i64);
        assert_eq!(found["hits"][0]["chat"]["status"], "ended");
    }
    let (_, found) = find("q=refund%20shipping".into()).await;
    assert_eq!(found["total"], 0, "every word must match");

    // By the visitor's name and by the chat's number.
    let name = relay
        .state
        .store
        .conversation(old)
        .await
        .unwrap()
        .unwrap()
        .visitor_name;
    let (_, found) = find(format!("q={}", name.replace(' ', "%20"))).await;
    assert_eq!(ids(&found).first(), Some(&old), "{found}");
    let (_, found) = find(format!("q=%23{old}")).await;
    assert_eq!(ids(&found), [old]);

    // By an answer the visitor gave the flow; a variable's name is no answer.
    db.execute(
        r#"UPDATE conversations SET flow_state = '{"step":null,"variables":{"email":"zoe@example.com"},"waiting":null}' WHERE id = ?1"#,
        [old],
    )
    .unwrap();
    let (_, found) = find("q=zoe%40example".into()).await;
    assert_eq!(ids(&found), [old]);
    let (_, found) = find("q=variables".into()).await;
    assert_eq!(found["total"], 0, "{found}");

    // By date: last spring holds only the old chat; today holds the others.
    let (_, found) = find("from=2025-03-01&to=2025-03-31".into()).await;
    assert_eq!(ids(&found), [old]);
    let (_, found) = find("q=invoice&from=2026-01-01".into()).await;
    assert_eq!(found["total"], 0);

    // Sixty matches, a page at a time, each once.
    let mut seen = Vec::new();
    for offset in [0, 25, 50] {
        let (_, page) = find(format!("q=shipping&limit=25&offset={offset}")).await;
        assert_eq!(
            (page["total"].as_u64(), page["offset"].as_u64()),
            (Some(60), Some(offset))
        );
        seen.extend(ids(&page));
    }
    assert_eq!(seen.len(), 60);
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), 60, "no chat on two pages");

    // An agent who may only see their own chats finds none of these.
    let own = relay.agent_cookie("own@example.com", "Own").await;
    let own_id = relay
        .state
        .store
        .agent_by_email("own@example.com")
        .await
        .unwrap()
        .unwrap()
        .id;
    relay
        .state
        .store
        .set_agent_access(own_id, AccessLevel::Own)
        .await
        .unwrap();
    let (status, found) = json_call(
        relay.addr,
        "GET",
        "/api/conversations/search?q=refund",
        &own,
        Value::Null,
    )
    .await;
    assert_eq!((status, found["total"].as_u64()), (200, Some(0)));

    // Bad searches get clear errors; nobody logged out searches.
    for (query, problem) in [
        (format!("q={}", "x".repeat(201)), "at most 200"),
        ("from=2025-13-01".into(), "like 2026-11-22"),
        (
            "from=2025-03-02&to=2025-03-01".into(),
            "starts after it ends",
        ),
    ] {
        let (status, body) = find(query).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (422, Some("invalid")),
            "{body}"
        );
        assert!(
            body["message"].as_str().unwrap().contains(problem),
            "{body}"
        );
    }
    let (status, _) = json_call(
        relay.addr,
        "GET",
        "/api/conversations/search?q=refund",
        "",
        Value::Null,
    )
    .await;
    assert_eq!(status, 401);
    relay.stop().await;
}
