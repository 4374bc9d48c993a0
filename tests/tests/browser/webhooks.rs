//! The Webhooks section of a site: an admin adds an endpoint (its secret shown once),
//! a visitor's message reaches the receiver, the Deliveries tab shows the request and
//! redelivers it with the same webhook-id, and the endpoint is turned off.

use axum::http::{HeaderMap, StatusCode};
use tokio::sync::mpsc;

use super::*;

/// A receiver on a free port answering 204, reporting each request's webhook-id.
async fn receiver() -> (String, mpsc::UnboundedReceiver<String>) {
    let (tx, rx) = mpsc::unbounded_channel::<String>();
    let hook = move |headers: HeaderMap| {
        let tx = tx.clone();
        async move {
            let id = headers["webhook-id"]
                .to_str()
                .unwrap_or_default()
                .to_owned();
            let _ = tx.send(id);
            StatusCode::NO_CONTENT
        }
    };
    let app = axum::Router::new().route("/hook", axum::routing::post(hook));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, rx)
}

async fn next_request(requests: &mut mpsc::UnboundedReceiver<String>) -> String {
    tokio::time::timeout(Duration::from_secs(10), requests.recv())
        .await
        .expect("the webhook was called")
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_adds_a_webhook_sees_its_deliveries_and_redelivers_one() {
    let harness = Harness::start_with(|config| {
        config.outbound_allow = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let (url, mut requests) = receiver().await;
    let profile = tempfile::tempdir().unwrap();
    let admin = harness.agent(&profile).await;
    click_when(&admin, Locator::XPath("//nav//button[.='Sites']")).await;
    let section = "section[aria-label='Site demo'] section[aria-label='Webhooks']";
    wait_for(
        &admin,
        Locator::Css(&format!("{section} input[aria-label='Webhook name']")),
    )
    .await;
    fill_fields(&admin, &[("Webhook name", "CRM"), ("Webhook URL", &url)]).await;
    click(
        &admin,
        Locator::Css(&format!("{section} input[aria-label='Ticket created']")),
    )
    .await;
    admin
        .find(Locator::Css(&format!(
            "{section} select[aria-label='Message types']"
        )))
        .await
        .unwrap()
        .select_by_value("visitor")
        .await
        .unwrap();
    click(&admin, Locator::XPath("//button[.='Add webhook']")).await;
    let secret = wait_for(&admin, Locator::Css(&format!("{section} p.made-key code")))
        .await
        .text()
        .await
        .unwrap();
    assert!(secret.starts_with("whsec_"), "{secret}");
    let line = wait_for(&admin, Locator::Css("li[aria-label='Webhook CRM']"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        line.contains("Chat message sent, Ticket created (Visitors, in live and bot chat)"),
        "{line}"
    );

    // A visitor's message reaches the receiver.
    let (visitor, _) = visitor_said(&harness, "hooked", "Hello hooks").await;
    let site = visitor.site_id;
    let webhook_id = next_request(&mut requests).await;

    // The Deliveries tab shows it; redelivering sends the same request again.
    let hook = "//li[@aria-label='Webhook CRM']";
    click(
        &admin,
        Locator::XPath(&format!("{hook}//button[.='Deliveries']")),
    )
    .await;
    let row = wait_for(
        &admin,
        Locator::XPath(&format!(
            "{hook}//table[@aria-label='Deliveries']//tbody/tr"
        )),
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(
        row.contains("chat.message") && row.contains("delivered") && row.contains("204"),
        "{row}"
    );
    click(
        &admin,
        Locator::XPath(&format!("{hook}//button[.='Redeliver']")),
    )
    .await;
    assert_eq!(next_request(&mut requests).await, webhook_id);

    click(
        &admin,
        Locator::XPath(&format!("{hook}//button[.='Turn off']")),
    )
    .await;
    wait_for(
        &admin,
        Locator::XPath(&format!(
            "{hook}[contains(@class, 'off')]//button[.='Turn on']"
        )),
    )
    .await;
    assert!(!harness.state.store.webhooks(site).await.unwrap()[0].enabled);
    admin.close().await.unwrap();
    harness.stop().await;
}
