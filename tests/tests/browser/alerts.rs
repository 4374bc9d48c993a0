//! A ringing chat gets the agent's attention: a chime, a desktop notification once
//! they are allowed, and the chat line shaking; so does a visitor's message in a chat
//! the agent holds while the console's tab is hidden.

use fantoccini::wd::WebDriverCompatibleCommand;
use porchlight_tests::wire::{connect, next_of_type, send_json};

use super::*;

/// WebDriver's "set permission": grants desktop notifications to the page's origin,
/// as the agent would in the browser's prompt (headless Chromium shows none).
#[derive(Debug)]
struct GrantNotifications;

impl WebDriverCompatibleCommand for GrantNotifications {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/permissions",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({"descriptor": {"name": "notifications"}, "state": "granted"});
        (http::Method::POST, Some(body.to_string()))
    }
}

/// Counts the chime's notes and records each notification the console shows.
const SPY: &str = r#"
    window.notes = 0;
    window.notified = [];
    const oscillator = AudioContext.prototype.createOscillator;
    AudioContext.prototype.createOscillator = function () {
        window.notes += 1;
        return oscillator.apply(this, arguments);
    };
    const Real = window.Notification;
    const Spy = function (title, options) {
        window.notified.push(title + ': ' + (options && options.body));
        return new Real(title, options);
    };
    Object.defineProperty(Spy, 'permission', { get: () => Real.permission });
    Spy.requestPermission = (...args) => Real.requestPermission(...args);
    window.Notification = Spy;
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ringing_chat_and_a_message_while_hidden_chime_and_notify() {
    let harness = Harness::start().await;
    let profile = tempfile::tempdir().unwrap();
    let agent = harness.agent(&profile).await;
    wait_for(&agent, Locator::XPath("//h2[.='Chats']")).await;
    // Not decided yet: the console offers to enable notifications.
    click(&agent, Locator::XPath("//button[.='Enable notifications']")).await;
    agent.issue_cmd(GrantNotifications).await.unwrap();
    assert_eq!(
        agent
            .execute("return Notification.permission", vec![])
            .await
            .unwrap(),
        json!("granted")
    );
    agent.execute(SPY, vec![]).await.unwrap();

    // A visitor writes: the chat rings.
    let socket = format!("{}/ws/visitor", harness.base.replace("http://", "ws://"));
    let mut visitor = connect(&socket, None).await.unwrap();
    send_json(
        &mut visitor,
        json!({"type": "hello", "v": 1, "site": "demo"}),
    )
    .await
    .unwrap();
    next_of_type(&mut visitor, "welcome").await.unwrap();
    send_json(
        &mut visitor,
        json!({"type": "send", "client_msg_id": "v-1", "body": "Hello?"}),
    )
    .await
    .unwrap();
    next_of_type(&mut visitor, "ack").await.unwrap();

    let line = wait_for(&agent, Locator::Css("li.chat.ringing")).await;
    let animation = agent
        .execute(
            "return getComputedStyle(arguments[0]).animationName",
            vec![serde_json::to_value(&line).unwrap()],
        )
        .await
        .unwrap();
    assert_eq!(animation, json!("pl-shake"));
    let heard = agent
        .execute("return [window.notes, window.notified]", vec![])
        .await
        .unwrap();
    assert_eq!(heard[0], json!(2), "two notes: {heard}");
    assert_eq!(
        heard[1],
        json!(["A visitor is waiting: Visitor 1 wants to chat"])
    );

    // In the chat, with the console's tab hidden, a visitor's message chimes and
    // notifies too; with the tab in view it only shows.
    click(&agent, Locator::XPath("//button[.='Join']")).await;
    wait_for(&agent, Locator::Css("textarea[aria-label='Message']")).await;
    let hidden = |on: bool| {
        format!(
            "Object.defineProperty(document, 'hidden', {{ configurable: true, get: () => {on} }})"
        )
    };
    agent.execute(&hidden(true), vec![]).await.unwrap();
    for (id, body) in [("v-2", "Are you still there?"), ("v-3", "Hello again")] {
        if id == "v-3" {
            agent.execute(&hidden(false), vec![]).await.unwrap();
        }
        send_json(
            &mut visitor,
            json!({"type": "send", "client_msg_id": id, "body": body}),
        )
        .await
        .unwrap();
        wait_for(
            &agent,
            Locator::XPath(&format!(
                "//ol[@class='log']//span[@class='body' and .='{body}']"
            )),
        )
        .await;
    }
    let heard = agent
        .execute("return [window.notes, window.notified]", vec![])
        .await
        .unwrap();
    assert_eq!(
        heard[0],
        json!(4),
        "the ring's two notes and the message's: {heard}"
    );
    assert_eq!(
        heard[1],
        json!([
            "A visitor is waiting: Visitor 1 wants to chat",
            "Visitor 1: Are you still there?"
        ])
    );

    agent.close().await.unwrap();
    harness.stop().await;
}
