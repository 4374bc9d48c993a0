//! The page API on a site's own page: calls made through the stub before the loader
//! has finished are replayed in order (the visitor is identified before the first
//! hello), the page's own button opens the chat, the page hears `ready`, `open`,
//! `message` (author and text, nothing else) and `chat-ended`, and the agent's console
//! shows who the visitor is.

use super::ending::end_from_menu;
use super::loader::{join_and_reply, serve_page, until, use_profile};
use super::*;

/// The stub a site pastes before the loader, so that calls made early are queued.
const STUB: &str = "!function(w,p){p=w.Porchlight=w.Porchlight||function(){(p.q=p.q||[]).push(arguments)};\
    'open close toggle identify setContext clearContext on off destroy'.split(' ').forEach(function(m){\
    p[m]=p[m]||function(){p.apply(0,[m].concat([].slice.call(arguments)))}})}(window);";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_identifies_the_visitor_opens_the_chat_and_hears_its_messages() {
    let harness = Harness::start().await;
    let host = serve_page(shop_page(&harness.base)).await;
    use_profile(
        &harness,
        &format!(
            "name = \"Live\"\nstart = \"live\"\nallowed_origins = [\"{host}\"]\n\
             [[steps]]\nid = \"live\"\ntype = \"action\"\naction = \"start_live_chat\"\n"
        ),
    )
    .await;
    let profile = tempfile::tempdir().unwrap();
    let visitor = browser(harness.port, &profile).await;
    visitor.goto(&format!("{host}/")).await.unwrap();
    until(&visitor, "return window.ready?.online === true").await;

    click(&visitor, Locator::Css("#help")).await;
    assert_eq!(launcher_label(&visitor).await, "Close chat");
    enter_widget(&visitor).await;
    write_in_widget(&visitor, "Where is my order?").await;
    visitor.enter_parent_frame().await.unwrap();

    let chat = join_and_reply(&harness, "It ships today, Ana.").await;
    assert_eq!(
        chat["visitor_name"], "Ana Lima",
        "identified before the first hello"
    );
    let id = chat["conversation_id"].as_i64().unwrap();
    let conversation = harness.state.store.conversation(id).await.unwrap().unwrap();
    let contact = harness
        .state
        .store
        .contact(conversation.visitor_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(contact.known.user_id.as_deref(), Some("42"));
    assert_eq!(contact.known.traits["plan"], "Pro");
    assert_eq!(contact.known.context["order"].value, "#1042\nshipped");

    until(
        &visitor,
        "return heard.some((m) => m.text === 'It ships today, Ana.')",
    )
    .await;
    let heard = visitor.execute("return heard", vec![]).await.unwrap();
    assert_eq!(heard[0], "open", "{heard}");
    let reply = heard
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["text"] == "It ships today, Ana.")
        .unwrap();
    assert_eq!(
        reply,
        &json!({"author": "agent", "text": "It ships today, Ana."}),
        "author and text, nothing else"
    );

    console_shows_the_contact(&harness).await;

    // The visitor ends the chat; the page hears it.
    enter_widget(&visitor).await;
    end_from_menu(&visitor).await;
    visitor.enter_parent_frame().await.unwrap();
    until(&visitor, "return heard.includes('ended')").await;

    // The page closes the chat it opened, then takes the widget away.
    visitor
        .execute("Porchlight.toggle(); Porchlight.destroy()", vec![])
        .await
        .unwrap();
    until(
        &visitor,
        "return !document.getElementById('porchlight') && !window.Porchlight",
    )
    .await;
    visitor.close().await.unwrap();
    harness.stop().await;
}

/// The agent's console shows who the visitor is, as the page said.
async fn console_shows_the_contact(harness: &Harness) {
    let console_profile = tempfile::tempdir().unwrap();
    let agent = harness.agent(&console_profile).await;
    click_when(
        &agent,
        Locator::XPath("//li[contains(@class,'chat')]//button[.//span[.='Ana Lima']]"),
    )
    .await;
    let panel = wait_for(&agent, Locator::Css("section[aria-label='Contact']")).await;
    let shown = panel.text().await.unwrap();
    for line in [
        "42 (not verified)",
        "ana@example.com",
        "plan",
        "Pro",
        "Last order",
        "#1042",
        "shipped",
    ] {
        assert!(shown.contains(line), "{line} in {shown}");
    }
    agent.close().await.unwrap();
}

/// A shop's page that uses the API before the loader has loaded: it identifies the
/// visitor, adds context, listens, and has its own Help button.
fn shop_page(relay: &str) -> String {
    format!(
        "<!doctype html><html><head><title>Shop</title><script>{STUB}\
         window.heard = [];\
         Porchlight.on('ready', function (r) {{ window.ready = r; }});\
         Porchlight.on('open', function () {{ heard.push('open'); }});\
         Porchlight.on('message', function (m) {{ heard.push(m); }});\
         Porchlight.on('chat-ended', function () {{ heard.push('ended'); }});\
         Porchlight.identify({{user_id: 42, name: 'Ana Lima', email: 'ana@example.com', traits: {{plan: 'Pro'}}}});\
         Porchlight('setContext', 'order', {{label: 'Last order', value: ['#1042', 'shipped']}});\
         </script></head><body><h1>Shop</h1><button id=help onclick='Porchlight.open()'>Help</button>\
         <script src='{}/embed.js' data-site='demo' async></script></body></html>",
        relay
    )
}
