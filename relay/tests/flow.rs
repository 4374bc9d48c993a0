//! The example help-desk profile over real sockets: greeting, buttons, a re-asked
//! input, a relay restart mid-flow, the hand-over to live chat, and start steps.

mod common;

use common::{TestRelay, Ws, start, start_in};
use porchlight_relay::flow::{Format, Profile};
use serde_json::{Value, json};

/// The example profile, open around the clock so the test does not depend on the hour.
async fn use_helpdesk(relay: &TestRelay) {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/helpdesk.toml"),
    )
    .unwrap();
    let mut profile = Profile::parse(&text, Format::Toml).unwrap();
    profile.working_hours = None;
    let store = &relay.state.store;
    let site = store.site_by_key("demo").await.unwrap().unwrap();
    store
        .save_profile(site.id, &profile.name, profile.render(Format::Json), true)
        .await
        .unwrap();
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
        "Thanks! I'm connecting you with the team now.",
    )
    .await;
    let status = visitor.next_of_type("status").await;
    assert_eq!(status["status"], "queued");
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
    let relay = start().await;
    let store = relay.state.store.clone();
    let site = store.site_by_key("demo").await.unwrap().unwrap();
    store
        .save_profile(
            site.id,
            "Broken",
            r#"{"name":"Broken","start":"nowhere","steps":[]}"#.into(),
            true,
        )
        .await
        .unwrap();
    drop(store);
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
