//! The example help-desk profile over real sockets: greeting, buttons, a re-asked
//! input, a relay restart mid-flow, the hand-over to live chat, and start steps.

mod common;

use common::{TestRelay, Ws, helpdesk, start, start_allowing_loopback, start_in};
use porchlight_relay::flow::{Format, Profile};
use serde_json::{Value, json};

/// The example profile, open around the clock so the test does not depend on the hour.
async fn use_helpdesk(relay: &TestRelay) {
    let mut profile = helpdesk();
    profile.working_hours = None;
    relay.use_profile(&profile, true).await;
}

async fn bot_says(ws: &mut Ws, body: &str) -> Value {
    let message = ws.next_message(body).await;
    assert_eq!(message["author"], "bot");
    assert_eq!(message["author_name"], "Acme Plumbing");
    message
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_flow_greets_asks_survives_a_restart_and_hands_over() {
    let relay = start().await;
    use_helpdesk(&relay).await;

    let mut visitor = relay.visitor().await;
    let welcome = visitor.hello(None, None).await;
    let token = welcome["token"].as_str().unwrap().to_owned();
    assert_eq!(welcome["profile"]["title"], "Acme Plumbing");
    assert_eq!(welcome["profile"]["colour"], "#12355b");
    assert_eq!(welcome["profile"]["online"], true);
    assert_eq!(welcome["conversation"]["status"], "bot");
    assert_eq!(welcome["prompt"]["step_id"], "topic");
    assert_eq!(
        welcome["prompt"]["choices"],
        json!(["A leak or burst pipe", "Billing", "Something else"])
    );
    let conversation = welcome["conversation"]["id"].as_i64().unwrap();
    bot_says(&mut visitor, "Hello! I'm the Acme assistant.").await;
    bot_says(&mut visitor, "What can we help you with?").await;

    let ack = visitor.say("v-1", "Billing").await;
    assert_eq!(ack["conversation_id"], conversation);
    bot_says(&mut visitor, "What email address can we reach you at?").await;
    let prompt = visitor.next_of_type("prompt").await;
    assert_eq!(
        prompt["prompt"],
        json!({"step_id": "email", "input": "email"})
    );

    visitor.say("v-2", "not an email").await;
    bot_says(
        &mut visitor,
        "That does not look like an email address. Could you check it?",
    )
    .await;
    assert_eq!(
        visitor.next_of_type("prompt").await["prompt"]["step_id"],
        "email"
    );

    // The relay restarts mid-flow: the chat continues at the same step.
    drop(visitor);
    let relay = start_in(relay.stop().await).await;
    let mut visitor = relay.visitor().await;
    let welcome = visitor.hello(Some(&token), None).await;
    assert_eq!(welcome["conversation"]["id"], conversation);
    assert_eq!(welcome["conversation"]["status"], "bot");
    assert_eq!(
        welcome["prompt"],
        json!({"step_id": "email", "input": "email"})
    );

    // Agents do not see chats that are still with the bot.
    let (mut agent, agent_welcome) = relay.agent("ana@example.com", "Ana").await;
    assert_eq!(agent_welcome["chats"], json!([]));

    visitor.say("v-3", "ana@example.com").await;
    bot_says(
        &mut visitor,
        "Thanks! I'm connecting you with the team now: you're number 1 in line, about 5 min.",
    )
    .await;
    visitor.next_status("queued").await;
    let chat = agent.next_of_type("chat").await;
    assert_eq!(
        (chat["conversation_id"].as_i64(), chat["status"].as_str()),
        (Some(conversation), Some("queued"))
    );

    // The answers are stored as messages with their typed values.
    let stored = relay
        .state
        .store
        .messages_after(conversation, 0, 100)
        .await
        .unwrap();
    let visitor_lines: Vec<&str> = stored
        .iter()
        .filter(|message| message.author == porchlight_protocol::Author::Visitor)
        .map(|message| message.body.as_str())
        .collect();
    assert_eq!(
        visitor_lines,
        ["Billing", "not an email", "ana@example.com"]
    );
    let flow_state = relay
        .state
        .store
        .conversation(conversation)
        .await
        .unwrap()
        .unwrap()
        .flow_state
        .unwrap();
    assert!(
        flow_state.contains(r#""email":"ana@example.com""#),
        "{flow_state}"
    );

    // Once live, the visitor's messages go to the agent, not the bot.
    agent
        .send(json!({"type": "join", "conversation_id": conversation}))
        .await;
    agent.next_of_type("joined").await;
    visitor.say("v-4", "Hello?").await;
    agent.next_message("Hello?").await;
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_may_start_only_at_steps_that_allow_it() {
    let relay = start().await;
    use_helpdesk(&relay).await;

    let mut visitor = relay.visitor().await;
    visitor
        .send(json!({"type": "hello", "v": 1, "site": "demo", "start_step": "topic"}))
        .await;
    let welcome = visitor.next_of_type("welcome").await;
    assert_eq!(welcome["prompt"]["step_id"], "topic");
    let first = visitor.next_of_type("message").await;
    assert_eq!(
        first["body"], "What can we help you with?",
        "the greeting was skipped"
    );

    let mut other = relay.visitor().await;
    other
        .send(json!({"type": "hello", "v": 1, "site": "demo", "start_step": "to_agent"}))
        .await;
    let refused = other.next_json().await;
    assert_eq!(refused["code"], "start_step_refused");
    let welcome = other.next_of_type("welcome").await;
    assert_eq!(welcome["prompt"]["step_id"], "topic");
    other.next_message("Hello! I'm the Acme assistant.").await;
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_refuses_to_start_on_a_broken_stored_profile() {
    if common::sqlite_only("breaks the stored profile with SQL on SQLite's file") {
        return;
    }
    let relay = start().await;
    relay
        .save_profile(
            "Broken",
            r#"{"name":"Broken","start":"nowhere","steps":[]}"#.into(),
            true,
        )
        .await;
    let dir = relay.stop().await;
    let config = porchlight_relay::config::Config {
        data_dir: dir.path().join("data"),
        ..porchlight_relay::config::Config::default()
    };
    let err = porchlight_relay::server::Relay::open(config)
        .await
        .err()
        .expect("the relay refuses the broken profile");
    let message = err.to_string();
    assert!(message.contains("\"Broken\""), "{message}");
    assert!(
        message.contains("the start step \"nowhere\" does not exist"),
        "{message}"
    );
}

/// A stand-in for the site owner's server: answers `/lookup` with a customer and
/// `/broken` with a 500, and hands over every body it received.
async fn crm() -> (String, tokio::sync::mpsc::UnboundedReceiver<Value>) {
    use axum::routing::post;
    let (seen, bodies) = tokio::sync::mpsc::unbounded_channel::<Value>();
    let lookup_seen = seen.clone();
    let app = axum::Router::new()
        .route(
            "/lookup",
            post(move |axum::Json(body): axum::Json<Value>| async move {
                let _ = lookup_seen.send(body);
                axum::Json(json!({"customer": {"name": "Ana", "plan": "gold"}}))
            }),
        )
        .route(
            "/broken",
            post(move |axum::Json(body): axum::Json<Value>| async move {
                let _ = seen.send(body);
                axum::http::StatusCode::INTERNAL_SERVER_ERROR
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, bodies)
}

async fn use_webhook_profile(relay: &TestRelay, url: &str) {
    let text = format!(
        r#"
name = "Lookup"
start = "set"
[[steps]]
id = "set"
type = "action"
action = "set_variable"
name = "source"
value = "widget"
next = "lookup"
[[steps]]
id = "lookup"
type = "action"
action = "call_webhook"
url = "{url}"
timeout_ms = 2000
save = {{ customer = "/customer/name" }}
next = "known"
[[steps]]
id = "known"
type = "condition"
when = {{ test = "variable", variable = "customer", is_set = true }}
then = "hello_customer"
else = "hello_stranger"
[[steps]]
id = "hello_customer"
type = "message"
text = "Welcome back, $CUSTOMER!"
next = "ask"
[[steps]]
id = "hello_stranger"
type = "message"
text = "Welcome!"
next = "ask"
[[steps]]
id = "ask"
type = "question"
text = "Shall we start?"
choices = [{{ label = "Yes", next = "agent" }}]
[[steps]]
id = "agent"
type = "action"
action = "start_live_chat"
"#
    );
    let profile = Profile::parse(&text, Format::Toml).unwrap();
    porchlight_relay::flow::compile(profile.clone()).unwrap();
    relay.use_profile(&profile, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_step_posts_the_variables_and_saves_fields_of_the_answer() {
    let (crm, mut bodies) = crm().await;
    let relay = start_allowing_loopback().await;
    use_webhook_profile(&relay, &format!("{crm}/lookup")).await;
    let mut visitor = relay.visitor().await;
    visitor.hello(None, None).await;
    bot_message(&mut visitor, "Welcome back, Ana!").await;
    let body = bodies.recv().await.unwrap();
    assert_eq!(body["variables"], json!({"source": "widget"}));
    assert!(body["conversation_id"].is_i64());
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_webhook_takes_the_flows_other_branch() {
    let (crm, mut bodies) = crm().await;
    let relay = start_allowing_loopback().await;
    use_webhook_profile(&relay, &format!("{crm}/broken")).await;
    let mut visitor = relay.visitor().await;
    visitor.hello(None, None).await;
    bot_message(&mut visitor, "Welcome!").await;
    assert_eq!(
        bodies.recv().await.unwrap()["variables"]["source"],
        "widget"
    );
    relay.stop().await;
}

async fn bot_message(ws: &mut Ws, body: &str) {
    let message = ws.next_message(body).await;
    assert_eq!(message["author"], "bot");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_hours_the_chat_is_offline_and_takes_a_message_into_a_ticket() {
    let relay = start().await;
    let mut profile = helpdesk();
    // Never open: a schedule with no hours.
    profile.working_hours.as_mut().unwrap().schedule.clear();
    relay.use_profile(&profile, true).await;

    let mut visitor = relay.visitor().await;
    let welcome = visitor.hello(None, None).await;
    assert_eq!(welcome["profile"]["online"], false);
    let conversation = welcome["conversation"]["id"].as_i64().unwrap();
    bot_says(
        &mut visitor,
        "We're closed right now, but leave us a message and we'll email you back.",
    )
    .await;
    visitor.say("v-1", "bo@example.com").await;
    bot_says(&mut visitor, "What would you like to ask?").await;
    visitor.say("v-2", "Do you fix boilers?").await;
    bot_says(
        &mut visitor,
        "Thanks, we've got it and will reply to bo@example.com.",
    )
    .await;
    visitor.next_status("ended").await;

    let stored = relay
        .state
        .store
        .conversation(conversation)
        .await
        .unwrap()
        .unwrap();
    assert!(stored.ticket_id.is_some(), "the message became a ticket");
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_an_admin_can_try_a_profile_that_is_not_the_sites() {
    let relay = start().await;
    let mut profile = helpdesk();
    profile.working_hours = None;
    let draft = relay.use_profile(&profile, false).await;
    let hello = json!({"type": "hello", "v": 1, "site": "demo", "preview_profile": draft});

    let mut stranger = relay.visitor().await;
    stranger.send(hello.clone()).await;
    assert_eq!(stranger.next_json().await["code"], "not_found");
    assert!(stranger.next().await.is_none(), "the socket is closed");

    let cookie = relay
        .agent_cookie(&relay.admin().email.clone(), "Admin")
        .await;
    let mut admin = Ws::connect(&relay.url("/ws/visitor"), &[("cookie", &cookie)]).await;
    admin.send(hello).await;
    let welcome = admin.next_of_type("welcome").await;
    assert_eq!(welcome["profile"]["title"], "Acme Plumbing");
    assert_eq!(welcome["prompt"]["step_id"], "topic");

    // The site's own visitors still get the site's profile.
    let mut visitor = relay.visitor().await;
    let welcome = visitor.hello(None, None).await;
    assert_eq!(welcome["profile"]["title"], "Chat with us");
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_for_identified_visitors_turns_anonymous_ones_away() {
    let relay = start().await;
    let members_only = r#"{"name":"Members","access":"identified","start":"a",
        "steps":[{"id":"a","type":"action","action":"start_live_chat"}]}"#;
    relay
        .save_profile("Members", members_only.into(), true)
        .await;
    let mut visitor = relay.visitor().await;
    visitor
        .send(json!({"type": "hello", "v": 1, "site": "demo"}))
        .await;
    assert_eq!(visitor.next_json().await["code"], "identity_required");
    assert!(visitor.next().await.is_none(), "the socket is closed");
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnecting_to_an_ended_chat_does_not_start_a_new_one() {
    let relay = start().await;
    use_helpdesk(&relay).await;
    let mut visitor = relay.visitor().await;
    let welcome = visitor.hello(None, None).await;
    let token = welcome["token"].as_str().unwrap().to_owned();
    let conversation = welcome["conversation"]["id"].as_i64().unwrap();
    visitor.send(json!({"type": "end_chat"})).await;
    visitor.next_status("ended").await;
    drop(visitor);

    let mut visitor = relay.visitor().await;
    let welcome = visitor.hello(Some(&token), Some((conversation, 3))).await;
    assert_eq!(welcome["conversation"]["id"], conversation);
    assert_eq!(welcome["conversation"]["status"], "ended");
    assert!(welcome.get("prompt").is_none());
    relay.stop().await;
}
