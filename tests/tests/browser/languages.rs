//! The widget in the visitor's language: German because the browser prefers it, and
//! Arabic because the profile says so, right to left. Also "Email me the transcript".

use std::sync::atomic::Ordering;

use super::*;

/// Where an element sits on the page: its left edge and its width.
async fn left_and_width(client: &Client, css: &str) -> (f64, f64) {
    let found = client
        .execute(
            "const r = document.querySelector(arguments[0]).getBoundingClientRect(); return [r.left, r.width];",
            vec![json!(css)],
        )
        .await
        .unwrap();
    (found[0].as_f64().unwrap(), found[1].as_f64().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_whose_browser_prefers_german_chats_in_german_and_gets_the_transcript() {
    let harness = Harness::start().await;
    // As if an SMTP server were saved: the widget offers the transcript.
    harness.state.email_on.store(true, Ordering::Relaxed);
    let visitor_profile = tempfile::tempdir().unwrap();
    let visitor = browser_speaking(harness.port, &visitor_profile, "de-DE").await;
    visitor.goto(&format!("{}/", harness.base)).await.unwrap();
    click_launcher(&visitor).await;
    enter_widget(&visitor).await;
    wait_for(&visitor, Locator::XPath("//h1[.='Chatten Sie mit uns']")).await;
    let panel = wait_for(
        &visitor,
        Locator::Css("section.panel[lang='de'][dir='ltr']"),
    )
    .await;
    assert_eq!(
        panel.attr("aria-label").await.unwrap().as_deref(),
        Some("Chat")
    );
    wait_for(
        &visitor,
        Locator::Css("textarea[aria-label='Nachricht'][placeholder='Nachricht schreiben…']"),
    )
    .await
    .send_keys("Wo ist mein Paket?")
    .await
    .unwrap();
    click(&visitor, Locator::Css("button[aria-label='Senden']")).await;
    wait_for(
        &visitor,
        Locator::XPath("//p[@role='status' and .='Warten auf einen Mitarbeiter…']"),
    )
    .await;

    // The agent's console stays English; the relay's events reach the visitor in German.
    let agent_profile = tempfile::tempdir().unwrap();
    let agent = harness.agent(&agent_profile).await;
    click_when(&agent, Locator::XPath("//button[.='Join']")).await;
    wait_for(
        &visitor,
        Locator::XPath("//p[@role='status' and .='Sie chatten mit Admin']"),
    )
    .await;
    wait_for(
        &visitor,
        Locator::XPath("//span[.='Admin ist dem Chat beigetreten']"),
    )
    .await;

    // The menu, in German: the transcript to the address the visitor gives.
    click(&visitor, Locator::Css("button[aria-label='Chat-Optionen']")).await;
    click_when(
        &visitor,
        Locator::XPath("//button[@role='menuitem' and .='Verlauf per E-Mail senden']"),
    )
    .await;
    wait_for(
        &visitor,
        Locator::Css("input[type='email'][aria-label='Ihre E-Mail-Adresse']"),
    )
    .await
    .send_keys("ana@example.com")
    .await
    .unwrap();
    click(
        &visitor,
        Locator::XPath("//form[@role='dialog']//button[.='Senden']"),
    )
    .await;
    wait_for(
        &visitor,
        Locator::XPath("//p[@role='status' and .='Der Verlauf ist unterwegs an ana@example.com.']"),
    )
    .await;
    click(&visitor, Locator::Css("button[aria-label='Chat-Optionen']")).await;
    click_when(
        &visitor,
        Locator::XPath("//button[@role='menuitem' and .='Chat beenden']"),
    )
    .await;
    click_when(
        &visitor,
        Locator::XPath("//div[@role='alertdialog']//button[.='Chat beenden']"),
    )
    .await;
    wait_for(
        &visitor,
        Locator::XPath("//span[.='Der Besucher hat den Chat beendet']"),
    )
    .await;
    screenshot(&visitor, "widget-german").await;
    visitor.close().await.unwrap();
    agent.close().await.unwrap();
    harness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_in_arabic_turns_the_widget_right_to_left_with_its_own_lines() {
    let harness = Harness::start().await;
    let store = &harness.state.store;
    let site = store.site_by_key("demo").await.unwrap().unwrap();
    let arabic = r#"{"name":"Arabic","start":"a","appearance":{"language":"ar","strings":{"ar":{"online":"مرحبًا بك في متجرنا"}}},"steps":[{"id":"a","type":"action","action":"start_live_chat"}]}"#;
    store
        .save_profile(site.id, "Arabic", arabic.into(), true)
        .await
        .unwrap();
    let visitor_profile = tempfile::tempdir().unwrap();
    let visitor = visitor_in_widget(&harness, &visitor_profile).await;
    wait_for(
        &visitor,
        Locator::Css("section.panel[lang='ar'][dir='rtl']"),
    )
    .await;
    wait_for(&visitor, Locator::XPath("//h1[.='تحدث معنا']")).await;
    wait_for(
        &visitor,
        Locator::XPath("//p[@role='status' and .='مرحبًا بك في متجرنا']"),
    )
    .await;
    wait_for(&visitor, Locator::Css("textarea[aria-label='الرسالة']"))
        .await
        .send_keys("أين طلبي؟")
        .await
        .unwrap();
    click(&visitor, Locator::Css("button[aria-label='إرسال']")).await;
    wait_for(
        &visitor,
        Locator::XPath("//p[@role='status' and .='في انتظار أحد الموظفين…']"),
    )
    .await;

    // Right to left: the header's close button sits left of the title, and the
    // visitor's own message on the left of the transcript.
    let (title_left, _) = left_and_width(&visitor, ".title").await;
    let (close_left, _) = left_and_width(&visitor, ".close").await;
    assert!(
        close_left < title_left,
        "× at {close_left}, title at {title_left}"
    );
    let (log_left, log_width) = left_and_width(&visitor, ".log").await;
    let (mine_left, mine_width) = left_and_width(&visitor, ".line.mine").await;
    assert!(
        mine_left + mine_width < log_left + log_width / 2.0 + 1.0,
        "the visitor's message starts at the left: {mine_left}+{mine_width} in {log_left}+{log_width}"
    );
    let direction = visitor
        .execute(
            "return getComputedStyle(document.querySelector('textarea')).direction",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(direction, "rtl");
    screenshot(&visitor, "widget-arabic").await;
    visitor.close().await.unwrap();
    harness.stop().await;
}

/// A LibreTranslate stand-in: every text comes back as `[target] text`.
async fn stand_in_libretranslate() -> String {
    async fn translate(
        axum::Json(body): axum::Json<serde_json::Value>,
    ) -> axum::Json<serde_json::Value> {
        let said = format!(
            "[{}] {}",
            body["target"].as_str().unwrap_or_default(),
            body["q"].as_str().unwrap_or_default()
        );
        axum::Json(json!({ "translatedText": said }))
    }
    let app = axum::Router::new().route("/translate", axum::routing::post(translate));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_replies_in_the_visitors_language_and_keeps_the_original_as_a_note() {
    let service = stand_in_libretranslate().await;
    let harness = Harness::start_with(|config| {
        config.outbound_allow = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let settings = json!({"service": "libretranslate", "url": service, "region": "", "key": ""});
    harness
        .state
        .store
        .set_setting("translation", settings.to_string())
        .await
        .unwrap();
    harness.state.translation_on.store(true, Ordering::Relaxed);

    let visitor_profile = tempfile::tempdir().unwrap();
    let visitor = browser_speaking(harness.port, &visitor_profile, "de-DE").await;
    visitor.goto(&format!("{}/", harness.base)).await.unwrap();
    click_launcher(&visitor).await;
    enter_widget(&visitor).await;
    wait_for(&visitor, Locator::Css("textarea[aria-label='Nachricht']"))
        .await
        .send_keys("Hallo, mein Paket fehlt")
        .await
        .unwrap();
    click(&visitor, Locator::Css("button[aria-label='Senden']")).await;

    let agent_profile = tempfile::tempdir().unwrap();
    let agent = harness.agent(&agent_profile).await;
    click_when(&agent, Locator::XPath("//button[.='Join']")).await;
    wait_for(&agent, Locator::XPath("//dd[.='de-DE']")).await;
    click_when(
        &agent,
        Locator::XPath("//li[contains(@class, 'theirs')]//button[.='Translate']"),
    )
    .await;
    wait_for(
        &agent,
        Locator::XPath("//span[@class='translation' and .='[en] Hallo, mein Paket fehlt']"),
    )
    .await;
    click_when(
        &agent,
        Locator::XPath("//label[.=\"Send in the visitor's language (de-DE)\"]/input"),
    )
    .await;
    wait_for(&agent, Locator::Css("textarea[aria-label='Message']"))
        .await
        .send_keys("We will send a new one today.")
        .await
        .unwrap();
    click(&agent, Locator::Css("button[aria-label='Send']")).await;
    wait_for(
        &visitor,
        Locator::XPath("//span[.='[de] We will send a new one today.']"),
    )
    .await;
    wait_for(
        &agent,
        Locator::XPath("//li[contains(@class, 'note')]//*[contains(., 'Sent in de-DE. The original: We will send a new one today.')]"),
    )
    .await;
    visitor.close().await.unwrap();
    agent.close().await.unwrap();
    harness.stop().await;
}
