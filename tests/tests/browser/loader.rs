//! The loader on a site's own page: the launcher in the profile's colour, place and
//! icon, availability for the page, the frame's name, the unread badge, loading at
//! once when a chat is going, full screen on a phone, and hiding out of hours.

use porchlight_tests::wire::{connect, login, next_of_type, send_json};
use serde_json::Value;

use super::*;

/// A site's page on its own origin (another port of 127.0.0.1), embedding the relay's
/// loader with `attributes`; it records every `porchlight:availability` it hears.
async fn host_page(relay: &str, attributes: &str) -> String {
    serve_page(format!(
        "<!doctype html><html><head><meta name=viewport content='width=device-width'><title>Site</title></head>\
         <body><h1>A site</h1><script>window.availability = [];\
         addEventListener('porchlight:availability', (e) => availability.push(e.detail.online));</script>\
         <script src='{relay}/embed.js' data-site='demo' {attributes} async></script></body></html>"
    ))
    .await
}

/// Serves `page` at `/` on an origin of its own (another port of 127.0.0.1).
pub(super) async fn serve_page(page: String) -> String {
    let app = axum::Router::new().route(
        "/",
        axum::routing::get(move || {
            let page = page.clone();
            async move { axum::response::Html(page) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    origin
}

/// Makes `toml` (a profile) the demo site's chat profile.
pub(super) async fn use_profile(harness: &Harness, toml: &str) {
    let profile = Profile::parse(toml, Format::Toml).unwrap();
    let store = &harness.state.store;
    let site = store.site_by_key("demo").await.unwrap().unwrap();
    store
        .save_profile(site.id, &profile.name, profile.render(Format::Json), true)
        .await
        .unwrap();
}

/// Runs `script` in the page until it returns `true` (as fantoccini's waits do for
/// elements: the page changes on its own, after a fetch or a socket frame).
pub(super) async fn until(client: &Client, script: &str) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let done = client.execute(script, vec![]).await.unwrap();
        if done == json!(true) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never true: {script}"
        );
        tokio::task::yield_now().await;
    }
}

async fn shadow(client: &Client, expression: &str) -> Value {
    client
        .execute(
            &format!("const root = document.getElementById('porchlight').shadowRoot; return {expression};"),
            vec![],
        )
        .await
        .unwrap()
}

/// The admin joins the waiting chat over the agent socket and answers it; returns
/// the chat as the console saw it.
pub(super) async fn join_and_reply(harness: &Harness, body: &str) -> Value {
    let cookie = login(
        harness.base.trim_start_matches("http://"),
        &harness.admin.password,
    )
    .await
    .unwrap();
    let agent_url = format!("{}/ws/agent", harness.base.replace("http://", "ws://"));
    let mut agent = connect(&agent_url, Some(&cookie)).await.unwrap();
    send_json(&mut agent, json!({"type": "hello", "v": 1}))
        .await
        .unwrap();
    let welcome = next_of_type(&mut agent, "welcome").await.unwrap();
    let summary = welcome["chats"][0].clone();
    let chat = summary["conversation_id"].as_i64().unwrap();
    send_json(&mut agent, json!({"type": "join", "conversation_id": chat}))
        .await
        .unwrap();
    next_of_type(&mut agent, "joined").await.unwrap();
    let reply =
        json!({"type": "send", "conversation_id": chat, "client_msg_id": "a-1", "body": body});
    send_json(&mut agent, reply).await.unwrap();
    next_of_type(&mut agent, "ack").await.unwrap();
    summary
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_loader_draws_the_profiles_launcher_and_follows_the_chat_on_the_sites_page() {
    let harness = Harness::start().await;
    let host = host_page(&harness.base, "").await;
    use_profile(
        &harness,
        &format!(
            "name = \"Launcher\"\nstart = \"hello\"\nallowed_origins = [\"{host}\"]\n\
             [appearance]\ncolour = \"#aa3300\"\nposition = \"left\"\nlauncher_icon = \"help\"\ntitle = \"Acme help\"\n\
             [[steps]]\nid = \"hello\"\ntype = \"message\"\ntext = \"Hi!\"\n"
        ),
    )
    .await;
    let profile = tempfile::tempdir().unwrap();
    let visitor = browser(harness.port, &profile).await;
    visitor.goto(&format!("{host}/")).await.unwrap();

    // The launcher in the profile's look, and the page told the chat is open.
    until(
        &visitor,
        "return document.getElementById('porchlight')?.getAttribute('data-online') === 'true'",
    )
    .await;
    assert_eq!(
        visitor
            .execute("return window.availability", vec![])
            .await
            .unwrap(),
        json!([true])
    );
    assert_eq!(
        shadow(
            &visitor,
            "getComputedStyle(root.querySelector('.l')).backgroundColor"
        )
        .await,
        json!("rgb(170, 51, 0)")
    );
    assert_eq!(
        shadow(&visitor, "getComputedStyle(root.querySelector('.l')).left").await,
        json!("20px")
    );
    assert!(
        shadow(&visitor, "root.querySelector('path').getAttribute('d')")
            .await
            .as_str()
            .unwrap()
            .starts_with("M11 18"),
        "the help icon"
    );

    // The frame is named after the chat for screen readers.
    click_launcher(&visitor).await;
    assert_eq!(
        shadow(&visitor, "root.querySelector('iframe').title").await,
        json!("Acme help")
    );

    // The visitor writes, closes the panel; the agent's answers show as a count.
    enter_widget(&visitor).await;
    write_in_widget(&visitor, "Is the shop open?").await;
    visitor.enter_parent_frame().await.unwrap();
    click_launcher(&visitor).await;
    join_and_reply(&harness, "Yes, until six.").await;
    until(
        &visitor,
        "const b = document.getElementById('porchlight').shadowRoot.querySelector('.b'); return !b.hidden && b.textContent === '2'",
    )
    .await;

    // With a chat going, the next page loads the chat at once, without a click.
    visitor.refresh().await.unwrap();
    until(
        &visitor,
        "const root = document.getElementById('porchlight')?.shadowRoot; return !!root?.querySelector('iframe')",
    )
    .await;
    assert_eq!(launcher_label(&visitor).await, "Open chat");

    // On a phone-sized window the panel takes the whole screen.
    visitor.set_window_size(400, 760).await.unwrap();
    click_launcher(&visitor).await;
    until(
        &visitor,
        "const f = document.getElementById('porchlight').shadowRoot.querySelector('iframe').getBoundingClientRect();\
         return f.left === 0 && f.top === 0 && f.width === innerWidth && f.height === innerHeight",
    )
    .await;

    visitor.close().await.unwrap();
    harness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_hours_the_page_hears_it_and_data_hide_offline_hides_the_launcher() {
    let harness = Harness::start().await;
    let hiding = host_page(&harness.base, "data-hide-offline").await;
    let showing = host_page(&harness.base, "").await;
    use_profile(
        &harness,
        "name = \"Closed\"\nstart = \"hello\"\n[working_hours]\ntime_zone = \"UTC\"\n\
         [working_hours.schedule]\n\
         [[steps]]\nid = \"hello\"\ntype = \"message\"\ntext = \"Hi!\"\n",
    )
    .await;
    let profile = tempfile::tempdir().unwrap();
    let visitor = browser(harness.port, &profile).await;

    visitor.goto(&format!("{hiding}/")).await.unwrap();
    until(
        &visitor,
        "return document.getElementById('porchlight')?.getAttribute('data-online') === 'false'",
    )
    .await;
    assert_eq!(
        visitor
            .execute("return window.availability", vec![])
            .await
            .unwrap(),
        json!([false])
    );
    assert_eq!(
        visitor
            .execute(
                "return document.getElementById('porchlight').hidden",
                vec![]
            )
            .await
            .unwrap(),
        json!(true)
    );

    // Without the attribute the launcher stays (the chat takes a message instead).
    visitor.goto(&format!("{showing}/")).await.unwrap();
    until(
        &visitor,
        "return document.getElementById('porchlight')?.getAttribute('data-online') === 'false'",
    )
    .await;
    assert_eq!(
        visitor
            .execute(
                "return document.getElementById('porchlight').hidden",
                vec![]
            )
            .await
            .unwrap(),
        json!(false)
    );

    visitor.close().await.unwrap();
    harness.stop().await;
}
