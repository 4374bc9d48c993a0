//! The whole product in a real browser: headless Chromium driven over WebDriver by
//! Debian's chromedriver, against a relay on 127.0.0.1:0 serving the built widget and
//! console (`make test` builds them first).

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use porchlight_relay::config::Config;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_and_an_agent_chat_in_real_browsers_and_history_survives_a_reload() {
    let data = tempfile::tempdir().unwrap();
    let (relay, admin) = Relay::open(Config {
        data_dir: data.path().to_owned(),
        assets_dir: dist(),
        ..Config::default()
    })
    .await
    .unwrap();
    let admin = admin.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(relay.run(listener, async {
        let _ = stopped.await;
    }));
    let (_driver, port) = chromedriver().await;

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

    // An agent logs into the console in a second browser, joins and replies.
    let agent_profile = tempfile::tempdir().unwrap();
    let agent = browser(port, &agent_profile).await;
    agent.goto(&format!("{base}/console/")).await.unwrap();
    wait_for(&agent, Locator::Css("input[type='email']"))
        .await
        .send_keys(&admin.email)
        .await
        .unwrap();
    agent
        .find(Locator::Css("input[type='password']"))
        .await
        .unwrap()
        .send_keys(&admin.password)
        .await
        .unwrap();
    click(&agent, Locator::XPath("//button[.='Log in']")).await;
    wait_for(&agent, Locator::XPath("//button[.='Join']"))
        .await
        .click()
        .await
        .unwrap();
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
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}
