//! The pure functions every message or answer goes through, timed one call at a time:
//! reading a visitor's frame, writing a message frame, a turn of the bot flow, making
//! an AI answer safe to show, splitting an article into passages, and embedding a
//! question with the built-in model.
//!
//! cargo bench -p porchlight-relay --bench hot_paths

use divan::{Bencher, black_box};
use porchlight_protocol::{VisitorEvent, parse_visitor_request, to_text};
use porchlight_relay::flow::{Facts, Flow, FlowState, Format, Profile, compile};
use porchlight_relay::knowledge;
use porchlight_relay::store::knowledge::DocFormat;

fn main() {
    divan::main();
}

/// A visitor's message as the widget sends it.
const SEND: &str = r#"{"type":"send","client_msg_id":"m-1764601234567-3","body":"Hello, my order 4417 has not arrived yet and the tracking page says nothing since Monday."}"#;

/// A message as the relay sends it to the widget and the console.
const MESSAGE: &str = r#"{"type":"message","conversation_id":73125,"seq":14,"author":"agent","author_name":"Ana","body":"Sorry about that! I can see the parcel left our warehouse on Monday; I'll chase the courier now.","client_msg_id":"a-88","at":1764601234567}"#;

#[divan::bench]
fn read_a_visitor_frame() {
    parse_visitor_request(black_box(SEND)).unwrap();
}

#[divan::bench]
fn write_a_message_frame(bencher: Bencher) {
    let event: VisitorEvent = serde_json::from_str(MESSAGE).unwrap();
    bencher.bench(|| to_text(black_box(&event)));
}

/// Outside working hours, with nobody available: the example flow's three turns
/// (start, an email address, the question that becomes a ticket).
struct Closed;

impl Facts for Closed {
    fn linked_to_ticket(&self) -> bool {
        false
    }
    fn identified(&self) -> bool {
        false
    }
    fn in_working_hours(&self) -> bool {
        false
    }
    fn agents_available(&self, _: &[String]) -> bool {
        false
    }
}

fn helpdesk() -> Flow {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/helpdesk.toml");
    let text = std::fs::read_to_string(path).unwrap();
    compile(Profile::parse(&text, Format::Toml).unwrap())
        .unwrap()
        .0
}

#[divan::bench]
fn three_turns_of_the_bot_flow(bencher: Bencher) {
    let flow = helpdesk();
    let start = flow.profile.offline_start.clone().unwrap();
    bencher.bench(|| {
        let mut state = FlowState::default();
        flow.start_at(&mut state, &start, &Closed);
        flow.answer(&mut state, black_box("bo@example.com"), &Closed);
        flow.answer(&mut state, black_box("Do you fix boilers?"), &Closed)
    });
}

/// An AI answer with markdown, a link, a confidence marker and a stray tag.
const ANSWER: &str = "**Refunds** take 5 to 10 working days once the parcel is back [[92%]]. \
    See [our returns page](https://shop.example.com/returns) or <script>alert(1)</script> \
    write to support@example.com.\n\n- Keep the receipt\n- Use the prepaid label";

#[divan::bench]
fn make_an_ai_answer_safe() {
    porchlight_relay::ai::sanitize::sanitize(black_box(ANSWER));
}

#[divan::bench]
fn split_an_article_into_passages(bencher: Bencher) {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/knowledge/orders.md");
    let text = std::fs::read_to_string(path).unwrap();
    bencher.bench(|| {
        knowledge::document("orders.md", DocFormat::Markdown, black_box(&text), "Orders")
    });
}

/// A visitor's question through the built-in embedding model: the no-key agent embeds
/// each question, and once more for each word it weighs (`ai::judge`).
#[divan::bench(sample_count = 20)]
fn embed_a_question_with_the_built_in_model() {
    porchlight_minilm::built_in().embed(black_box("Can I export invoices to QuickBooks?"));
}
