//! A foreign site cannot frame the widget (nor the console), whatever the spelling
//! of the path, until the profile allows its origin, and then only the widget's own
//! address works.

use super::*;

/// The spellings a foreign page tries, widget first.
const SPELLINGS: [&str; 10] = [
    "/widget/?site=demo",
    "/widget//?site=demo",
    "/widget/./?site=demo",
    "/widget/index.html?site=demo",
    "/widget//index.html?site=demo",
    "/widget/%69ndex.html?site=demo",
    "/widget/app.js/../index.html?site=demo",
    "/console/",
    "/console//",
    "/console/./index.html",
];

/// A page on another origin that frames each spelling of the relay's pages and
/// counts the frames that finished loading (blocked ones load an error page).
async fn foreign_site(relay: &str) -> String {
    let frames: String = SPELLINGS
        .iter()
        .map(|path| {
            format!("<iframe src=\"{relay}{path}\" onload=\"window.loaded += 1\"></iframe>")
        })
        .collect();
    let page = format!(
        "<!doctype html><html><head><title>Elsewhere</title><script>window.loaded = 0;</script></head><body>{frames}</body></html>"
    );
    let app = axum::Router::new().route(
        "/",
        axum::routing::get(move || async move { axum::response::Html(page) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    base
}

/// The spellings whose frame shows the widget or the console, once every frame loaded.
async fn framed(client: &Client, foreign: &str) -> Vec<&'static str> {
    client.goto(foreign).await.unwrap();
    let script = "const [count, done] = arguments; \
        const check = () => window.loaded >= count ? done(true) : setTimeout(check, 20); \
        check();";
    let all_loaded = client
        .execute_async(script, vec![json!(SPELLINGS.len())])
        .await
        .unwrap();
    assert_eq!(all_loaded, json!(true));
    let mut shown = Vec::new();
    for (index, path) in SPELLINGS.iter().enumerate() {
        client
            .enter_frame(u16::try_from(index).unwrap())
            .await
            .unwrap();
        let title = client
            .execute("return document.title", vec![])
            .await
            .unwrap();
        if title == json!("Chat") || title == json!("Porchlight console") {
            shown.push(*path);
        }
        client.enter_parent_frame().await.unwrap();
    }
    shown
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_origin_cannot_frame_the_widget_by_any_spelling_until_allowed() {
    let harness = Harness::start().await;
    let foreign = foreign_site(&harness.base).await;
    let profile = tempfile::tempdir().unwrap();
    let client = browser(harness.port, &profile).await;

    assert_eq!(framed(&client, &foreign).await, Vec::<&str>::new());

    // The profile allows the foreign origin: the widget's own address works there
    // (so the check above could see a framed widget), and no other spelling does:
    // not `//`, not `%69ndex.html`, and never the console.
    let origin = foreign.trim_end_matches('/');
    let text = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/helpdesk.toml"),
    )
    .unwrap();
    let mut allowing = Profile::parse(&text, Format::Toml).unwrap();
    allowing.allowed_origins = vec![origin.to_owned()];
    let store = &harness.state.store;
    let site = store.site_by_key("demo").await.unwrap().unwrap();
    store
        .save_profile(
            site.id,
            "Allows elsewhere",
            allowing.render(Format::Json),
            true,
        )
        .await
        .unwrap();
    // (A browser resolves `.` and `..` before it asks, so those spellings are the
    // widget's own address by the time they reach the relay.)
    assert_eq!(
        framed(&client, &foreign).await,
        vec![
            "/widget/?site=demo",
            "/widget/./?site=demo",
            "/widget/index.html?site=demo",
            "/widget/app.js/../index.html?site=demo",
        ]
    );

    client.close().await.unwrap();
    harness.stop().await;
}
