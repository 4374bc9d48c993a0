//! `/metrics` for Prometheus: off unless the config turns it on; on the main port or
//! an address of its own, behind a token if one is set; and the figures follow what
//! happens (sockets, messages, the queue and its waits, commits).

mod common;

use common::{TestRelay, http, start, start_configured};
use porchlight_relay::metrics::MetricsSettings;
use serde_json::json;

async fn scrape(
    addr: std::net::SocketAddr,
    token: Option<&str>,
) -> (u16, Vec<(String, String)>, String) {
    let bearer = token.map(|token| format!("Bearer {token}"));
    let headers: Vec<(&str, &str)> = bearer
        .iter()
        .map(|bearer| ("Authorization", bearer.as_str()))
        .collect();
    http(addr, "GET", "/metrics", &headers, "").await
}

/// The value of the sample `series` (name and labels, as exposed).
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no {series} in\n{text}"))
        .parse()
        .unwrap()
}

async fn figures(relay: &TestRelay) -> String {
    let (status, headers, text) = scrape(relay.addr, None).await;
    assert_eq!(status, 200, "{text}");
    let content_type = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("content-type"))
        .map(|(_, value)| value.as_str());
    assert_eq!(
        content_type,
        Some("application/openmetrics-text; version=1.0.0; charset=utf-8")
    );
    assert!(text.ends_with("# EOF\n"));
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_figures_follow_sockets_messages_the_queue_and_commits() {
    if common::sqlite_only("counts SQLite's commits") {
        return;
    }
    let relay = start_configured(tempfile::tempdir().unwrap(), |config| {
        config.metrics.enabled = true;
    })
    .await;
    let text = figures(&relay).await;
    assert_eq!(sample(&text, "porchlight_sockets{kind=\"visitor\"}"), 0.0);
    assert_eq!(sample(&text, "porchlight_queue_length"), 0.0);

    let mut visitor = relay.visitor().await;
    visitor.hello(None, None).await;
    let chat = visitor.say("v-1", "Where is my order?").await["conversation_id"]
        .as_i64()
        .unwrap();
    let (mut agent, _) = relay.agent("ana@example.com", "Ana").await;
    let text = figures(&relay).await;
    assert_eq!(sample(&text, "porchlight_sockets{kind=\"visitor\"}"), 1.0);
    assert_eq!(sample(&text, "porchlight_sockets{kind=\"agent\"}"), 1.0);
    assert_eq!(sample(&text, "porchlight_queue_length"), 1.0);
    assert_eq!(
        sample(&text, "porchlight_messages_total{author=\"visitor\"}"),
        1.0
    );
    assert_eq!(sample(&text, "porchlight_wait_seconds_count"), 0.0);

    agent
        .send(json!({"type": "join", "conversation_id": chat}))
        .await;
    agent.next_of_type("joined").await;
    agent
        .send(json!({"type": "send", "conversation_id": chat, "client_msg_id": "a-1", "body": "On its way"}))
        .await;
    visitor.next_message("On its way").await;
    let text = figures(&relay).await;
    assert_eq!(sample(&text, "porchlight_queue_length"), 0.0);
    assert_eq!(sample(&text, "porchlight_wait_seconds_count"), 1.0);
    assert_eq!(
        sample(&text, "porchlight_messages_total{author=\"agent\"}"),
        1.0
    );
    assert_eq!(
        sample(&text, "porchlight_messages_total{author=\"system\"}"),
        1.0,
        "Ana joined the chat"
    );
    let commits = sample(&text, "porchlight_commit_jobs_count");
    assert!(
        commits >= 3.0,
        "a commit each for the chat, the join and the reply"
    );
    assert!(sample(&text, "porchlight_commit_jobs_sum") >= commits);
    assert_eq!(sample(&text, "porchlight_commit_seconds_count"), commits);
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_off_unless_asked_and_may_have_an_address_and_a_token() {
    let relay = start().await;
    assert_eq!(scrape(relay.addr, None).await.0, 404, "off by default");
    relay.stop().await;

    let relay = start_configured(tempfile::tempdir().unwrap(), |config| {
        config.metrics = MetricsSettings {
            enabled: true,
            addr: Some("127.0.0.1:0".parse().unwrap()),
            token: Some("scrape-secret".into()),
        };
    })
    .await;
    let own = relay.metrics_addr.expect("an address of its own");
    assert_ne!(own, relay.addr);
    assert_eq!(
        scrape(relay.addr, Some("scrape-secret")).await.0,
        404,
        "not on the main port"
    );
    assert_eq!(scrape(own, None).await.0, 401);
    assert_eq!(scrape(own, Some("wrong")).await.0, 401);
    let (status, _, text) = scrape(own, Some("scrape-secret")).await;
    assert_eq!(status, 200);
    assert!(text.contains("# TYPE porchlight_sockets gauge"), "{text}");
    relay.stop().await;
}
