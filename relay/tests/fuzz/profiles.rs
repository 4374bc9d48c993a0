//! The profile compiler, TOML and JSON: any text parses or is refused with a message;
//! a parsed profile compiles or lists its problems; it renders in both formats and
//! reads back the same with the same verdict (profiles are stored as JSON and edited
//! as TOML); and a compiled flow runs a few turns of odd answers without running away.

use porchlight_relay::flow::{Answer, Facts, FlowState, Format, Output, Profile, compile};
use porchlight_relay::profiles::default_profile;

use crate::engine::Fuzzer;

const DICTIONARY: &[&str] = &[
    "[[steps]]\n",
    "[steps.agent]\n",
    "[[steps.choices]]\n",
    "[steps.when]\n",
    "[steps.save]\n",
    "[appearance]\n",
    "[waiting]\n",
    "[working_hours]\n",
    "[working_hours.schedule]\n",
    "id = ",
    "type = ",
    "\"message\"",
    "\"question\"",
    "\"input\"",
    "\"condition\"",
    "\"action\"",
    "action = ",
    "\"start_live_chat\"",
    "\"end_chat\"",
    "\"create_ticket\"",
    "\"call_webhook\"",
    "\"set_variable\"",
    "\"ai_agent\"",
    "next = ",
    "then = ",
    "else = ",
    "start = ",
    "offline_start = ",
    "text = ",
    "input = ",
    "\"email\"",
    "\"number\"",
    "\"date\"",
    "\"choice\"",
    "pattern = ",
    "\"^[a-z]+$\"",
    "\"(\"",
    "variable = ",
    "test = ",
    "\"variable\"",
    "\"identified\"",
    "\"in_working_hours\"",
    "\"agents_available\"",
    "\"linked_to_ticket\"",
    "equals = ",
    "contains = ",
    "is_set = true",
    "teams = [\"Support\"]",
    "attachments = ",
    "\"allow\"",
    "\"identified\"",
    "url = ",
    "\"https://hooks.test/x\"",
    "timeout_ms = ",
    "18446744073709551615",
    "-1",
    "1e400",
    "name = ",
    "value = ",
    "\"$NAME\"",
    "\"$X$X$X\"",
    "time_zone = ",
    "\"Europe/London\"",
    "\"Mars/Olympus\"",
    "mon = [\"09:00-17:00\"]",
    "\"25:99-00:00\"",
    "closed_dates = [\"2026-02-30\"]",
    "can_start_here = true",
    "label = ",
    "\"\"",
    "'''",
    "\"\"\"",
    "{",
    "}",
    "[",
    "]",
    "=",
    ",",
    "\n",
    "#",
    ".",
    "\\u0000",
    "😀",
];

/// Always true or always false, by the input's first byte: both branches get tried.
struct Coin(u8);

impl Facts for Coin {
    fn linked_to_ticket(&self) -> bool {
        self.0 & 1 == 1
    }
    fn identified(&self) -> bool {
        self.0 & 2 == 2
    }
    fn in_working_hours(&self) -> bool {
        self.0 & 4 == 4
    }
    fn agents_available(&self, _teams: &[String]) -> bool {
        self.0 & 8 == 8
    }
}

/// What one turn may say, at most: a runaway flow or variable fails here.
const MAX_TURN_BYTES: usize = 4 * 1024 * 1024;

fn said(outputs: &[Output]) -> usize {
    outputs
        .iter()
        .map(|output| format!("{output:?}").len())
        .sum()
}

/// Starts the flow and answers a few times, each turn bounded.
fn run_flow(profile: &Profile, facts: &Coin) -> String {
    let Ok((flow, _warnings)) = compile(profile.clone()) else {
        return "refused".to_owned();
    };
    let mut state = FlowState::default();
    let outputs = flow.start_at(&mut state, &profile.start, facts);
    assert!(said(&outputs) < MAX_TURN_BYTES, "the first turn ran away");
    let mut turns = 0;
    for answer in [
        "1",
        "2",
        "yes",
        "ada@example.com",
        "42",
        "2026-12-01",
        "$X$X",
        "",
    ] {
        if let Answer::Accepted { outputs, .. } | Answer::Rejected { outputs } =
            flow.answer(&mut state, answer, facts)
        {
            assert!(said(&outputs) < MAX_TURN_BYTES, "a turn ran away");
            turns += 1;
        }
        let held: usize = state.variables.values().map(String::len).sum();
        assert!(held < MAX_TURN_BYTES, "the variables ran away");
    }
    format!("ran {turns} turns")
}

fn profile(input: &[u8]) -> String {
    let text = String::from_utf8_lossy(input);
    let facts = Coin(input.first().copied().unwrap_or_default());
    let mut outcome = String::new();
    for format in [Format::Toml, Format::Json] {
        let Ok(parsed) = Profile::parse(&text, format) else {
            outcome.push_str(&format!("{format:?}: refused; "));
            continue;
        };
        let verdict = compile(parsed.clone()).map(|(_, warnings)| warnings.len());
        for written_as in [Format::Toml, Format::Json] {
            let written = parsed.render(written_as);
            let again = Profile::parse(&written, written_as).unwrap_or_else(|err| {
                panic!("a parsed profile reads back as {written_as:?}: {err}\n{written}")
            });
            assert_eq!(
                again, parsed,
                "the {written_as:?} rendering changes the profile"
            );
        }
        outcome.push_str(&format!(
            "{format:?}: {} problem(s) or {} warning(s), {}; ",
            verdict.as_ref().err().map_or(0, Vec::len),
            verdict.as_ref().map_or(0, |warnings| *warnings),
            run_flow(&parsed, &facts),
        ));
    }
    outcome
}

fn seeds() -> Vec<Vec<u8>> {
    let shipped = default_profile();
    let helpdesk = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/helpdesk.toml");
    vec![
        std::fs::read(helpdesk).expect("the example profile"),
        shipped.render(Format::Toml).into_bytes(),
        shipped.render(Format::Json).into_bytes(),
    ]
}

#[test]
fn profiles() {
    Fuzzer::new("profiles", seeds(), DICTIONARY).run(Fuzzer::budget(3_000), profile);
}
