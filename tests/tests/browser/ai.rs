//! The AI agent in the widget and the console, with and without a provider.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_no_ai_provider_the_assistant_cites_the_knowledge_and_hands_over() {
    let harness = Harness::start().await;
    let store = &harness.state.store;
    let site = store.site_by_key("demo").await.unwrap().unwrap().id;
    let knowledge = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/knowledge");
    let files = porchlight_relay::knowledge::import::files(&knowledge).unwrap();
    porchlight_relay::knowledge::import::import_all(store.as_ref(), site, &files, |_, _| {})
        .await
        .unwrap();

    // The AI demo page starts the chat at the assistant.
    let visitor_profile = tempfile::tempdir().unwrap();
    let visitor = browser(harness.port, &visitor_profile).await;
    visitor.goto(&format!("{}/ai", harness.base)).await.unwrap();
    click_launcher(&visitor).await;
    enter_widget(&visitor).await;
    wait_for(
        &visitor,
        Locator::XPath("//span[starts-with(., \"Hi! I'm Acme's AI assistant\")]"),
    )
    .await;
    wait_for(
        &visitor,
        Locator::XPath("//div[@class='choices']//button[.='Talk to a person']"),
    )
    .await;
    let composer = wait_for(&visitor, Locator::Css("textarea[aria-label='Message']")).await;
    assert_eq!(
        composer.attr("disabled").await.unwrap(),
        None,
        "free text is welcome"
    );

    // A question gets the matching passage, quoted and cited.
    composer
        .send_keys("How long do refunds take?")
        .await
        .unwrap();
    click(&visitor, Locator::Css("button[aria-label='Send']")).await;
    wait_for(
        &visitor,
        Locator::XPath("//li[contains(@class,'bot')]//span[@class='body' and contains(., '5 to 10 working days')]"),
    )
    .await;
    wait_for(
        &visitor,
        Locator::XPath("//span[@class='sources']/span[.='Billing and refunds › Refunds']"),
    )
    .await;

    // "Talk to a person" hands over to the queue.
    click(
        &visitor,
        Locator::XPath("//div[@class='choices']//button[.='Talk to a person']"),
    )
    .await;
    wait_for(
        &visitor,
        Locator::XPath("//span[.=\"I'm passing you to a person from the team now.\"]"),
    )
    .await;
    wait_for(
        &visitor,
        Locator::XPath("//p[@class='status' and .='Waiting for an agent…']"),
    )
    .await;

    // The agent who joins sees the AI's answer with its sources; the admin's AI page
    // lists the knowledge.
    let agent_profile = tempfile::tempdir().unwrap();
    let agent = harness.agent(&agent_profile).await;
    click_when(&agent, Locator::XPath("//button[.='Join']")).await;
    wait_for(
        &agent,
        Locator::XPath("//span[@class='sources' and contains(., 'Billing and refunds › Refunds')]"),
    )
    .await;
    click(&agent, Locator::XPath("//button[@class='tab' and .='AI']")).await;
    wait_for(&agent, Locator::XPath("//td[.='Billing and refunds']")).await;
    wait_for(&agent, Locator::XPath("//select[@aria-label='Provider']")).await;

    visitor.close().await.unwrap();
    agent.close().await.unwrap();
    harness.stop().await;
}

/// A stand-in OpenAI-compatible server: a streamed answer that holds after its first
/// piece until `release` is notified, and "Summary: …" / "Suggested: …" /
/// "Translated: …" for the console's helpers.
pub(crate) async fn stand_in_provider(release: std::sync::Arc<tokio::sync::Notify>) -> String {
    use axum::body::{Body, Bytes};
    use axum::extract::Request;

    let app = axum::Router::new().fallback(move |request: Request| {
        let release = std::sync::Arc::clone(&release);
        async move {
            let bytes = axum::body::to_bytes(request.into_body(), 1 << 20)
                .await
                .unwrap();
            let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            if body["stream"] != true {
                let system = body["messages"][0]["content"].as_str().unwrap_or("");
                let text = if system.starts_with("Translate") {
                    "Translated: where is my refund?"
                } else if system.contains("next reply") {
                    "Suggested: your refund is on its way."
                } else {
                    "Summary: the visitor asks about refunds."
                };
                return axum::Json(
                    json!({"choices": [{"message": {"role": "assistant", "content": text}}]}),
                )
                .into_response();
            }
            let chunk = |text: &str| {
                Bytes::from(format!(
                    "data: {}\n\n",
                    json!({"choices": [{"index": 0, "delta": {"content": text}}]})
                ))
            };
            let first = chunk("[[90]] Refunds take ");
            let rest = [
                chunk("5 to 10 working days [1]."),
                Bytes::from("data: [DONE]\n\n"),
            ];
            let pieces = futures_util::stream::once(async move { Ok::<_, std::io::Error>(first) })
                .chain(futures_util::stream::once(async move {
                    release.notified().await;
                    Ok(Bytes::new())
                }))
                .chain(futures_util::stream::iter(rest.map(Ok)));
            axum::response::Response::builder()
                .header("content-type", "text/event-stream")
                .body(Body::from_stream(pieces))
                .unwrap()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/v1", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    base
}

/// Summarise again after closing the summary; Suggest a reply fills the draft, which
/// the agent may edit before sending.
async fn summarises_again_and_suggests_a_reply(agent: &Client) {
    click(
        agent,
        Locator::XPath("//p[@class='ai-summary']/button[@aria-label='Close']"),
    )
    .await;
    wait_for(
        agent,
        Locator::XPath(
            "//div[@class='ai-tools' and not(following-sibling::p[@class='ai-summary'])]",
        ),
    )
    .await;
    click(
        agent,
        Locator::XPath("//div[@class='ai-tools']/button[.='Summarise']"),
    )
    .await;
    wait_for(
        agent,
        Locator::XPath(
            "//p[@class='ai-summary' and contains(., 'Summary: the visitor asks about refunds.')]",
        ),
    )
    .await;
    click(
        agent,
        Locator::XPath("//div[@class='ai-tools']/button[.='Suggest a reply']"),
    )
    .await;
    wait_for_value(
        agent,
        "textarea[aria-label='Message']",
        "Suggested: your refund is on its way.",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_provider_answers_stream_into_the_widget_and_agents_get_a_summary() {
    let release = std::sync::Arc::new(tokio::sync::Notify::new());
    let base_url = stand_in_provider(std::sync::Arc::clone(&release)).await;
    let harness = Harness::start_with(|config| {
        config.ai = porchlight_relay::ai::AiSettings {
            provider: porchlight_relay::ai::ProviderKind::Compatible,
            base_url,
            chat_model: "stand-in".into(),
            ..porchlight_relay::ai::AiSettings::default()
        };
    })
    .await;
    let store = &harness.state.store;
    let site = store.site_by_key("demo").await.unwrap().unwrap().id;
    let knowledge = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/knowledge");
    let files = porchlight_relay::knowledge::import::files(&knowledge).unwrap();
    porchlight_relay::knowledge::import::import_all(store.as_ref(), site, &files, |_, _| {})
        .await
        .unwrap();

    let visitor_profile = tempfile::tempdir().unwrap();
    let visitor = browser(harness.port, &visitor_profile).await;
    visitor.goto(&format!("{}/ai", harness.base)).await.unwrap();
    click_launcher(&visitor).await;
    enter_widget(&visitor).await;
    let composer = wait_for(&visitor, Locator::Css("textarea[aria-label='Message']")).await;
    composer.send_keys("Where is my refund?").await.unwrap();
    click(&visitor, Locator::Css("button[aria-label='Send']")).await;

    // The first words show while the rest is still being written...
    wait_for(
        &visitor,
        Locator::XPath("//li[contains(@class,'streaming')]/span[.='Refunds take ']"),
    )
    .await;
    release.notify_one();
    // ...then the stored answer, with its source, takes the stream's place.
    wait_for(
        &visitor,
        Locator::XPath("//li[contains(@class,'bot') and not(contains(@class,'streaming'))]/span[@class='body' and .='Refunds take 5 to 10 working days [1].']"),
    )
    .await;
    wait_for(
        &visitor,
        Locator::XPath("//span[@class='sources']/span[starts-with(., 'Billing and refunds')]"),
    )
    .await;
    assert!(
        visitor
            .find_all(Locator::Css("li.streaming"))
            .await
            .unwrap()
            .is_empty()
    );

    click(
        &visitor,
        Locator::XPath("//div[@class='choices']//button[.='Talk to a person']"),
    )
    .await;
    wait_for(
        &visitor,
        Locator::XPath("//p[@class='status' and .='Waiting for an agent…']"),
    )
    .await;

    // The agent who picks it up gets a summary at once, and can translate.
    let agent_profile = tempfile::tempdir().unwrap();
    let agent = harness.agent(&agent_profile).await;
    click_when(&agent, Locator::XPath("//button[.='Join']")).await;
    wait_for(
        &agent,
        Locator::XPath(
            "//p[@class='ai-summary' and contains(., 'Summary: the visitor asks about refunds.')]",
        ),
    )
    .await;
    summarises_again_and_suggests_a_reply(&agent).await;
    click_when(
        &agent,
        Locator::XPath("//li[contains(@class,'theirs')]//button[.='Translate']"),
    )
    .await;
    wait_for(
        &agent,
        Locator::XPath("//span[@class='translation' and .='Translated: where is my refund?']"),
    )
    .await;

    visitor.close().await.unwrap();
    agent.close().await.unwrap();
    harness.stop().await;
}
