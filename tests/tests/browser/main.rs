//! The whole product in a real browser: headless Chromium driven over WebDriver by
//! Debian's chromedriver, against a relay on 127.0.0.1:0 serving the built widget and
//! console (`make test` builds them first). One binary, one file of tests per part of
//! the product; this file holds the harness and the helpers they share.

mod ai;
mod alerts;
mod chat;
mod console;
mod ending;
mod framing;
mod languages;
mod links;
mod loader;
mod notes;
mod page_api;
mod pages;
mod replies;
mod search;
mod sending;
mod sites;
mod webhooks;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use axum::response::IntoResponse;
use fantoccini::{Client, ClientBuilder, Locator};
use futures_util::StreamExt;
use hyper_util::client::legacy::connect::HttpConnector;
use porchlight_relay::config::Config;
use porchlight_relay::flow::{Format, Profile};
use porchlight_relay::server::Relay;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub(crate) const PATIENCE: Duration = Duration::from_secs(20);

pub(crate) fn dist() -> PathBuf {
    let dist = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../dist");
    assert!(
        dist.join("widget/index.html").exists() && dist.join("console/index.html").exists(),
        "the widget and console are not built: run `make test`, which builds them"
    );
    dist
}

/// Starts chromedriver on a free port and waits for its "started" line.
pub(crate) async fn chromedriver() -> (Child, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("chromedriver is installed (make test installs chromium-driver)");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    tokio::time::timeout(PATIENCE, async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if line.contains("started successfully") {
                return;
            }
        }
        panic!("chromedriver exited before it started");
    })
    .await
    .expect("chromedriver started in time");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, port)
}

pub(crate) async fn browser(port: u16, profile: &tempfile::TempDir) -> Client {
    browser_speaking(port, profile, "en-US").await
}

/// A browser whose visitor prefers `language` (a BCP 47 tag, `navigator.languages`).
pub(crate) async fn browser_speaking(
    port: u16,
    profile: &tempfile::TempDir,
    language: &str,
) -> Client {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--window-size=1200,900",
                format!("--user-data-dir={}", profile.path().display()),
                format!("--lang={language}"), format!("--accept-lang={language}"),
            ],
            "prefs": { "intl.accept_languages": language },
        }),
    );
    ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a Chromium session")
}

/// Runs JS in the host page against the loader's shadow root.
pub(crate) async fn launcher_label(client: &Client) -> String {
    client
        .execute(
            "return document.getElementById('porchlight').shadowRoot.querySelector('button').getAttribute('aria-label')",
            vec![],
        )
        .await
        .unwrap()
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

pub(crate) async fn click_launcher(client: &Client) {
    client
        .execute(
            "document.getElementById('porchlight').shadowRoot.querySelector('button').click()",
            vec![],
        )
        .await
        .unwrap();
}

/// Switches into the widget's iframe, which lives in the loader's shadow root.
pub(crate) async fn enter_widget(client: &Client) {
    let host = client.find(Locator::Css("#porchlight")).await.unwrap();
    let root = host.shadow_root().await.unwrap();
    let frame = root.find(Locator::Css("iframe")).await.unwrap();
    frame.enter_frame().await.unwrap();
}

/// Types each text into the input labelled so (waiting for each to appear).
pub(crate) async fn fill_fields(client: &Client, fields: &[(&str, &str)]) {
    for (label, text) in fields {
        wait_for(
            client,
            Locator::Css(&format!("input[aria-label=\"{label}\"]")),
        )
        .await
        .send_keys(text)
        .await
        .unwrap();
    }
}

/// A visitor of the demo site (known by `token`) whose waiting chat holds `body`, made
/// through the store; returns the visitor and the chat.
pub(crate) async fn visitor_said(
    harness: &Harness,
    token: &str,
    body: &str,
) -> (
    porchlight_relay::store::Visitor,
    porchlight_relay::store::Conversation,
) {
    let store = &harness.state.store;
    let site = store.site_by_key("demo").await.unwrap().unwrap();
    let visitor = store.create_visitor(site.id, token.into()).await.unwrap();
    let new = porchlight_relay::store::NewConversation {
        site_id: site.id,
        visitor_id: visitor.id,
        profile_id: None,
        page_url: None,
        referrer: None,
        user_agent: None,
        ticket_id: None,
    };
    let (chat, _) = store
        .open_or_start_conversation(new, porchlight_protocol::ConversationStatus::Queued)
        .await
        .unwrap();
    let said = porchlight_relay::store::NewMessage::text(
        chat.id,
        Some(format!("{token}-1")),
        porchlight_protocol::Author::Visitor,
        None,
        None,
        body.into(),
    );
    store.append_message(said).await.unwrap();
    (visitor, chat)
}

/// In the widget's frame: writes `text`, sends it, and waits until it is stored.
pub(crate) async fn write_in_widget(client: &Client, text: &str) {
    wait_for(client, Locator::Css("textarea[aria-label='Message']"))
        .await
        .send_keys(text)
        .await
        .unwrap();
    click(client, Locator::Css("button[aria-label='Send']")).await;
    wait_for(
        client,
        Locator::XPath("//li[contains(@class,'mine') and not(contains(@class,'pending'))]"),
    )
    .await;
}

/// Waits for the element to appear, then clicks it.
/// A visitor on the demo page with the widget open, the driver inside its frame.
pub(crate) async fn visitor_in_widget(harness: &Harness, profile: &tempfile::TempDir) -> Client {
    let visitor = browser(harness.port, profile).await;
    visitor.goto(&format!("{}/", harness.base)).await.unwrap();
    click_launcher(&visitor).await;
    enter_widget(&visitor).await;
    visitor
}

pub(crate) async fn click_when(client: &Client, locator: Locator<'_>) {
    wait_for(client, locator).await.click().await.unwrap();
}

pub(crate) async fn click(client: &Client, locator: Locator<'_>) {
    client.find(locator).await.unwrap().click().await.unwrap();
}

pub(crate) async fn wait_for(
    client: &Client,
    locator: Locator<'_>,
) -> fantoccini::elements::Element {
    client
        .wait()
        .at_most(PATIENCE)
        .for_element(locator)
        .await
        .unwrap_or_else(|err| panic!("{locator:?} did not appear: {err}"))
}

/// Saves what the browser shows as `screenshots/NAME.png` in the tests' scratch folder
/// (`target/tmp`): `docs/` has copies for the README.
pub(crate) async fn screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "a PNG picture");
    let folder = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join(format!("{name}.png")), png).unwrap();
}

/// A relay on 127.0.0.1:0 serving the built assets, and chromedriver beside it.
pub(crate) struct Harness {
    base: String,
    admin: porchlight_relay::server::SeededAdmin,
    state: porchlight_relay::state::AppState,
    port: u16,
    config: Config,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<Result<(), porchlight_relay::server::StartError>>,
    _driver: Child,
    _data: tempfile::TempDir,
}

pub(crate) type Serving = (
    porchlight_relay::state::AppState,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<Result<(), porchlight_relay::server::StartError>>,
);

/// Runs `relay` on `listener` until the returned sender fires.
pub(crate) fn serve(relay: Relay, listener: tokio::net::TcpListener) -> Serving {
    let state = relay.state().clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(relay.run(listener, async {
        let _ = stopped.await;
    }));
    (state, stop, server)
}

impl Harness {
    async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// A harness whose relay's settings `edit` changes (an AI provider, say).
    async fn start_with(edit: impl FnOnce(&mut Config)) -> Self {
        let data = tempfile::tempdir().unwrap();
        let mut config = Config {
            data_dir: data.path().to_owned(),
            assets_dir: dist(),
            ..Config::default()
        };
        edit(&mut config);
        let (relay, admin) = Relay::open(config.clone()).await.unwrap();
        // The first admin's one-time password kept as their own (the first login,
        // where it is replaced, has its own test).
        let store = &relay.state().store;
        let first = store
            .agent_by_email(porchlight_relay::server::DEMO_ADMIN_EMAIL)
            .await
            .unwrap()
            .unwrap();
        store
            .set_password(first.id, first.password_hash, None)
            .await
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (state, stop, server) = serve(relay, listener);
        let (driver, port) = chromedriver().await;
        Self {
            base,
            admin: admin.unwrap(),
            state,
            port,
            config,
            stop,
            server,
            _driver: driver,
            _data: data,
        }
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        self.server.await.unwrap().unwrap();
    }

    /// Stops the relay (every socket closes), lets `meanwhile` run while it is down,
    /// then starts it again on the same address and data.
    async fn restart(mut self, meanwhile: impl AsyncFnOnce()) -> Self {
        let _ = self.stop.send(());
        self.server.await.unwrap().unwrap();
        meanwhile().await;
        let (relay, _) = Relay::open(self.config.clone()).await.unwrap();
        let address = self.base.trim_start_matches("http://");
        let listener = tokio::net::TcpListener::bind(address).await.unwrap();
        (self.state, self.stop, self.server) = serve(relay, listener);
        self
    }

    /// An agent logged into the console in a browser of its own.
    async fn agent(&self, profile: &tempfile::TempDir) -> Client {
        self.log_in(profile, &self.admin.email, &self.admin.password)
            .await
    }

    async fn log_in(&self, profile: &tempfile::TempDir, email: &str, password: &str) -> Client {
        let agent = browser(self.port, profile).await;
        self.sign_in(&agent, email, password).await;
        agent
    }

    /// Opens the console in `client` and logs in there.
    async fn sign_in(&self, client: &Client, email: &str, password: &str) {
        client
            .goto(&format!("{}/console/", self.base))
            .await
            .unwrap();
        wait_for(client, Locator::Css("input[type='email']"))
            .await
            .send_keys(email)
            .await
            .unwrap();
        client
            .find(Locator::Css("input[type='password']"))
            .await
            .unwrap()
            .send_keys(password)
            .await
            .unwrap();
        click(client, Locator::XPath("//button[.='Log in']")).await;
    }

    /// A second agent in the Support team, with a password.
    async fn add_agent(&self, email: &str, name: &str, password: &str) {
        let hash = porchlight_relay::auth::hash_password(password).unwrap();
        let store = &self.state.store;
        let agent = store
            .create_agent(email, name, porchlight_relay::store::Role::Agent, hash)
            .await
            .unwrap();
        store
            .set_agent_teams(agent.id, vec!["Support".into()])
            .await
            .unwrap();
    }
}

/// The example help-desk profile, open around the clock for the test.
pub(crate) async fn use_helpdesk(harness: &Harness) {
    let text = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/helpdesk.toml"),
    )
    .unwrap();
    let mut profile = Profile::parse(&text, Format::Toml).unwrap();
    profile.working_hours = None;
    let store = &harness.state.store;
    let site = store.site_by_key("demo").await.unwrap().unwrap();
    store
        .save_profile(site.id, &profile.name, profile.render(Format::Json), true)
        .await
        .unwrap();
}

/// Waits until the field's value (a property, which XPath cannot see) is `expected`.
pub(crate) async fn wait_for_value(client: &Client, css: &str, expected: &str) {
    let script = "const [css, expected, done] = arguments; \
        const check = () => { const field = document.querySelector(css); \
            if (field && field.value === expected) { done(true); } else { setTimeout(check, 20); } }; \
        check();";
    let seen = tokio::time::timeout(
        PATIENCE,
        client.execute_async(script, vec![json!(css), json!(expected)]),
    )
    .await;
    assert!(
        matches!(seen, Ok(Ok(Value::Bool(true)))),
        "{css} never held {expected:?}: {seen:?}"
    );
}

/// A key pressed with no field focused.
pub(crate) async fn press(client: &Client, key: &str) {
    client
        .execute(
            "window.dispatchEvent(new KeyboardEvent('keydown', {key: arguments[0]}))",
            vec![json!(key)],
        )
        .await
        .unwrap();
}

/// Replaces a textarea's text as a paste would, firing its input event.
pub(crate) async fn paste(client: &Client, element: &fantoccini::elements::Element, text: &str) {
    client
        .execute(
            "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input', {bubbles: true}));",
            vec![serde_json::to_value(element).unwrap(), json!(text)],
        )
        .await
        .unwrap();
}
