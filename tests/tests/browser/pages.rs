//! Console pages beyond the first screen: Reports as the page shows them, the AI
//! page's knowledge and provider tools, and "Try it" beside a visitor's own chat.

use porchlight_tests::wire::{Socket, connect, next_of_type, send_json};

use super::*;

/// A visitor socket that has said hello and one message; returns it and its chat.
async fn visitor_says(harness: &Harness, body: &str) -> (Socket, i64) {
    let url = format!("{}/ws/visitor", harness.base.replace("http://", "ws://"));
    let mut visitor = connect(&url, None).await.unwrap();
    send_json(
        &mut visitor,
        json!({"type": "hello", "v": 1, "site": "demo"}),
    )
    .await
    .unwrap();
    next_of_type(&mut visitor, "welcome").await.unwrap();
    send_json(
        &mut visitor,
        json!({"type": "send", "client_msg_id": "v-1", "body": body}),
    )
    .await
    .unwrap();
    let ack = next_of_type(&mut visitor, "ack").await.unwrap();
    (visitor, ack["conversation_id"].as_i64().unwrap())
}

/// Sets a date field as a person picking a date would (its text format depends on
/// the browser's locale, so it is not typed).
async fn pick_date(client: &Client, label: &str, date: &str) {
    let field = client
        .find(Locator::Css(&format!("input[aria-label='{label}']")))
        .await
        .unwrap();
    client
        .execute(
            "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input', {bubbles: true}));",
            vec![serde_json::to_value(&field).unwrap(), json!(date)],
        )
        .await
        .unwrap();
}

/// The figure shown under `term`, once it reads as `shown` says.
async fn figure(client: &Client, term: &str, shown: &str) {
    wait_for(
        client,
        Locator::XPath(&format!(
            "//dl[@aria-label='Figures']/div[dt[.='{term}']]/dd[{shown}]"
        )),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reports_page_shows_the_weeks_figures_and_any_range_asked_for() {
    let harness = Harness::start().await;
    let profile = tempfile::tempdir().unwrap();
    let admin = harness.agent(&profile).await;
    wait_for(&admin, Locator::XPath("//h2[.='Chats']")).await;

    // One chat is answered by the admin; the other is left before anyone joins.
    let (_served, _) = visitor_says(&harness, "Invoice, please").await;
    click_when(
        &admin,
        Locator::XPath("//li[contains(@class,'ringing')]//button[.='Join']"),
    )
    .await;
    let reply = wait_for(&admin, Locator::Css("textarea[aria-label='Message']")).await;
    reply.send_keys("Here it is.").await.unwrap();
    click(&admin, Locator::Css("button[aria-label='Send']")).await;
    wait_for(
        &admin,
        Locator::XPath("//li[contains(@class,'mine')]//span[.='Here it is.']"),
    )
    .await;
    let (mut gone, _) = visitor_says(&harness, "Anyone?").await;
    send_json(&mut gone, json!({"type": "end_chat"}))
        .await
        .unwrap();
    loop {
        let frame = next_of_type(&mut gone, "status").await.unwrap();
        if frame["status"] == "ended" {
            break;
        }
    }

    click(&admin, Locator::XPath("//nav//button[.='Reports']")).await;
    figure(&admin, "Chats", ".='2'").await;
    figure(&admin, "Abandoned", ".='1 of 2 (50%)'").await;
    // Both waited (a few seconds at most); one was answered.
    figure(
        &admin,
        "Queue time, median",
        "substring(., string-length(.) - 1) = ' s'",
    )
    .await;
    figure(
        &admin,
        "First response, median",
        "substring(., string-length(.) - 1) = ' s'",
    )
    .await;
    let today = admin
        .execute("return new Date().toISOString().slice(5, 10)", vec![])
        .await
        .unwrap();
    let today = today.as_str().unwrap();
    wait_for(
        &admin,
        Locator::XPath(&format!(
            "//*[local-name()='svg' and starts-with(@aria-label, 'Chats per day:') and substring(@aria-label, string-length(@aria-label) - string-length('{today}: 2') + 1) = '{today}: 2']"
        )),
    )
    .await;
    wait_for(
        &admin,
        Locator::XPath("//*[local-name()='svg' and @aria-label='Chats per agent: Admin: 1']"),
    )
    .await;

    // A week long ago: nothing in it, and the exports follow the range.
    pick_date(&admin, "From", "2020-01-01").await;
    pick_date(&admin, "To", "2020-01-07").await;
    click(&admin, Locator::XPath("//button[.='Show']")).await;
    figure(&admin, "Chats", ".='0'").await;
    figure(&admin, "Abandoned", ".='none'").await;
    figure(&admin, "Queue time, median", ".='—'").await;
    wait_for(
        &admin,
        Locator::XPath("//main[h2[.='Reports'] and not(.//figcaption[.='Chats per agent'])]"),
    )
    .await;
    wait_for(
        &admin,
        Locator::XPath("//a[.='Export chats (CSV)' and @href='/api/reports/chats.csv?from=2020-01-01&to=2020-01-07']"),
    )
    .await;

    // A range that ends before it starts is refused, in words.
    pick_date(&admin, "From", "2020-02-01").await;
    click(&admin, Locator::XPath("//button[.='Show']")).await;
    wait_for(
        &admin,
        Locator::XPath("//p[@role='alert' and .='The range starts after it ends.']"),
    )
    .await;

    admin.close().await.unwrap();
    harness.stop().await;
}

/// A small help site: a start page that links to a second page.
async fn help_site() -> String {
    let page = |title: &str, body: &str| {
        axum::response::Html(format!(
            "<!doctype html><html><head><title>{title}</title></head><body><main><h1>{title}</h1>{body}</main></body></html>"
        ))
    };
    let start = page(
        "Help centre",
        "<h2>Opening hours</h2><p>We answer from nine to five on weekdays.</p><a href=\"/returns\">Returns</a>",
    );
    let returns = page(
        "Returns",
        "<h2>How to return</h2><p>Send the parcel back within thirty days for a full refund.</p>",
    );
    let app = axum::Router::new()
        .route("/", axum::routing::get(move || async move { start }))
        .route(
            "/returns",
            axum::routing::get(move || async move { returns }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    base
}

/// Test connection: the saved provider answers, and an address nothing listens on
/// fails, in words, without being saved.
async fn tests_the_connection_as_saved_and_as_typed(harness: &Harness, admin: &Client) {
    click_when(admin, Locator::XPath("//button[.='Test connection']")).await;
    wait_for(
        admin,
        Locator::XPath("//p[@role='status' and .='Connection works: Chat works (stand-in).']"),
    )
    .await;
    // Edited, not saved: the form's settings are what is tested.
    let base = admin
        .find(Locator::Css("input[aria-label='Base URL']"))
        .await
        .unwrap();
    paste(admin, &base, "http://127.0.0.1:9/v1").await;
    click(admin, Locator::XPath("//button[.='Test connection']")).await;
    wait_for(
        admin,
        Locator::XPath("//p[@role='status' and starts-with(., 'Connection failed: ')]"),
    )
    .await;
    let saved = harness.state.ai.settings();
    assert_ne!(
        saved.base_url, "http://127.0.0.1:9/v1",
        "testing saves nothing"
    );
}

/// Upload: a Markdown file becomes a document with its passages.
async fn uploads_a_markdown_file(admin: &Client) {
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("shipping.md");
    std::fs::write(
        &file,
        "# Shipping\n\n## Times\n\nParcels arrive in three days.\n\n## Costs\n\nShipping is free over 50 euros.\n",
    )
    .unwrap();
    admin
        .find(Locator::Css("input[aria-label='Upload knowledge']"))
        .await
        .unwrap()
        .send_keys(file.to_str().unwrap())
        .await
        .unwrap();
    wait_for(
        admin,
        Locator::XPath("//p[@role='status' and starts-with(., 'shipping.md: added (')]"),
    )
    .await;
    wait_for(
        admin,
        Locator::XPath("//tr[td[1][.='Shipping'] and td[2][.='upload:shipping.md']]"),
    )
    .await;
}

/// Crawl: the start page and the page it links to.
async fn crawls_the_help_site(admin: &Client, site: &str) {
    let crawl = admin
        .find(Locator::Css("input[aria-label='Site to crawl']"))
        .await
        .unwrap();
    crawl.send_keys(site).await.unwrap();
    click(admin, Locator::XPath("//button[.='Crawl']")).await;
    wait_for(
        admin,
        Locator::XPath("//p[@role='status' and .='Crawled 2 page(s): 2 added, 0 updated, 0 unchanged, 0 skipped.']"),
    )
    .await;
    wait_for(
        admin,
        Locator::XPath(&format!(
            "//tr[td[1][.='Help centre'] and td[2][.='{site}']]"
        )),
    )
    .await;
    wait_for(
        admin,
        Locator::XPath(&format!(
            "//tr[td[1][.='Returns'] and td[2][.='{site}returns']]"
        )),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ai_page_uploads_crawls_deletes_and_tests_the_provider() {
    let base_url =
        super::ai::stand_in_provider(std::sync::Arc::new(tokio::sync::Notify::new())).await;
    let harness = Harness::start_with(|config| {
        config.ai = porchlight_relay::ai::AiSettings {
            provider: porchlight_relay::ai::ProviderKind::Compatible,
            base_url,
            chat_model: "stand-in".into(),
            ..porchlight_relay::ai::AiSettings::default()
        };
        // The help site runs on loopback, which a crawl may reach only when allowed.
        config.outbound_allow = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let site = help_site().await;
    let profile = tempfile::tempdir().unwrap();
    let admin = harness.agent(&profile).await;
    click_when(&admin, Locator::XPath("//nav//button[.='AI']")).await;

    tests_the_connection_as_saved_and_as_typed(&harness, &admin).await;
    uploads_a_markdown_file(&admin).await;
    crawls_the_help_site(&admin, &site).await;

    // Delete: the uploaded document goes, the crawled ones stay, and search no
    // longer finds its words.
    click(
        &admin,
        Locator::XPath("//tr[td[1][.='Shipping']]//button[.='Delete']"),
    )
    .await;
    wait_for(
        &admin,
        Locator::XPath("//p[@role='status' and .='Deleted.']"),
    )
    .await;
    wait_for(
        &admin,
        Locator::XPath(
            "//table[@class='knowledge-list' and not(.//td[.='Shipping']) and .//td[.='Returns']]",
        ),
    )
    .await;
    let store = &harness.state.store;
    let demo = store.site_by_key("demo").await.unwrap().unwrap().id;
    let hits = porchlight_relay::knowledge::search(store.as_ref(), demo, "parcels arrive", 5, None)
        .await
        .unwrap();
    assert!(
        hits.iter().all(|hit| hit.source != "upload:shipping.md"),
        "{hits:?}"
    );
    let hits =
        porchlight_relay::knowledge::search(store.as_ref(), demo, "return the parcel", 5, None)
            .await
            .unwrap();
    assert_eq!(hits.first().map(|hit| hit.title.as_str()), Some("Returns"));

    admin.close().await.unwrap();
    harness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trying_a_profile_leaves_the_admins_own_chat_as_a_visitor_and_the_sites_profile_alone() {
    let harness = Harness::start().await;
    let profile = tempfile::tempdir().unwrap();
    let client = browser(harness.port, &profile).await;

    // The admin, as a visitor on the site, has a chat going.
    client.goto(&format!("{}/", harness.base)).await.unwrap();
    click_launcher(&client).await;
    enter_widget(&client).await;
    wait_for(&client, Locator::Css("textarea[aria-label='Message']"))
        .await
        .send_keys("My own question")
        .await
        .unwrap();
    click(&client, Locator::Css("button[aria-label='Send']")).await;
    wait_for(&client, Locator::XPath("//li[contains(@class,'mine') and not(contains(@class,'pending'))]//span[.='My own question']")).await;

    // In the console, a new profile (not the site's) is saved and tried.
    harness
        .sign_in(&client, &harness.admin.email, &harness.admin.password)
        .await;
    click_when(&client, Locator::XPath("//nav//button[.='Profiles']")).await;
    click_when(&client, Locator::XPath("//button[.='New profile']")).await;
    let source = client
        .find(Locator::Css("textarea[aria-label='Profile']"))
        .await
        .unwrap();
    let example = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/helpdesk.toml"),
    )
    .unwrap();
    paste(&client, &source, &example).await;
    click(&client, Locator::XPath("//button[.='Save']")).await;
    click_when(&client, Locator::XPath("//button[.='Try it']")).await;
    wait_for(&client, Locator::Css("iframe[title='Chat preview']"))
        .await
        .enter_frame()
        .await
        .unwrap();
    wait_for(&client, Locator::XPath("//h1[.='Acme Plumbing']")).await;
    let bot_said = wait_for(
        &client,
        Locator::XPath("//li[contains(@class,'bot')]//span[@class='body']"),
    )
    .await
    .text()
    .await
    .unwrap();

    // Back on the site: the admin's own chat is as it was, on the site's profile.
    client.goto(&format!("{}/", harness.base)).await.unwrap();
    click_launcher(&client).await;
    enter_widget(&client).await;
    wait_for(&client, Locator::XPath("//li[contains(@class,'mine') and not(contains(@class,'pending'))]//span[.='My own question']")).await;
    let title = wait_for(&client, Locator::Css("h1"))
        .await
        .text()
        .await
        .unwrap();
    assert_ne!(
        title, "Acme Plumbing",
        "the site's profile, not the one tried"
    );
    assert!(
        client
            .find(Locator::XPath(&format!("//span[.={bot_said:?}]")))
            .await
            .is_err(),
        "nothing of the preview in the visitor's own chat"
    );
    let store = &harness.state.store;
    let demo = store.site_by_key("demo").await.unwrap().unwrap();
    let default = store
        .profile(demo.default_profile_id.unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        default.name, "Default",
        "the site still runs its own profile"
    );

    client.close().await.unwrap();
    harness.stop().await;
}
