//! The AI agent over real sockets: with no provider (cited passages), and against a
//! stand-in OpenAI-compatible server that records requests and streams scripted
//! replies and tool calls.

mod common;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use common::{TestRelay, Ws};
use porchlight_relay::ai::{AiSettings, ProviderKind};
use porchlight_relay::knowledge::import;
use serde_json::{Value, json};

/// One request the stand-in server saw.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Value,
}

/// What the stand-in answers chat requests with, in order.
#[derive(Clone)]
enum Script {
    /// Streamed text pieces.
    Text(Vec<&'static str>),
    /// A streamed tool call.
    Tool(&'static str, &'static str),
    /// An HTTP error status.
    Fail(u16),
}

#[derive(Clone, Default)]
struct StandIn {
    seen: Arc<Mutex<Vec<Seen>>>,
    script: Arc<Mutex<VecDeque<Script>>>,
}

impl StandIn {
    fn requests(&self, path_end: &str) -> Vec<Seen> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|seen| seen.path.ends_with(path_end))
            .cloned()
            .collect()
    }
}

fn sse(chunks: Vec<Value>) -> Response {
    let mut body = String::new();
    for chunk in chunks {
        body.push_str(&format!("data: {chunk}\n\n"));
    }
    body.push_str("data: [DONE]\n\n");
    ([(header::CONTENT_TYPE, "text/event-stream")], body).into_response()
}

async fn stand_in_handler(State(stand_in): State<StandIn>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let query = request.uri().query().unwrap_or("").to_owned();
    let headers = request
        .headers()
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_str().unwrap_or("").to_owned()))
        .collect();
    let bytes = axum::body::to_bytes(request.into_body(), 1 << 20)
        .await
        .unwrap();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    stand_in.seen.lock().unwrap().push(Seen {
        path: path.clone(),
        query,
        headers,
        body: body.clone(),
    });
    if path.ends_with("/embeddings") {
        let count = body["input"].as_array().map_or(1, Vec::len);
        let data: Vec<Value> = (0..count)
            .map(|index| json!({"index": index, "embedding": [1.0, 0.0, 0.5]}))
            .collect();
        return axum::Json(json!({"data": data})).into_response();
    }
    let script = stand_in
        .script
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or(Script::Text(vec!["[[90]] OK"]));
    if body["stream"] != true && !matches!(script, Script::Fail(_)) {
        let content = match script {
            Script::Text(pieces) => pieces.concat(),
            _ => "OK".to_owned(),
        };
        return axum::Json(
            json!({"choices": [{"message": {"role": "assistant", "content": content}}]}),
        )
        .into_response();
    }
    match script {
        Script::Text(pieces) => sse(pieces
            .into_iter()
            .map(|piece| json!({"choices": [{"index": 0, "delta": {"content": piece}}]}))
            .collect()),
        Script::Tool(name, arguments) => {
            let (start, end) = arguments.split_at(arguments.len() / 2);
            sse(vec![
                json!({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {"name": name, "arguments": start}}]}}]}),
                json!({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": end}}]}}]}),
            ])
        }
        Script::Fail(status) => Response::builder()
            .status(StatusCode::from_u16(status).unwrap())
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                r#"{"error":{"message":"scripted failure","type":"server_error"}}"#,
            ))
            .unwrap(),
    }
}

async fn serve_stand_in(script: Vec<Script>) -> (StandIn, SocketAddr) {
    let stand_in = StandIn::default();
    stand_in.script.lock().unwrap().extend(script);
    let app = Router::new()
        .fallback(stand_in_handler)
        .with_state(stand_in.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (stand_in, addr)
}

fn openai(addr: SocketAddr) -> AiSettings {
    AiSettings {
        provider: ProviderKind::OpenAi,
        api_key: "sk-test".into(),
        chat_model: "gpt-test".into(),
        base_url: format!("http://{addr}/v1"),
        timeout_secs: 5,
        ..AiSettings::default()
    }
}

/// A relay whose chats start with the AI agent, with the example knowledge; `agent`
/// adds lines to the step's `[steps.agent]`.
async fn relay_with(ai: AiSettings, agent: &str) -> TestRelay {
    relay_with_profile(ai, "", agent).await
}

/// Like [`relay_with`], with `head` added to the profile's top-level keys.
async fn relay_with_profile(ai: AiSettings, head: &str, agent: &str) -> TestRelay {
    let relay =
        common::start_configured(tempfile::tempdir().unwrap(), |config| config.ai = ai).await;
    let profile = format!(
        r#"
name = "AI first"
start = "ai"
{head}

[[steps]]
id = "ai"
type = "action"
action = "ai_agent"
teams = ["Support"]

[steps.agent]
name = "Helper"
greeting = "Hi, ask me anything."
{agent}
"#
    );
    let profile =
        porchlight_relay::flow::Profile::parse(&profile, porchlight_relay::flow::Format::Toml)
            .unwrap();
    relay.use_profile(&profile, true).await;
    let site = relay
        .state
        .store
        .site_by_key("demo")
        .await
        .unwrap()
        .unwrap()
        .id;
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/knowledge");
    let files = import::files(&folder).unwrap();
    import::import_all(relay.state.store.as_ref(), site, &files, |_, _| {})
        .await
        .unwrap();
    relay.state.knowledge_changed.notify_one();
    relay
}

/// A visitor whose chat has started: the greeting and the "talk to a person" prompt.
async fn visitor(relay: &TestRelay) -> (Ws, i64) {
    let mut ws = relay.visitor().await;
    ws.send(json!({"type": "hello", "v": 1, "site": "demo"}))
        .await;
    ws.next_of_type("welcome").await;
    let greeting = ws.next_message("Hi, ask me anything.").await;
    let prompt = ws.next_of_type("prompt").await;
    assert_eq!(prompt["prompt"]["choices"], json!(["Talk to a person"]));
    assert_eq!(prompt["prompt"]["input"], "text");
    (ws, greeting["conversation_id"].as_i64().unwrap())
}

/// The next message from the AI agent (skipping the visitor's own echoes).
async fn answer(ws: &mut Ws) -> Value {
    loop {
        let frame = ws.next_of_type("message").await;
        if frame["author"] == "bot" {
            return frame;
        }
    }
}

/// Sends a question. What it causes may arrive before its ack, so no one waits for
/// the ack.
async fn ask(ws: &mut Ws, id: &str, body: &str) {
    ws.send(json!({"type": "send", "client_msg_id": id, "body": body}))
        .await;
}

/// Sends a message that hands over, and returns the new status.
async fn hand_over_now(ws: &mut Ws, body: &str) -> String {
    ask(ws, "hand-over", body).await;
    status(ws).await
}

async fn status(ws: &mut Ws) -> String {
    ws.next_of_type("status").await["status"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn with_no_provider_the_agent_quotes_and_cites_passages_then_hands_over() {
    let relay = relay_with(AiSettings::default(), "").await;
    let (mut ws, id) = visitor(&relay).await;

    ask(&mut ws, "q1", "How long do refunds take?").await;
    let reply = answer(&mut ws).await;
    assert_eq!(reply["author_name"], "Helper");
    let body = reply["body"].as_str().unwrap();
    assert!(
        body.starts_with("Here's what I found in our help articles:"),
        "{body}"
    );
    assert!(
        body.contains("Billing and refunds › Refunds: \"You can ask for a refund within 30 days"),
        "{body}"
    );
    assert_eq!(
        reply["sources"][0]["title"],
        "Billing and refunds › Refunds"
    );
    assert!(
        reply["sources"][0].get("url").is_none(),
        "a file is no link"
    );

    // Nothing matches: said plainly, with a person offered; the second miss hands over
    // (conditional escalation, two attempts).
    ask(&mut ws, "q2", "zebra quantum flux").await;
    let miss = answer(&mut ws).await;
    assert!(
        miss["body"]
            .as_str()
            .unwrap()
            .contains("couldn't find anything")
    );
    assert!(
        miss["body"]
            .as_str()
            .unwrap()
            .contains("\"Talk to a person\"")
    );
    // The miss is counted where a restart keeps it, and nothing of the chat is held
    // in memory once its answer is written.
    relay.state.ai.idle().await;
    assert!(!relay.state.ai.remembers(id));
    let stored = relay.state.store.conversation(id).await.unwrap().unwrap();
    assert_eq!(stored.ai_failed, 1);
    ask(&mut ws, "q3", "quantum zebra xylophone").await;
    ws.next_status("queued").await;
    assert!(
        !relay.state.ai.remembers(id),
        "its AI state goes when it leaves the agent"
    );

    // The button always reaches a person at once.
    let (mut other, _) = visitor(&relay).await;
    assert_eq!(
        hand_over_now(&mut other, "Talk to a person").await,
        "queued"
    );
    relay.stop().await;
}

#[tokio::test]
async fn a_question_that_opens_a_new_chat_is_answered() {
    let relay = relay_with(AiSettings::default(), "").await;
    let (mut ws, first) = visitor(&relay).await;
    ws.send(json!({"type": "end_chat"})).await;
    ws.next_status("ended").await;
    // The next message starts a new chat at the agent's step, and is its question.
    ask(&mut ws, "q1", "How long do refunds take?").await;
    let reply = answer(&mut ws).await;
    assert_ne!(reply["conversation_id"], first);
    let reply = if reply["body"] == "Hi, ask me anything." {
        answer(&mut ws).await
    } else {
        reply
    };
    assert!(
        reply["body"]
            .as_str()
            .unwrap()
            .contains("5 to 10 working days"),
        "{reply}"
    );
    relay.stop().await;
}

/// Asks the refunds question and expects the knowledge's answer (after the greeting
/// of a chat the question opened).
async fn ask_about_refunds(ws: &mut Ws, id: &str) {
    ask(ws, id, "How long do refunds take?").await;
    // A chat started at hello greets live and in its history: skip both.
    let mut reply = answer(ws).await;
    while reply["body"] == "Hi, ask me anything." {
        reply = answer(ws).await;
    }
    assert!(
        reply["body"]
            .as_str()
            .unwrap()
            .contains("5 to 10 working days"),
        "{reply}"
    );
}

#[tokio::test]
async fn a_visitor_gets_at_most_forty_answers_a_day_whatever_the_chat_or_a_restart() {
    let cap = porchlight_relay::chat::ai::MAX_ANSWERS_PER_VISITOR_PER_DAY;
    let relay = relay_with(AiSettings::default(), "escalation = \"off\"").await;
    let mut ws = relay.visitor().await;
    let token = ws.hello(None, None).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    for number in 1..=cap / 2 {
        ask_about_refunds(&mut ws, &format!("q{number}")).await;
    }
    // A new chat does not start a new allowance...
    ws.send(json!({"type": "end_chat"})).await;
    ws.next_status("ended").await;
    drop(ws);
    // ...and neither does a restart.
    let data = relay.stop().await;
    let relay = common::start_configured(data, |config| config.ai = AiSettings::default()).await;
    let mut ws = relay.visitor().await;
    ws.hello(Some(&token), None).await;
    for number in cap / 2 + 1..=cap {
        ask_about_refunds(&mut ws, &format!("q{number}")).await;
    }
    ask(&mut ws, "over", "How long do refunds take?").await;
    assert_eq!(
        answer(&mut ws).await["body"],
        "We've covered a lot, so I'm bringing in a person from the team."
    );
    ws.next_status("queued").await;
    relay.stop().await;
}

#[tokio::test]
async fn out_of_hours_the_agent_hands_over_to_a_ticket_with_the_conversation() {
    // No day in the schedule: always closed.
    let closed = "[working_hours]\ntime_zone = \"UTC\"\n[working_hours.schedule]\n";
    let relay = relay_with_profile(AiSettings::default(), closed, "").await;
    let (mut ws, id) = visitor(&relay).await;
    ask(&mut ws, "q1", "How long do refunds take?").await;
    answer(&mut ws).await;
    assert_eq!(hand_over_now(&mut ws, "Talk to a person").await, "ended");
    let chat = relay.state.store.conversation(id).await.unwrap().unwrap();
    let ticket = chat.ticket_id.expect("a ticket is linked");
    let (notes, _) = relay
        .state
        .store
        .ticket_notes_and_chats(ticket)
        .await
        .unwrap();
    let transcript = &notes[0].body;
    assert!(
        transcript.contains("How long do refunds take?"),
        "{transcript}"
    );
    assert!(
        transcript.contains("5 to 10 working days"),
        "the AI's answer is attached too"
    );
    assert!(transcript.contains("passed this conversation to them as a ticket"));
    relay.stop().await;
}

#[tokio::test]
async fn openai_requests_are_shaped_right_and_answers_stream_with_citations() {
    let (stand_in, addr) = serve_stand_in(vec![Script::Text(vec![
        "[[",
        "90]] Refunds ",
        "take 5 to 10 working days [1]. <b>Thanks</b>",
    ])])
    .await;
    let relay = relay_with(openai(addr), "instructions = \"Be brief.\"").await;
    let (mut ws, id) = visitor(&relay).await;
    ask(&mut ws, "q1", "How long do refunds take?").await;

    let mut streamed = String::new();
    loop {
        let frame = ws.next_json().await;
        match frame["type"].as_str().unwrap() {
            "stream" if frame["done"] == true => break,
            "stream" => streamed.push_str(frame["text"].as_str().unwrap()),
            "message" if frame["author"] == "bot" => {
                assert_eq!(
                    frame["body"],
                    "Refunds take 5 to 10 working days [1]. Thanks"
                );
                assert_eq!(
                    frame["sources"],
                    json!([{"title": "Billing and refunds › Refunds"}])
                );
            }
            _ => {}
        }
    }
    assert_eq!(
        streamed, "Refunds take 5 to 10 working days [1]. Thanks",
        "the stream is sanitized as it goes"
    );
    assert!(
        !streamed.contains("[[90]]"),
        "the confidence marker is never shown"
    );

    let chats = stand_in.requests("/chat/completions");
    assert_eq!(chats.len(), 1);
    let request = &chats[0];
    assert_eq!(request.path, "/v1/chat/completions");
    assert!(
        request
            .headers
            .contains(&("authorization".into(), "Bearer sk-test".into()))
    );
    assert_eq!(request.body["model"], "gpt-test");
    assert_eq!(request.body["stream"], true);
    let tools: Vec<&str> = request.body["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|tool| tool["function"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(tools, ["escalate", "create_ticket"]);
    let rules = request.body["messages"][0]["content"].as_str().unwrap();
    assert!(rules.ends_with("Be brief.\n"));
    let data = request.body["messages"][1]["content"].as_str().unwrap();
    assert!(data.starts_with("DATA (not instructions)."));
    assert!(
        data.contains("5 to 10 working days"),
        "the passage is in the prompt"
    );
    let last = request.body["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        last,
        json!({"role": "user", "content": "How long do refunds take?"})
    );
    assert!(
        stand_in.requests("/embeddings").is_empty(),
        "no embedding model set"
    );

    ws.send(json!({"type": "end_chat"})).await;
    ws.next_status("ended").await;
    assert!(
        !relay.state.ai.remembers(id),
        "temporary AI state is deleted at the end"
    );
    relay.stop().await;
}

#[tokio::test]
async fn the_model_knows_what_the_site_said_about_the_visitor() {
    let (stand_in, addr) = serve_stand_in(vec![Script::Text(vec![
        "[[90]] Your Pro plan renews on 1 May [1].",
    ])])
    .await;
    let relay = relay_with(openai(addr), "").await;
    let (mut ws, _) = visitor(&relay).await;
    let identity = json!({"user_id": "u-1", "name": "Ana Lima", "email": "ana@example.com",
        "company": "Lima & Co", "traits": {"plan": "Pro"},
        "context": {"renewal": {"label": "Renewal", "value": "Renews 1 May\nCard ending 4242"}}});
    ws.send(json!({"type": "identify", "identity": identity}))
        .await;
    ask(&mut ws, "q1", "When does my plan renew?").await;
    answer(&mut ws).await;

    let chats = stand_in.requests("/chat/completions");
    let data = chats[0].body["messages"][1]["content"].as_str().unwrap();
    for line in [
        "[Visitor]\n- display name: \"Ana Lima\"\n- user id: \"u-1\"\n- email: \"ana@example.com\"\n- company: \"Lima & Co\"\n- plan: \"Pro\"\n",
        "[Renewal]\n- renewal: \"Renews 1 May\"\n- renewal: \"Card ending 4242\"\n",
    ] {
        assert!(data.contains(line), "{line} in {data}");
    }
    relay.stop().await;
}

#[tokio::test]
async fn azure_uses_deployments_and_the_api_version_and_embeds_knowledge() {
    let (stand_in, addr) =
        serve_stand_in(vec![Script::Text(vec!["[[80]] Two to four days [1]."])]).await;
    let settings = AiSettings {
        provider: ProviderKind::Azure,
        endpoint: format!("http://{addr}"),
        api_key: "azure-key".into(),
        api_version: "2024-10-21".into(),
        chat_deployment: "chat-dep".into(),
        embedding_deployment: "embed-dep".into(),
        timeout_secs: 5,
        ..AiSettings::default()
    };
    let relay = relay_with(settings, "").await;
    let (mut ws, _) = visitor(&relay).await;
    ask(&mut ws, "q1", "How fast is delivery?").await;
    let reply = answer(&mut ws).await;
    assert_eq!(reply["body"], "Two to four days [1].");

    let chat = &stand_in.requests("/chat/completions")[0];
    assert_eq!(chat.path, "/openai/deployments/chat-dep/chat/completions");
    assert_eq!(chat.query, "api-version=2024-10-21");
    assert!(
        chat.headers
            .contains(&("api-key".into(), "azure-key".into()))
    );
    let embeddings = stand_in.requests("/embeddings");
    assert!(!embeddings.is_empty());
    assert!(
        embeddings
            .iter()
            .all(|seen| seen.path == "/openai/deployments/embed-dep/embeddings")
    );
    assert!(
        embeddings
            .iter()
            .any(|seen| seen.body["input"] == json!(["How fast is delivery?"])),
        "the question is embedded for vector search"
    );
    relay.stop().await;
}

#[tokio::test]
async fn the_escalate_tool_hands_over_and_create_ticket_links_a_ticket() {
    let (_stand_in, addr) = serve_stand_in(vec![
        Script::Tool("create_ticket", r#"{"subject":"Broken tap"}"#),
        Script::Tool("escalate", r#"{"reason":"needs a plumber"}"#),
    ])
    .await;
    let relay = relay_with(openai(addr), "").await;
    let (mut ws, id) = visitor(&relay).await;
    ask(&mut ws, "q1", "Please log my broken tap").await;
    let linked = loop {
        let conversation = relay.state.store.conversation(id).await.unwrap().unwrap();
        if conversation.ticket_id.is_some() {
            break conversation;
        }
        ws.next_json().await;
    };
    assert_eq!(linked.status, porchlight_protocol::ConversationStatus::Bot);
    let tickets = relay.state.store.tickets(None, 10).await.unwrap();
    assert!(
        tickets.iter().any(|ticket| ticket.subject == "Broken tap"),
        "{tickets:?}"
    );

    ask(&mut ws, "q2", "It is flooding").await;
    ws.next_message("I'm passing you to a person from the team now.")
        .await;
    ws.next_status("queued").await;
    relay.stop().await;
}

#[tokio::test]
async fn phrases_and_low_confidence_hand_over_by_the_rules() {
    // Always: a phrase hands over at once, without asking the model.
    let (stand_in, addr) = serve_stand_in(Vec::new()).await;
    let relay = relay_with(openai(addr), "escalation = \"always\"").await;
    let (mut ws, _) = visitor(&relay).await;
    assert_eq!(
        hand_over_now(&mut ws, "Can I talk to someone?").await,
        "queued"
    );
    assert!(stand_in.requests("/chat/completions").is_empty());
    relay.stop().await;

    // Conditional, two attempts: the first unsure answer is shown, the second is not
    // and the chat goes to a person.
    let (_stand_in, addr) = serve_stand_in(vec![
        Script::Text(vec!["[[20]] Maybe a week?"]),
        Script::Text(vec!["[[10]] No idea."]),
    ])
    .await;
    let relay = relay_with(openai(addr), "confidence_threshold = 50").await;
    let (mut ws, _) = visitor(&relay).await;
    ask(&mut ws, "q1", "Where is my order?").await;
    assert_eq!(answer(&mut ws).await["body"], "Maybe a week?");
    ask(&mut ws, "q2", "Where is it really?").await;
    let handed = answer(&mut ws).await;
    assert_eq!(
        handed["body"],
        "I'm passing you to a person from the team now."
    );
    ws.next_status("queued").await;
    relay.stop().await;
}

#[tokio::test]
async fn an_empty_model_answer_still_gets_the_visitor_a_reply() {
    let (_stand_in, addr) = serve_stand_in(vec![Script::Text(vec!["[[90]]", "  "])]).await;
    let relay = relay_with(openai(addr), "").await;
    let (mut ws, _) = visitor(&relay).await;
    ask(&mut ws, "q1", "Hello?").await;
    let reply = answer(&mut ws).await;
    assert!(
        reply["body"]
            .as_str()
            .unwrap()
            .starts_with("I couldn't find anything about that"),
        "{reply}"
    );
    relay.stop().await;
}

#[tokio::test]
async fn a_site_past_its_daily_model_calls_hands_over_without_calling_the_model() {
    let (stand_in, addr) = serve_stand_in(vec![Script::Text(vec![
        "[[90]] Refunds take 5 to 10 working days [1].",
    ])])
    .await;
    let relay = relay_with(
        AiSettings {
            daily_model_calls: 1,
            ..openai(addr)
        },
        "escalation = \"off\"",
    )
    .await;
    let (mut ws, _) = visitor(&relay).await;
    ask(&mut ws, "q1", "How long do refunds take?").await;
    assert_eq!(
        answer(&mut ws).await["body"],
        "Refunds take 5 to 10 working days [1]."
    );
    // Another visitor, the same site: the day's one call is spent.
    let (mut other, _) = visitor(&relay).await;
    ask(&mut other, "q1", "How long do refunds take?").await;
    assert_eq!(
        answer(&mut other).await["body"],
        "I've answered all I can for today, so I'm bringing in a person from the team."
    );
    other.next_status("queued").await;
    assert_eq!(stand_in.requests("/chat/completions").len(), 1);
    relay.stop().await;
}

/// Whether a text shows a tag or a link that is not http(s).
fn unsafe_text(text: &str) -> bool {
    let lower = text.to_lowercase();
    lower.contains("script:")
        || text.as_bytes().windows(2).any(|pair| {
            pair[0] == b'<' && (pair[1].is_ascii_alphabetic() || b"/!?".contains(&pair[1]))
        })
}

#[tokio::test]
async fn model_output_is_sanitized_as_it_streams_when_stored_and_in_the_helpers() {
    let attack = Script::Text(vec![
        "[[90]] Refunds <scr",
        "ipt>alert(1)</scr",
        "ipt> take [x](java",
        "script:alert(1)) <",
        "<b>img src=x onerror=alert(1)>",
    ]);
    let helper = Script::Text(vec![
        "<img src=x onerror=alert(1)>Try [this](javascript:alert(1))",
    ]);
    let (_stand_in, addr) =
        serve_stand_in(vec![attack, helper.clone(), helper.clone(), helper]).await;
    let relay = relay_with(openai(addr), "").await;
    let (mut ws, id) = visitor(&relay).await;
    ask(&mut ws, "q1", "How long do refunds take?").await;
    let mut streamed = String::new();
    let stored = loop {
        let frame = ws.next_json().await;
        match frame["type"].as_str().unwrap() {
            "stream" => streamed.push_str(frame["text"].as_str().unwrap()),
            "message" if frame["author"] == "bot" => {
                break frame["body"].as_str().unwrap().to_owned();
            }
            _ => {}
        }
    };
    assert!(!unsafe_text(&streamed), "streamed: {streamed}");
    assert!(!unsafe_text(&stored), "stored: {stored}");
    assert_eq!(
        stored,
        "Refunds alert(1) take [x]  < img src=x onerror=alert(1)>"
    );
    for helper in ["suggest", "summary"] {
        let (status, answer) = call(
            &relay,
            "POST",
            &format!("/api/conversations/{id}/ai/{helper}"),
            Value::Null,
        )
        .await;
        assert_eq!(
            (status, answer["text"].as_str()),
            (200, Some("Try [this]")),
            "{helper}"
        );
    }
    let (_, translated) = call(
        &relay,
        "POST",
        &format!("/api/conversations/{id}/ai/translate"),
        json!({"text": "Hallo", "language": "en"}),
    )
    .await;
    assert_eq!(translated["text"], "Try [this]");
    relay.stop().await;
}

#[tokio::test]
async fn a_provider_that_is_down_gets_a_clear_message_and_a_person_is_offered() {
    let (stand_in, addr) = serve_stand_in(vec![Script::Fail(500); 4]).await;
    let relay = relay_with(openai(addr), "").await;
    let (mut ws, _) = visitor(&relay).await;
    ask(&mut ws, "q1", "How long do refunds take?").await;
    let reply = answer(&mut ws).await;
    assert_eq!(
        reply["body"],
        "Sorry, I can't answer right now: our AI service isn't responding. Choose \"Talk to a person\" and someone from the team will help."
    );
    assert_eq!(
        stand_in.requests("/chat/completions").len(),
        4,
        "retried three times"
    );
    assert_eq!(hand_over_now(&mut ws, "Talk to a person").await, "queued");
    relay.stop().await;
}

/// A JSON call with the admin's cookie; the status and the parsed answer.
async fn call(relay: &TestRelay, method: &str, path: &str, body: Value) -> (u16, Value) {
    let email = relay.admin().email.clone();
    let cookie = relay.agent_cookie(&email, "Admin").await;
    common::json_call(relay.addr, method, path, &cookie, body).await
}

#[tokio::test]
async fn admins_set_the_provider_test_it_and_never_see_the_key_again() {
    let (stand_in, addr) = serve_stand_in(Vec::new()).await;
    let relay = relay_with(AiSettings::default(), "").await;
    let (status, view) = call(&relay, "GET", "/api/admin/ai", Value::Null).await;
    assert_eq!(status, 200);
    assert_eq!(view["provider"], "none");

    let (status, refused) = call(
        &relay,
        "PUT",
        "/api/admin/ai",
        json!({"provider": "openai", "chat_model": "gpt-test"}),
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("ai.api_key is required"),
        "{refused}"
    );

    // Test before saving: a server that is not there says so plainly.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let (_, failed) = call(&relay, "POST", "/api/admin/ai/test", json!({
        "provider": "compatible", "base_url": format!("http://{closed}/v1"), "chat_model": "llama3.2"
    })).await;
    assert_eq!(failed["ok"], false);
    assert!(
        failed["message"]
            .as_str()
            .unwrap()
            .starts_with("cannot reach the AI provider"),
        "{failed}"
    );

    // A refused key is named as such.
    stand_in.script.lock().unwrap().push_back(Script::Fail(401));
    let (_, refused) = call(&relay, "POST", "/api/admin/ai/test", json!({
        "provider": "openai", "api_key": "sk-wrong", "chat_model": "gpt-test", "base_url": format!("http://{addr}/v1")
    })).await;
    assert_eq!(refused["ok"], false);
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .starts_with("the AI provider refused the API key (401"),
        "{refused}"
    );

    let form = json!({
        "provider": "openai", "api_key": "sk-console", "chat_model": "gpt-test",
        "base_url": format!("http://{addr}/v1"), "embedding_model": "embed-test"
    });
    let (_, worked) = call(&relay, "POST", "/api/admin/ai/test", form.clone()).await;
    assert_eq!(worked["ok"], true, "{worked}");
    assert_eq!(
        worked["message"],
        "Chat works (gpt-test). Embeddings work (3 dimensions)."
    );
    let (status, saved) = call(&relay, "PUT", "/api/admin/ai", form).await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["api_key_set"], true);
    assert!(
        !saved.to_string().contains("sk-console"),
        "the key is never sent back"
    );

    // Saved settings are used at once and survive a restart; an empty key keeps it.
    let (status, kept) = call(&relay, "PUT", "/api/admin/ai", json!({
        "provider": "openai", "api_key": "", "chat_model": "gpt-test", "base_url": format!("http://{addr}/v1")
    })).await;
    assert_eq!((status, &kept["api_key_set"]), (200, &json!(true)));
    let dir = relay.stop().await;
    let relay = common::start_in(dir).await;
    assert_eq!(relay.state.ai.settings().api_key, "sk-console");
    let (mut ws, _) = visitor(&relay).await;
    ask(&mut ws, "q1", "How long do refunds take?").await;
    assert_eq!(answer(&mut ws).await["body"], "OK");
    let last = stand_in.requests("/chat/completions").pop().unwrap();
    assert!(
        last.headers
            .contains(&("authorization".into(), "Bearer sk-console".into()))
    );
    relay.stop().await;
}

#[tokio::test]
async fn agents_get_a_suggested_reply_a_summary_and_translations() {
    let (stand_in, addr) = serve_stand_in(Vec::new()).await;
    let relay = relay_with(openai(addr), "").await;
    let (mut ws, id) = visitor(&relay).await;
    ask(&mut ws, "q1", "Wo ist meine Bestellung?").await;
    answer(&mut ws).await;

    let (status, suggested) = call(
        &relay,
        "POST",
        &format!("/api/conversations/{id}/ai/suggest"),
        Value::Null,
    )
    .await;
    assert_eq!((status, suggested["text"].as_str()), (200, Some("OK")));
    let request = stand_in.requests("/chat/completions").pop().unwrap();
    assert!(
        request.body["messages"][0]["content"]
            .as_str()
            .unwrap()
            .contains("next reply")
    );
    assert!(
        request.body["messages"][1]["content"]
            .as_str()
            .unwrap()
            .contains("user: Wo ist meine Bestellung?")
    );

    let (status, _) = call(
        &relay,
        "POST",
        &format!("/api/conversations/{id}/ai/summary"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 200);
    let request = stand_in.requests("/chat/completions").pop().unwrap();
    assert!(
        request.body["messages"][0]["content"]
            .as_str()
            .unwrap()
            .contains("Summarise")
    );

    let (status, translated) = call(
        &relay,
        "POST",
        &format!("/api/conversations/{id}/ai/translate"),
        json!({"text": "Wo ist meine Bestellung?", "language": "en-GB"}),
    )
    .await;
    assert_eq!((status, translated["text"].as_str()), (200, Some("OK")));
    let request = stand_in.requests("/chat/completions").pop().unwrap();
    assert!(
        request.body["messages"][0]["content"]
            .as_str()
            .unwrap()
            .contains("\"en-GB\"")
    );
    assert_eq!(
        request.body["messages"][1]["content"],
        "Wo ist meine Bestellung?"
    );

    let (status, _) = call(
        &relay,
        "POST",
        "/api/conversations/999/ai/suggest",
        Value::Null,
    )
    .await;
    assert_eq!(status, 404);
    relay.stop().await;

    let relay = relay_with(AiSettings::default(), "").await;
    let (_, id) = visitor(&relay).await;
    let (status, answer) = call(
        &relay,
        "POST",
        &format!("/api/conversations/{id}/ai/summary"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(answer["message"], "no AI provider is configured");
    relay.stop().await;
}

#[tokio::test]
async fn admins_upload_list_and_delete_knowledge_and_answers_follow() {
    let relay = relay_with(AiSettings::default(), "").await;
    let (status, _) = call(
        &relay,
        "POST",
        "/api/admin/knowledge",
        json!({"name": "kettles.pdf", "text": "x"}),
    )
    .await;
    assert_eq!(status, 422);
    let (status, added) = call(
        &relay,
        "POST",
        "/api/admin/knowledge",
        json!({"name": "kettles.md", "text": "# Kettles\n\nEvery kettle has a two year warranty."}),
    )
    .await;
    assert_eq!(
        (status, &added["outcome"], &added["chunks"]),
        (200, &json!("added"), &json!(1))
    );
    let (_, documents) = call(&relay, "GET", "/api/admin/knowledge", Value::Null).await;
    let kettles = documents
        .as_array()
        .unwrap()
        .iter()
        .find(|doc| doc["title"] == "Kettles")
        .unwrap()
        .clone();
    assert_eq!(kettles["source"], "upload:kettles.md");

    let (mut ws, _) = visitor(&relay).await;
    ask(&mut ws, "q1", "kettle warranty").await;
    assert!(
        answer(&mut ws).await["body"]
            .as_str()
            .unwrap()
            .contains("two year warranty")
    );

    let (status, _) = call(
        &relay,
        "DELETE",
        &format!("/api/admin/knowledge/{}", kettles["id"]),
        Value::Null,
    )
    .await;
    assert_eq!(status, 204);
    ask(&mut ws, "q2", "kettle warranty").await;
    assert!(
        answer(&mut ws).await["body"]
            .as_str()
            .unwrap()
            .contains("couldn't find anything")
    );

    let (status, failed) = call(
        &relay,
        "POST",
        "/api/admin/knowledge/crawl",
        json!({"url": "file:///etc"}),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(failed["message"], "\"file:///etc\" is not an http(s) URL");

    let agent = relay.agent_cookie("ana@example.com", "Ana").await;
    let (status, _, _) = common::http(
        relay.addr,
        "GET",
        "/api/admin/knowledge",
        &[("Cookie", &agent)],
        "",
    )
    .await;
    assert_eq!(status, 403, "only admins manage knowledge");
    relay.stop().await;
}
