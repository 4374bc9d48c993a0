//! The whole product in a real browser: headless Chromium driven over WebDriver by
//! Debian's chromedriver, against a relay on 127.0.0.1:0 serving the built widget and
//! console (`make test` builds them first).

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
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const PATIENCE: Duration = Duration::from_secs(20);

fn dist() -> PathBuf {
    let dist = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../dist");
    assert!(
        dist.join("widget/index.html").exists() && dist.join("console/index.html").exists(),
        "the widget and console are not built: run `make test`, which builds them"
    );
    dist
}

/// Starts chromedriver on a free port and waits for its "started" line.
async fn chromedriver() -> (Child, u16) {
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

async fn browser(port: u16, profile: &tempfile::TempDir) -> Client {
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
            ]
        }),
    );
    ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a Chromium session")
}

/// Runs JS in the host page against the loader's shadow root.
async fn launcher_label(client: &Client) -> String {
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

async fn click_launcher(client: &Client) {
    client
        .execute(
            "document.getElementById('porchlight').shadowRoot.querySelector('button').click()",
            vec![],
        )
        .await
        .unwrap();
}

/// Switches into the widget's iframe, which lives in the loader's shadow root.
async fn enter_widget(client: &Client) {
    let host = client.find(Locator::Css("#porchlight")).await.unwrap();
    let root = host.shadow_root().await.unwrap();
    let frame = root.find(Locator::Css("iframe")).await.unwrap();
    frame.enter_frame().await.unwrap();
}

/// Waits for the element to appear, then clicks it.
async fn click_when(client: &Client, locator: Locator<'_>) {
    wait_for(client, locator).await.click().await.unwrap();
}

async fn click(client: &Client, locator: Locator<'_>) {
    client.find(locator).await.unwrap().click().await.unwrap();
}

async fn wait_for(client: &Client, locator: Locator<'_>) -> fantoccini::elements::Element {
    client
        .wait()
        .at_most(PATIENCE)
        .for_element(locator)
        .await
        .unwrap_or_else(|err| panic!("{locator:?} did not appear: {err}"))
}

/// Saves what the browser shows as `screenshots/NAME.png` in the tests' scratch folder
/// (`target/tmp`): `docs/` has copies for the README.
async fn screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "a PNG picture");
    let folder = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join(format!("{name}.png")), png).unwrap();
}

/// A relay on 127.0.0.1:0 serving the built assets, and chromedriver beside it.
struct Harness {
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

type Serving = (
    porchlight_relay::state::AppState,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<Result<(), porchlight_relay::server::StartError>>,
);

/// Runs `relay` on `listener` until the returned sender fires.
fn serve(relay: Relay, listener: tokio::net::TcpListener) -> Serving {
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
        agent
            .goto(&format!("{}/console/", self.base))
            .await
            .unwrap();
        wait_for(&agent, Locator::Css("input[type='email']"))
            .await
            .send_keys(email)
            .await
            .unwrap();
        agent
            .find(Locator::Css("input[type='password']"))
            .await
            .unwrap()
            .send_keys(password)
            .await
            .unwrap();
        click(&agent, Locator::XPath("//button[.='Log in']")).await;
        agent
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[expect(
    clippy::too_many_lines,
    reason = "one user story, read from start to end"
)]
async fn a_visitor_and_an_agent_chat_in_real_browsers_and_history_survives_a_reload() {
    let harness = Harness::start().await;
    let (base, port) = (harness.base.clone(), harness.port);

    // The visitor opens the demo page and the widget.
    let visitor_profile = tempfile::tempdir().unwrap();
    let visitor = browser(port, &visitor_profile).await;
    visitor.goto(&format!("{base}/")).await.unwrap();
    assert_eq!(launcher_label(&visitor).await, "Open chat");
    click_launcher(&visitor).await;
    assert_eq!(launcher_label(&visitor).await, "Close chat");
    enter_widget(&visitor).await;
    let message_box = wait_for(&visitor, Locator::Css("textarea[aria-label='Message']")).await;
    message_box.send_keys("My tap is dripping").await.unwrap();
    click(&visitor, Locator::Css("button[aria-label='Send']")).await;
    wait_for(
        &visitor,
        Locator::XPath("//li[contains(@class,'mine') and not(contains(@class,'pending'))]//span[.='My tap is dripping']"),
    )
    .await;
    // Waiting, the visitor sees their place in line and the estimate.
    wait_for(
        &visitor,
        Locator::XPath(
            "//p[@role='status' and .=\"You're number 1 in the queue · wait about 5 minutes\"]",
        ),
    )
    .await;

    // An agent logs into the console in a second browser, joins and replies.
    let agent_profile = tempfile::tempdir().unwrap();
    let agent = harness.agent(&agent_profile).await;
    click_when(&agent, Locator::XPath("//button[.='Join']")).await;
    wait_for(&agent, Locator::XPath("//span[.='My tap is dripping']")).await;
    let reply_box = wait_for(&agent, Locator::Css("textarea[aria-label='Message']")).await;
    reply_box
        .send_keys("Close the valve under the sink, I will call you.")
        .await
        .unwrap();
    click(&agent, Locator::Css("button[aria-label='Send']")).await;
    wait_for(&agent, Locator::XPath("//button[.='End chat']")).await;

    // The visitor sees the join and the reply.
    wait_for(
        &visitor,
        Locator::XPath("//span[.='Admin joined the chat']"),
    )
    .await;
    wait_for(
        &visitor,
        Locator::XPath("//li[contains(@class,'theirs')]//span[.='Close the valve under the sink, I will call you.']"),
    )
    .await;

    // The pictures in the README: the widget on the demo page, and the console.
    screenshot(&visitor, "widget").await;
    screenshot(&agent, "console").await;

    // The context panel shows where the visitor is and their browser.
    wait_for(
        &agent,
        Locator::XPath(&format!("//dl[@aria-label='Visitor']/dd[.='{base}/']")),
    )
    .await;
    wait_for(
        &agent,
        Locator::XPath(
            "//dl[@aria-label='Visitor']/dd[contains(., 'Chrome') and contains(., 'on Linux')]",
        ),
    )
    .await;

    // The admin adds a canned text, then posts it with "/" and Enter: filled in.
    click(&agent, Locator::XPath("//button[.='Canned text']")).await;
    wait_for(&agent, Locator::Css("input[aria-label='Group']"))
        .await
        .send_keys("Welcome")
        .await
        .unwrap();
    click(&agent, Locator::Css("input[aria-label='Title']")).await;
    agent
        .find(Locator::Css("input[aria-label='Title']"))
        .await
        .unwrap()
        .send_keys("Greeting")
        .await
        .unwrap();
    agent
        .find(Locator::Css("textarea[aria-label='Text']"))
        .await
        .unwrap()
        .send_keys("Thanks for waiting, $NAME. I'm $AGENT.")
        .await
        .unwrap();
    click(&agent, Locator::XPath("//button[.='Add canned text']")).await;
    wait_for(&agent, Locator::XPath("//td[.='Greeting']")).await;
    click(&agent, Locator::XPath("//button[.='Chats']")).await;
    let reply_box = wait_for(&agent, Locator::Css("textarea[aria-label='Message']")).await;
    reply_box.send_keys("/greet").await.unwrap();
    wait_for(
        &agent,
        Locator::XPath("//ul[@aria-label='Canned text']//strong[.='Welcome · Greeting']"),
    )
    .await;
    reply_box.send_keys("\u{E007}").await.unwrap();
    wait_for(
        &visitor,
        Locator::XPath("//li[contains(@class,'theirs')]//span[starts-with(., 'Thanks for waiting, Visitor ') and contains(., \"I'm Admin.\")]"),
    )
    .await;

    // The visitor sends a picture (the demo profile allows files); the agent sees it.
    let picture = visitor_profile.path().join("shot.png");
    std::fs::write(&picture, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").unwrap();
    wait_for(&visitor, Locator::Css("input[aria-label='Attach a file']"))
        .await
        .send_keys(picture.to_str().unwrap())
        .await
        .unwrap();
    wait_for(&agent, Locator::Css("img[alt='shot.png']")).await;
    wait_for(&visitor, Locator::Css("img[alt='shot.png']")).await;

    // The agent switches visitor uploads off: the paperclip goes at once.
    click(
        &agent,
        Locator::XPath("//label[contains(., 'Visitor can send files')]/input"),
    )
    .await;
    wait_for(
        &visitor,
        Locator::XPath("//form[@class='composer' and not(.//input[@aria-label='Attach a file'])]"),
    )
    .await;

    // A reload keeps the conversation.
    visitor.enter_parent_frame().await.unwrap();
    visitor.refresh().await.unwrap();
    click_launcher(&visitor).await;
    enter_widget(&visitor).await;
    wait_for(&visitor, Locator::XPath("//span[.='My tap is dripping']")).await;
    wait_for(
        &visitor,
        Locator::XPath("//span[.='Close the valve under the sink, I will call you.']"),
    )
    .await;

    // The agent ends the chat; the visitor is told.
    click(&agent, Locator::XPath("//button[.='End chat']")).await;
    wait_for(&visitor, Locator::XPath("//span[.='Admin ended the chat']")).await;

    visitor.close().await.unwrap();
    agent.close().await.unwrap();
    harness.stop().await;
}

/// The example help-desk profile, open around the clock for the test.
async fn use_helpdesk(harness: &Harness) {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_walks_the_example_profile_from_greeting_to_live_chat() {
    let harness = Harness::start().await;
    use_helpdesk(&harness).await;

    let visitor_profile = tempfile::tempdir().unwrap();
    let visitor = browser(harness.port, &visitor_profile).await;
    visitor.goto(&format!("{}/", harness.base)).await.unwrap();
    click_launcher(&visitor).await;
    enter_widget(&visitor).await;

    // The bot greets and asks; the composer waits for a choice.
    wait_for(&visitor, Locator::XPath("//h1[.='Acme Plumbing']")).await;
    wait_for(
        &visitor,
        Locator::XPath("//span[.=\"Hello! I'm the Acme assistant.\"]"),
    )
    .await;
    let composer = wait_for(&visitor, Locator::Css("textarea[aria-label='Message']")).await;
    assert_eq!(
        composer.attr("disabled").await.unwrap().as_deref(),
        Some("true")
    );
    assert_eq!(
        composer.attr("placeholder").await.unwrap().as_deref(),
        Some("Choose one of the options above.")
    );

    // The choices are buttons that work from the keyboard.
    let billing = wait_for(
        &visitor,
        Locator::XPath("//div[@class='choices']//button[.='Billing']"),
    )
    .await;
    billing.send_keys("\u{E007}").await.unwrap();

    // An email input, with an inline hint before anything is sent.
    let email = wait_for(
        &visitor,
        Locator::Css("input[type='email'][aria-label='Message']"),
    )
    .await;
    email.send_keys("not-an-email").await.unwrap();
    click(&visitor, Locator::Css("button[aria-label='Send']")).await;
    wait_for(
        &visitor,
        Locator::XPath(
            "//p[@class='hint' and .='Please enter an email address like name@example.com.']",
        ),
    )
    .await;
    let email = visitor
        .find(Locator::Css("input[type='email'][aria-label='Message']"))
        .await
        .unwrap();
    // Select all and type over it, as a person would.
    email
        .send_keys("\u{E009}a\u{E009}ana@example.com")
        .await
        .unwrap();
    click(&visitor, Locator::Css("button[aria-label='Send']")).await;
    wait_for(
        &visitor,
        Locator::XPath("//span[.=\"Thanks! I'm connecting you with the team now: you're number 1 in line, about 5 min.\"]"),
    )
    .await;
    wait_for(
        &visitor,
        Locator::XPath("//p[@class='status' and .='Waiting for an agent…']"),
    )
    .await;

    // The chat now waits for an agent, who sees the visitor's answers.
    let agent_profile = tempfile::tempdir().unwrap();
    let agent = harness.agent(&agent_profile).await;
    click_when(&agent, Locator::XPath("//button[.='Join']")).await;
    wait_for(&agent, Locator::XPath("//span[.='Billing']")).await;
    wait_for(&agent, Locator::XPath("//span[.='ana@example.com']")).await;
    wait_for(
        &visitor,
        Locator::XPath("//span[.='Admin joined the chat']"),
    )
    .await;

    visitor.close().await.unwrap();
    agent.close().await.unwrap();
    harness.stop().await;
}

/// A key pressed with no field focused.
async fn press(client: &Client, key: &str) {
    client
        .execute(
            "window.dispatchEvent(new KeyboardEvent('keydown', {key: arguments[0]}))",
            vec![json!(key)],
        )
        .await
        .unwrap();
}

/// Replaces a textarea's text as a paste would, firing its input event.
async fn paste(client: &Client, element: &fantoccini::elements::Element, text: &str) {
    client
        .execute(
            "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input', {bubbles: true}));",
            vec![serde_json::to_value(element).unwrap(), json!(text)],
        )
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_checks_saves_and_tries_a_profile_in_the_console() {
    let harness = Harness::start().await;
    let profile = tempfile::tempdir().unwrap();
    let admin = harness.agent(&profile).await;
    click_when(&admin, Locator::XPath("//nav//button[.='Profiles']")).await;
    click_when(
        &admin,
        Locator::XPath("//ul[@class='profile-list']//button[contains(.,'Default')]"),
    )
    .await;
    wait_for(
        &admin,
        Locator::XPath("//table[@class='steps']//td[.='live_chat']"),
    )
    .await;

    // A broken edit: the problem shows next to its step, and saving is refused.
    let source = admin
        .find(Locator::Css("textarea[aria-label='Profile']"))
        .await
        .unwrap();
    paste(
        &admin,
        &source,
        "name = \"Default\"\nstart = \"a\"\n[[steps]]\nid = \"a\"\ntype = \"message\"\ntext = \"hi\"\nnext = \"ghost\"\n",
    )
    .await;
    click(&admin, Locator::XPath("//button[.='Check']")).await;
    wait_for(
        &admin,
        Locator::XPath("//tr[contains(@class,'bad')]/td[1][.='a']/..//li[contains(.,'leads to step \"ghost\", which does not exist')]"),
    )
    .await;
    click(&admin, Locator::XPath("//button[.='Save']")).await;
    wait_for(
        &admin,
        Locator::XPath("//p[@class='note' and .='Not saved: fix the problems below.']"),
    )
    .await;

    // A new profile from the example: saved, listed, and tried in a test widget.
    click(&admin, Locator::XPath("//button[.='New profile']")).await;
    let example = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/helpdesk.toml"),
    )
    .unwrap();
    paste(&admin, &source, &example).await;
    click(&admin, Locator::XPath("//button[.='Save']")).await;
    // Saved, but not the site's chat profile: the note says so.
    wait_for(
        &admin,
        Locator::XPath("//p[@class='note' and .=\"Saved. It is not the site's chat profile, so new chats do not use it yet.\"]"),
    )
    .await;
    wait_for(
        &admin,
        Locator::XPath("//ul[@class='profile-list']//button[contains(.,'Help desk')]"),
    )
    .await;
    // Made the site's chat profile, it is what new chats use.
    click(
        &admin,
        Locator::XPath("//label[contains(., \"Use for the site's chats\")]/input"),
    )
    .await;
    click(&admin, Locator::XPath("//button[.='Save']")).await;
    wait_for(
        &admin,
        Locator::XPath("//p[@class='note' and .='Saved. New chats use it now.']"),
    )
    .await;
    click(&admin, Locator::XPath("//button[.='Try it']")).await;
    wait_for(&admin, Locator::Css("iframe[title='Chat preview']"))
        .await
        .enter_frame()
        .await
        .unwrap();
    wait_for(&admin, Locator::XPath("//h1[.='Acme Plumbing']")).await;

    admin.close().await.unwrap();
    harness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_rings_for_two_agents_stops_for_the_other_when_one_joins_and_is_transferred() {
    let harness = Harness::start().await;
    harness
        .add_agent("bo@example.com", "Bo", "bo-password-1")
        .await;
    let (ana_profile, bo_profile, visitor_profile) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let ana = harness.agent(&ana_profile).await;
    let bo = harness
        .log_in(&bo_profile, "bo@example.com", "bo-password-1")
        .await;
    for agent in [&ana, &bo] {
        wait_for(agent, Locator::Css("select[aria-label='Status']")).await;
    }

    let visitor = browser(harness.port, &visitor_profile).await;
    visitor.goto(&format!("{}/", harness.base)).await.unwrap();
    click_launcher(&visitor).await;
    enter_widget(&visitor).await;
    wait_for(&visitor, Locator::Css("textarea[aria-label='Message']"))
        .await
        .send_keys("Is anyone there?")
        .await
        .unwrap();
    click(&visitor, Locator::Css("button[aria-label='Send']")).await;

    // Both agents see it ring.
    for agent in [&ana, &bo] {
        wait_for(agent, Locator::Css("li.chat.ringing")).await;
        wait_for(
            agent,
            Locator::XPath("//button[contains(@class,'ringing-badge') and .='1 chat is ringing']"),
        )
        .await;
    }
    // Ana joins; Bo's ring stops at once.
    click_when(
        &ana,
        Locator::XPath("//li[contains(@class,'ringing')]//button[.='Join']"),
    )
    .await;
    wait_for(&ana, Locator::XPath("//button[.='End chat']")).await;
    bo.wait()
        .at_most(PATIENCE)
        .for_element(Locator::XPath("//li[contains(@class,'chat') and not(contains(@class,'ringing'))]//span[.='With Admin']"))
        .await
        .expect("Bo's ring stopped and Bo sees who took the chat");
    assert!(
        bo.find(Locator::Css("li.chat.ringing")).await.is_err(),
        "nothing rings for Bo any more"
    );
    wait_for(
        &visitor,
        Locator::XPath("//span[.='Admin joined the chat']"),
    )
    .await;

    // Ana transfers the chat to Bo: it rings for Bo again, both sides are told.
    click_when(
        &ana,
        Locator::XPath("//select[@aria-label='Transfer']/option[.='Bo']"),
    )
    .await;
    wait_for(
        &visitor,
        Locator::XPath("//span[.='Admin transferred the chat to Bo']"),
    )
    .await;
    wait_for(
        &bo,
        Locator::XPath("//li[contains(@class,'ringing')]//button[.='Join']"),
    )
    .await;
    // Bo works from the keyboard: "?" lists the shortcuts, "a" joins what rings.
    press(&bo, "?").await;
    wait_for(
        &bo,
        Locator::Css("[role='dialog'][aria-label='Keyboard shortcuts']"),
    )
    .await;
    press(&bo, "a").await;
    wait_for(&bo, Locator::XPath("//button[.='End chat']")).await;
    wait_for(&visitor, Locator::XPath("//span[.='Bo joined the chat']")).await;

    for client in [visitor, ana, bo] {
        client.close().await.unwrap();
    }
    harness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[expect(
    clippy::too_many_lines,
    reason = "one user story, read from start to end"
)]
async fn an_admin_adds_a_team_and_an_agent_who_then_logs_in() {
    let harness = Harness::start().await;
    let admin_profile = tempfile::tempdir().unwrap();
    let admin = harness.agent(&admin_profile).await;
    click_when(&admin, Locator::XPath("//button[.='People']")).await;

    wait_for(&admin, Locator::Css("input[aria-label='New team']"))
        .await
        .send_keys("Billing")
        .await
        .unwrap();
    click(&admin, Locator::XPath("//button[.='Add team']")).await;
    wait_for(
        &admin,
        Locator::XPath("//ul[@class='chips']/li[.='Billing']"),
    )
    .await;

    admin
        .find(Locator::Css("input[aria-label=\"New agent's email\"]"))
        .await
        .unwrap()
        .send_keys("cy@example.com")
        .await
        .unwrap();
    admin
        .find(Locator::Css("input[aria-label=\"New agent's name\"]"))
        .await
        .unwrap()
        .send_keys("Cy")
        .await
        .unwrap();
    click(&admin, Locator::XPath("//button[.='Add agent']")).await;
    let notice = wait_for(
        &admin,
        Locator::XPath("//p[@role='status' and contains(., 'one-time password')]"),
    )
    .await
    .text()
    .await
    .unwrap();
    let password = notice.rsplit(' ').next().unwrap().to_owned();

    click_when(&admin, Locator::Css("input[aria-label='Cy in Billing']")).await;
    admin
        .find(Locator::Css("select[aria-label='Access of Cy']"))
        .await
        .unwrap()
        .select_by_value("team")
        .await
        .unwrap();
    click(&admin, Locator::XPath("//button[.='Save Cy']")).await;
    wait_for(
        &admin,
        Locator::XPath("//p[@role='status' and .='Agent saved.']"),
    )
    .await;
    let accounts = harness.state.store.agent_accounts().await.unwrap();
    let cy = accounts
        .iter()
        .find(|account| account.name == "Cy")
        .unwrap();
    assert_eq!(cy.teams, ["Billing"]);
    assert_eq!(cy.access.as_str(), "team");

    click(
        &admin,
        Locator::XPath("//label[contains(., 'one live chat open at a time')]/input"),
    )
    .await;
    click(&admin, Locator::XPath("//button[.='Save chat settings']")).await;
    wait_for(
        &admin,
        Locator::XPath("//p[@role='status' and .='Chat settings saved.']"),
    )
    .await;
    assert!(
        harness
            .state
            .store
            .chat_rules()
            .await
            .unwrap()
            .one_chat_per_agent
    );

    // The Reports page draws its charts and offers the exports.
    click(&admin, Locator::XPath("//button[.='Reports']")).await;
    wait_for(&admin, Locator::Css("svg[aria-label^='Chats per day']")).await;
    wait_for(
        &admin,
        Locator::XPath("//dl[@aria-label='Figures']//dt[.='Chats']"),
    )
    .await;
    let export = admin
        .find(Locator::XPath("//a[.='Export chats (CSV)']"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    assert!(
        export.starts_with("/api/reports/chats.csv?from=20"),
        "{export}"
    );

    let cy_profile = tempfile::tempdir().unwrap();
    let cy_browser = harness
        .log_in(&cy_profile, "cy@example.com", &password)
        .await;
    wait_for(&cy_browser, Locator::XPath("//nav//strong[.='Cy']")).await;
    assert!(
        cy_browser
            .find(Locator::XPath("//button[.='People']"))
            .await
            .is_err(),
        "agents do not see the admin pages"
    );

    cy_browser.close().await.unwrap();
    admin.close().await.unwrap();
    harness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[expect(
    clippy::too_many_lines,
    reason = "one user story, read from start to end"
)]
async fn through_tickets_an_agent_takes_the_ticket_and_joins_its_chat() {
    let harness = Harness::start().await;
    let admin_profile = tempfile::tempdir().unwrap();
    let admin = harness.agent(&admin_profile).await;
    click_when(&admin, Locator::XPath("//button[.='People']")).await;
    click_when(
        &admin,
        Locator::XPath("//label[contains(., 'Through tickets')]/input"),
    )
    .await;
    click(
        &admin,
        Locator::XPath("//label[contains(., 'assigned to the linked ticket')]/input"),
    )
    .await;
    click(&admin, Locator::XPath("//button[.='Save chat settings']")).await;
    wait_for(
        &admin,
        Locator::XPath("//p[@role='status' and .='Chat settings saved.']"),
    )
    .await;

    let visitor_profile = tempfile::tempdir().unwrap();
    let visitor = browser(harness.port, &visitor_profile).await;
    visitor.goto(&format!("{}/", harness.base)).await.unwrap();
    click_launcher(&visitor).await;
    enter_widget(&visitor).await;
    wait_for(&visitor, Locator::Css("textarea[aria-label='Message']"))
        .await
        .send_keys("Where is my parcel?")
        .await
        .unwrap();
    click(&visitor, Locator::Css("button[aria-label='Send']")).await;

    click(&admin, Locator::XPath("//button[.='Tickets']")).await;
    let take = wait_for(
        &admin,
        Locator::XPath(
            "//tr[td[starts-with(., 'Chat with Visitor')]]//button[starts-with(., 'Take ticket')]",
        ),
    )
    .await;
    assert!(
        admin
            .find(Locator::XPath("//li[contains(@class, 'ringing')]"))
            .await
            .is_err(),
        "nothing rings through tickets"
    );
    take.click().await.unwrap();
    click_when(
        &admin,
        Locator::XPath("//tr[td[.='Admin']]//button[starts-with(., 'Join chat')]"),
    )
    .await;
    wait_for(&admin, Locator::XPath("//span[.='Where is my parcel?']")).await;
    wait_for(&admin, Locator::XPath("//button[.='End chat']")).await;
    wait_for(
        &visitor,
        Locator::XPath("//span[.='Admin joined the chat']"),
    )
    .await;

    // Ending the chat puts its transcript on the ticket.
    click(&admin, Locator::XPath("//button[.='End chat']")).await;
    wait_for(&visitor, Locator::XPath("//span[.='Admin ended the chat']")).await;
    click(&admin, Locator::XPath("//button[.='Tickets']")).await;
    click_when(
        &admin,
        Locator::XPath("//button[starts-with(., 'Chat with Visitor')]"),
    )
    .await;
    wait_for(
        &admin,
        Locator::XPath("//pre[contains(., 'Visitor: Where is my parcel?')]"),
    )
    .await;
    click(
        &admin,
        Locator::XPath("//button[@role='tab' and .='Chats']"),
    )
    .await;
    wait_for(
        &admin,
        Locator::XPath("//ul[@class='ticket-chats']/li[contains(., 'Ended')]"),
    )
    .await;

    // An admin-defined category is set on the ticket, and the ticket is closed.
    click(&admin, Locator::XPath("//button[.='People']")).await;
    wait_for(&admin, Locator::Css("input[aria-label='New category']"))
        .await
        .send_keys("Outcome")
        .await
        .unwrap();
    admin
        .find(Locator::Css("input[aria-label='Its values']"))
        .await
        .unwrap()
        .send_keys("Solved, No reply")
        .await
        .unwrap();
    click(&admin, Locator::XPath("//button[.='Add category']")).await;
    wait_for(
        &admin,
        Locator::XPath("//li[.='Outcome: Solved, No reply']"),
    )
    .await;
    click(&admin, Locator::XPath("//button[.='Tickets']")).await;
    click_when(
        &admin,
        Locator::XPath("//button[starts-with(., 'Chat with Visitor')]"),
    )
    .await;
    wait_for(&admin, Locator::Css("select[aria-label='Outcome']"))
        .await
        .select_by_value("Solved")
        .await
        .unwrap();
    wait_for(
        &admin,
        Locator::XPath("//select[@aria-label='Outcome']/option[@value='Solved' and @selected]"),
    )
    .await;
    click(&admin, Locator::XPath("//button[.='Close ticket']")).await;
    wait_for(&admin, Locator::XPath("//button[.='Reopen ticket']")).await;
    click(
        &admin,
        Locator::XPath("//button[@class='filter' and .='Closed']"),
    )
    .await;
    wait_for(
        &admin,
        Locator::XPath("//tr/td/button[starts-with(., 'Chat with Visitor')]"),
    )
    .await;

    visitor.close().await.unwrap();
    admin.close().await.unwrap();
    harness.stop().await;
}

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
/// piece until `release` is notified, and "Summary: …" / "Translated: …" for the
/// console's helpers.
async fn stand_in_provider(release: std::sync::Arc<tokio::sync::Notify>) -> String {
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

/// Records, inside the widget, when each of the visitor's bubbles first showed as
/// pending and when it first showed its stored time (by its text), and when the
/// widget last came back online after "Reconnecting…".
const WATCH_BUBBLES: &str = r#"
    window.bubbles = {};
    window.backOnline = null;
    let reconnecting = false;
    const look = () => {
        const now = performance.now();
        for (const line of document.querySelectorAll('li.mine')) {
            const text = line.querySelector('.body')?.textContent;
            const time = line.querySelector('time')?.textContent ?? '';
            const seen = (window.bubbles[text] ??= {});
            if (line.classList.contains('pending')) seen.pending ??= now;
            else if (/^\d\d:\d\d$/.test(time)) seen.stored ??= now;
        }
        const banner = [...document.querySelectorAll('p.banner')]
            .some((p) => p.textContent === 'Reconnecting…');
        if (reconnecting && !banner) window.backOnline = now;
        reconnecting = banner;
    };
    new MutationObserver(look).observe(document.body,
        {subtree: true, childList: true, characterData: true, attributes: true});
    look();
"#;

/// Writes `text` in the widget's composer and sends it.
async fn write(visitor: &Client, text: &str) {
    wait_for(visitor, Locator::Css("[aria-label='Message']"))
        .await
        .send_keys(text)
        .await
        .unwrap();
    click(visitor, Locator::Css("button[aria-label='Send']")).await;
}

/// Waits until the bubble `text` shows as stored with its time, and returns how long
/// after `since` ("pending": when it appeared; "online": when the widget reconnected)
/// that happened, in milliseconds.
async fn settled_after(visitor: &Client, text: &str, since: &str) -> f64 {
    let stored = format!(
        "//li[contains(@class,'mine') and not(contains(@class,'pending'))][.//span[@class='body' and .='{text}']]/time"
    );
    let time = wait_for(visitor, Locator::XPath(&stored))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        time.len() == 5 && time.as_bytes()[2] == b':',
        "the bubble shows its time, not {time:?}"
    );
    let seen = visitor
        .execute(
            "const seen = window.bubbles[arguments[0]] || {};
             const since = arguments[1] === 'online' ? window.backOnline : seen.pending;
             return [since, seen.stored];",
            vec![json!(text), json!(since)],
        )
        .await
        .unwrap();
    let (Some(since), Some(stored)) = (seen[0].as_f64(), seen[1].as_f64()) else {
        panic!("no record of {text:?} ({since}): {seen}");
    };
    stored - since
}

/// Opens the widget on `path` in a fresh browser and watches its bubbles.
async fn fresh_widget(harness: &Harness, profile: &tempfile::TempDir, path: &str) -> Client {
    let visitor = browser(harness.port, profile).await;
    visitor
        .goto(&format!("{}{path}", harness.base))
        .await
        .unwrap();
    click_launcher(&visitor).await;
    enter_widget(&visitor).await;
    wait_for(&visitor, Locator::Css("[aria-label='Message']")).await;
    visitor.execute(WATCH_BUBBLES, vec![]).await.unwrap();
    visitor
}

const AT_ONCE_MS: f64 = 1000.0;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_visitors_messages_show_as_sent_once_acknowledged_everywhere_and_after_a_reconnect() {
    let harness = Harness::start().await;

    // Live chat: the demo page queues the chat with the first message.
    let live_profile = tempfile::tempdir().unwrap();
    let live = fresh_widget(&harness, &live_profile, "/").await;
    for text in ["first message", "second message"] {
        write(&live, text).await;
        let took = settled_after(&live, text, "pending").await;
        assert!(took <= AT_ONCE_MS, "{text:?} in live chat took {took} ms");
    }
    wait_for(
        &live,
        Locator::XPath("//p[@role='status' and starts-with(., \"You're number 1 in the queue\")]"),
    )
    .await;

    // The AI agent's step (no provider: it answers from knowledge, here none).
    let ai_profile = tempfile::tempdir().unwrap();
    let ai = fresh_widget(&harness, &ai_profile, "/ai").await;
    for text in ["where is my parcel", "and my invoice"] {
        write(&ai, text).await;
        let took = settled_after(&ai, text, "pending").await;
        assert!(took <= AT_ONCE_MS, "{text:?} at the AI step took {took} ms");
    }

    // The bot flow: a choice, then a typed answer.
    use_helpdesk(&harness).await;
    let bot_profile = tempfile::tempdir().unwrap();
    let bot = fresh_widget(&harness, &bot_profile, "/").await;
    click_when(
        &bot,
        Locator::XPath("//div[@class='choices']//button[.='Billing']"),
    )
    .await;
    let took = settled_after(&bot, "Billing", "pending").await;
    assert!(
        took <= AT_ONCE_MS,
        "a choice in the bot flow took {took} ms"
    );
    write(&bot, "ana@example.com").await;
    let took = settled_after(&bot, "ana@example.com", "pending").await;
    assert!(
        took <= AT_ONCE_MS,
        "an answer in the bot flow took {took} ms"
    );

    // While the relay is down, the visitor writes two more: they wait in the outbox
    // and show as sent as soon as the widget is back.
    let harness = harness
        .restart(async || {
            wait_for(
                &live,
                Locator::XPath("//p[@class='banner' and .='Reconnecting…']"),
            )
            .await;
            write(&live, "written offline").await;
            write(&live, "also offline").await;
            wait_for(
                &live,
                Locator::XPath("//li[contains(@class,'pending')]//span[.='also offline']"),
            )
            .await;
        })
        .await;
    for text in ["written offline", "also offline"] {
        let took = settled_after(&live, text, "online").await;
        assert!(
            (0.0..=AT_ONCE_MS).contains(&took),
            "{text:?} after the reconnect took {took} ms"
        );
    }

    for client in [live, ai, bot] {
        client.close().await.unwrap();
    }
    harness.stop().await;
}
