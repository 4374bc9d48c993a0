//! Engine tests for every step type and condition; validation tests for every problem.

use std::collections::BTreeMap;

use porchlight_protocol::words::Language;
use porchlight_protocol::{InputKind, Prompt};

use super::engine::{Waiting, expand};
use super::input::check_input;
use super::*;

#[derive(Default)]
struct World {
    ticket: bool,
    identified: bool,
    open: bool,
    staffed: Vec<String>,
}

impl Facts for World {
    fn linked_to_ticket(&self) -> bool {
        self.ticket
    }
    fn identified(&self) -> bool {
        self.identified
    }
    fn in_working_hours(&self) -> bool {
        self.open
    }
    fn agents_available(&self, teams: &[String]) -> bool {
        teams.iter().any(|team| self.staffed.contains(team))
    }
}

fn example() -> Flow {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/helpdesk.toml"),
    )
    .unwrap();
    let (flow, warnings) = compile(Profile::parse(&text, Format::Toml).unwrap()).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    flow
}

fn flow(steps: &str) -> Result<(Flow, Vec<Problem>), Vec<Problem>> {
    let text = format!("name = \"t\"\nstart = \"a\"\n{steps}");
    compile(Profile::parse(&text, Format::Toml).unwrap())
}

fn ok(steps: &str) -> Flow {
    flow(steps)
        .unwrap_or_else(|problems| panic!("{problems:#?}"))
        .0
}

fn problems(steps: &str) -> Vec<String> {
    match flow(steps) {
        Ok((_, warnings)) => warnings.iter().map(ToString::to_string).collect(),
        Err(problems) => problems.iter().map(ToString::to_string).collect(),
    }
}

fn says(outputs: &[Output]) -> Vec<&str> {
    outputs
        .iter()
        .filter_map(|output| match output {
            Output::Say(text) => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

fn accepted(answer: Answer) -> (String, Vec<Output>) {
    match answer {
        Answer::Accepted { value, outputs } => (value, outputs),
        other => panic!("expected the answer to be taken, got {other:?}"),
    }
}

#[test]
fn the_example_walks_from_greeting_to_live_chat_in_working_hours() {
    let flow = example();
    let world = World {
        open: true,
        ..World::default()
    };
    let mut state = FlowState::default();
    let outputs = flow.start_at(&mut state, "greet", &world);
    assert_eq!(
        says(&outputs),
        [
            "Hello! I'm the Acme assistant.",
            "What can we help you with?"
        ]
    );
    assert_eq!(
        outputs.last(),
        Some(&Output::Ask(Prompt {
            step_id: "topic".into(),
            choices: vec![
                "A leak or burst pipe".into(),
                "Billing".into(),
                "Something else".into()
            ],
            input: None,
        }))
    );
    assert_eq!(state.waiting, Some(Waiting::Visitor));
    assert_eq!(flow.current_prompt(&state).unwrap().step_id, "topic");

    let (value, outputs) = accepted(flow.answer(&mut state, "a leak or burst pipe", &world));
    assert_eq!(value, "A leak or burst pipe");
    assert_eq!(
        says(&outputs)[0],
        "For a leak, turn off the stopcock first (usually under the kitchen sink)."
    );
    assert_eq!(state.step.as_deref(), Some("email"));

    let rejected = flow.answer(&mut state, "not an email", &world);
    let Answer::Rejected { outputs } = rejected else {
        panic!("an invalid email is refused");
    };
    assert_eq!(
        says(&outputs),
        ["That does not look like an email address. Could you check it?"]
    );
    assert!(
        matches!(outputs.last(), Some(Output::Ask(prompt)) if prompt.input == Some(InputKind::Email))
    );
    assert_eq!(state.step.as_deref(), Some("email"), "still asking");

    let (value, outputs) = accepted(flow.answer(&mut state, " ana@example.com ", &world));
    assert_eq!(value, "ana@example.com");
    assert_eq!(state.variables["email"], "ana@example.com");
    assert_eq!(
        says(&outputs),
        [
            "Thanks! I'm connecting you with the team now: you're number $QUEUEPOSITION in line, about $WAITTIME min."
        ],
        "the queue fills its own variables later"
    );
    assert_eq!(
        outputs.last(),
        Some(&Output::StartLiveChat {
            teams: vec!["Support".into()],
            attachments: AttachmentPolicy::Identified
        })
    );
    assert_eq!(state.waiting, None);
}

#[test]
fn out_of_hours_the_example_takes_a_message_into_a_ticket() {
    let flow = example();
    let world = World::default();
    let mut state = FlowState::default();
    let start = flow.profile.offline_start.clone().unwrap();
    let outputs = flow.start_at(&mut state, &start, &world);
    assert!(says(&outputs)[0].starts_with("We're closed right now"));
    accepted(flow.answer(&mut state, "bo@example.com", &world));
    let (_, outputs) = accepted(flow.answer(&mut state, "Do you fix boilers?", &world));
    assert_eq!(
        outputs,
        vec![
            Output::CreateTicket {
                subject: "Chat question: Do you fix boilers?".into(),
                acknowledgement: None,
            },
            Output::Say("Thanks, we've got it and will reply to bo@example.com.".into()),
            Output::EndChat,
        ]
    );
}

#[test]
fn a_question_takes_a_label_or_its_number_and_refuses_anything_else() {
    let flow = ok(r#"
[[steps]]
id = "a"
type = "question"
text = "Pick"
choices = [{ label = "Red", next = "r" }, { label = "Blue", next = "b" }]
[[steps]]
id = "r"
type = "message"
text = "red"
[[steps]]
id = "b"
type = "message"
text = "blue"
"#);
    let world = World::default();
    let mut state = FlowState::default();
    flow.start_at(&mut state, "a", &world);
    assert!(matches!(
        flow.answer(&mut state, "green", &world),
        Answer::Rejected { .. }
    ));
    let (value, outputs) = accepted(flow.answer(&mut state, "2", &world));
    assert_eq!((value.as_str(), says(&outputs)), ("Blue", vec!["blue"]));
    assert_eq!(
        flow.answer(&mut state, "Red", &world),
        Answer::NotWaiting,
        "the flow has ended"
    );
}

#[test]
fn inputs_validate_each_type() {
    let none: &[String] = &[];
    assert_eq!(
        check_input(InputType::Text, "  hi ", none).as_deref(),
        Some("hi")
    );
    assert_eq!(check_input(InputType::Text, "   ", none), None);
    assert_eq!(
        check_input(InputType::Email, "a@b.co", none).as_deref(),
        Some("a@b.co")
    );
    for bad in ["a@b", "@b.co", "a b@c.co", "a@@b.co", "a@.co"] {
        assert_eq!(check_input(InputType::Email, bad, none), None, "{bad}");
    }
    assert_eq!(
        check_input(InputType::Number, "3,5", none).as_deref(),
        Some("3.5")
    );
    assert_eq!(check_input(InputType::Number, "three", none), None);
    assert_eq!(
        check_input(InputType::Date, "2026-12-24", none).as_deref(),
        Some("2026-12-24")
    );
    assert_eq!(check_input(InputType::Date, "2026-02-30", none), None);
    assert_eq!(
        check_input(InputType::YesNo, "Y", none).as_deref(),
        Some("yes")
    );
    assert_eq!(check_input(InputType::YesNo, "nope", none), None);
    // The widget's yes and no buttons in each of its languages.
    for (button, meaning) in [("Ja", "yes"), ("Sí", "yes"), ("Oui", "yes"), ("نعم", "yes")]
        .into_iter()
        .chain([("Nein", "no"), ("Non", "no"), ("No", "no"), ("لا", "no")])
    {
        assert_eq!(
            check_input(InputType::YesNo, button, none).as_deref(),
            Some(meaning)
        );
    }
    let options = ["Small".to_owned(), "Large".to_owned()];
    assert_eq!(
        check_input(InputType::Choice, "large", &options).as_deref(),
        Some("Large")
    );
    assert_eq!(check_input(InputType::Choice, "medium", &options), None);
}

#[test]
fn an_input_pattern_must_match_and_the_answer_lands_in_its_variable() {
    let flow = ok(r#"
[[steps]]
id = "a"
type = "input"
input = "text"
variable = "Order"
pattern = "^ORD-[0-9]{4}$"
text = "Order number?"
next = "b"
[[steps]]
id = "b"
type = "message"
text = "Looking up $ORDER for you"
"#);
    let world = World::default();
    let mut state = FlowState::default();
    flow.start_at(&mut state, "a", &world);
    let Answer::Rejected { outputs } = flow.answer(&mut state, "12", &world) else {
        panic!("a non-matching answer is refused");
    };
    assert_eq!(says(&outputs), ["Please type an answer."]);
    let (_, outputs) = accepted(flow.answer(&mut state, "ORD-1234", &world));
    assert_eq!(says(&outputs), ["Looking up ORD-1234 for you"]);
}

#[test]
fn every_condition_branches_on_its_fact() {
    let condition = |when: &str| {
        ok(&format!(
            r#"
[[steps]]
id = "a"
type = "condition"
when = {when}
then = "yes"
else = "no"
[[steps]]
id = "yes"
type = "message"
text = "yes"
[[steps]]
id = "no"
type = "message"
text = "no"
"#
        ))
    };
    let branch = |flow: &Flow, world: &World, variables: &[(&str, &str)]| {
        let mut state = FlowState {
            variables: variables
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            ..FlowState::default()
        };
        says(&flow.start_at(&mut state, "a", world))[0].to_owned()
    };
    let none = World::default();
    let cases: Vec<(&str, World)> = vec![
        (
            r#"{ test = "linked_to_ticket" }"#,
            World {
                ticket: true,
                ..World::default()
            },
        ),
        (
            r#"{ test = "identified" }"#,
            World {
                identified: true,
                ..World::default()
            },
        ),
        (
            r#"{ test = "in_working_hours" }"#,
            World {
                open: true,
                ..World::default()
            },
        ),
        (
            r#"{ test = "agents_available", teams = ["Sales"] }"#,
            World {
                staffed: vec!["Sales".into()],
                ..World::default()
            },
        ),
    ];
    for (when, world) in cases {
        let flow = condition(when);
        assert_eq!(branch(&flow, &world, &[]), "yes", "{when}");
        assert_eq!(branch(&flow, &none, &[]), "no", "{when}");
    }
    let equals = condition(r#"{ test = "variable", variable = "topic", equals = "billing" }"#);
    assert_eq!(branch(&equals, &none, &[("topic", "Billing")]), "yes");
    assert_eq!(branch(&equals, &none, &[("topic", "other")]), "no");
    let contains = condition(r#"{ test = "variable", variable = "topic", contains = "LEAK" }"#);
    assert_eq!(
        branch(&contains, &none, &[("topic", "a leak upstairs")]),
        "yes"
    );
    assert_eq!(branch(&contains, &none, &[]), "no");
    let is_set = condition(r#"{ test = "variable", variable = "email", is_set = true }"#);
    assert_eq!(branch(&is_set, &none, &[("email", "a@b.co")]), "yes");
    assert_eq!(branch(&is_set, &none, &[("email", "")]), "no");
}

#[test]
fn actions_set_variables_call_webhooks_and_end() {
    let flow = ok(r#"
[[steps]]
id = "a"
type = "action"
action = "set_variable"
name = "plan"
value = "gold"
next = "hook"
[[steps]]
id = "hook"
type = "action"
action = "call_webhook"
url = "https://crm.example/lookup"
save = { customer = "/customer/name" }
next = "done"
[[steps]]
id = "done"
type = "action"
action = "end_chat"
text = "Bye $CUSTOMER ($PLAN)"
"#);
    let world = World::default();
    let mut state = FlowState::default();
    let outputs = flow.start_at(&mut state, "a", &world);
    assert_eq!(
        outputs,
        vec![Output::CallWebhook {
            url: "https://crm.example/lookup".into(),
            timeout_ms: 5_000,
            variables: BTreeMap::from([("plan".into(), "gold".into())]),
        }]
    );
    assert_eq!(state.waiting, Some(Waiting::Webhook));
    let response = serde_json::json!({"customer": {"name": "Ana"}});
    let outputs = flow.webhook_done(&mut state, Some(&response), &world);
    assert_eq!(
        outputs,
        vec![Output::Say("Bye Ana (gold)".into()), Output::EndChat]
    );
}

#[test]
fn a_variable_fed_into_itself_in_a_loop_stays_bounded() {
    let flow = ok(r#"
[[steps]]
id = "a"
type = "input"
input = "text"
variable = "y"
text = "Say something"
next = "grow"
[[steps]]
id = "grow"
type = "action"
action = "set_variable"
name = "x"
value = "$X$X$Y"
next = "a"
"#);
    let world = World::default();
    let mut state = FlowState::default();
    flow.start_at(&mut state, "a", &world);
    flow.answer(&mut state, "ab", &world);
    flow.answer(&mut state, "c", &world);
    assert_eq!(
        state.variables["x"], "$X$Xab$X$Xabc",
        "unset at first, then doubled"
    );
    // Unbounded, forty answers would make it terabytes.
    for _ in 0..40 {
        let answered = flow.answer(&mut state, "abc", &world);
        assert!(matches!(answered, Answer::Accepted { .. }));
    }
    assert_eq!(
        state.variables["x"].chars().count(),
        porchlight_protocol::MAX_BODY_CHARS
    );
}

#[test]
fn a_failed_webhook_leaves_its_variables_unset_and_goes_on() {
    let flow = ok(r#"
[[steps]]
id = "a"
type = "action"
action = "call_webhook"
url = "https://crm.example/lookup"
save = { customer = "/name" }
next = "b"
[[steps]]
id = "b"
type = "message"
text = "Hi $CUSTOMER"
"#);
    let world = World::default();
    let mut state = FlowState::default();
    flow.start_at(&mut state, "a", &world);
    assert_eq!(
        flow.webhook_done(&mut state, None, &world),
        vec![Output::Say("Hi $CUSTOMER".into())]
    );
}

#[test]
fn variables_expand_case_insensitively_and_unknown_ones_stay() {
    let variables = BTreeMap::from([("name".to_owned(), "Ana".to_owned())]);
    assert_eq!(
        expand("Hi $NAME, about $WAITTIME min. $ $5", &variables),
        "Hi Ana, about $WAITTIME min. $ $5"
    );
}

#[test]
fn start_steps_must_be_marked() {
    let flow = example();
    assert!(flow.can_start_at("topic"));
    assert!(!flow.can_start_at("to_agent"));
    assert!(!flow.can_start_at("nowhere"));
}

// Validation: every problem the issue lists, each named by step and field.

#[test]
fn a_missing_step_is_named() {
    let found =
        problems("[[steps]]\nid = \"a\"\ntype = \"message\"\ntext = \"x\"\nnext = \"ghost\"\n");
    assert_eq!(
        found,
        ["error: step \"a\", field \"next\": leads to step \"ghost\", which does not exist"]
    );
}

#[test]
fn no_start_or_an_unknown_start_is_refused() {
    let profile = |start: &str| {
        compile(
            Profile::parse(
                &format!("name = \"t\"\nstart = \"{start}\"\n[[steps]]\nid = \"a\"\ntype = \"message\"\ntext = \"x\"\n"),
                Format::Toml,
            )
            .unwrap(),
        )
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
    };
    assert!(profile("")[0].contains("field \"start\": the profile has no start step"));
    assert!(profile("b")[0].contains("the start step \"b\" does not exist"));
    let missing = Profile::parse("name = \"t\"\n", Format::Toml).unwrap_err();
    assert!(missing.0.contains("start"), "{missing}");
}

#[test]
fn a_question_without_choices_is_refused() {
    let found = problems("[[steps]]\nid = \"a\"\ntype = \"question\"\ntext = \"Pick\"\n");
    assert_eq!(
        found,
        ["error: step \"a\", field \"choices\": a question needs at least one choice"]
    );
}

#[test]
fn an_invalid_pattern_is_refused() {
    let found = problems(
        "[[steps]]\nid = \"a\"\ntype = \"input\"\ninput = \"text\"\nvariable = \"v\"\ntext = \"?\"\npattern = \"([a-z\"\nnext = \"a\"\n",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("error: step \"a\", field \"pattern\": not a valid pattern"));
}

#[test]
fn a_loop_that_never_waits_is_refused_and_one_that_waits_is_fine() {
    let found = problems(
        "[[steps]]\nid = \"a\"\ntype = \"message\"\ntext = \"x\"\nnext = \"b\"\n[[steps]]\nid = \"b\"\ntype = \"condition\"\nwhen = { test = \"identified\" }\nthen = \"a\"\nelse = \"a\"\n",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("loop without waiting for the visitor: a → b → a"),
        "{found:?}"
    );
    ok(
        "[[steps]]\nid = \"a\"\ntype = \"message\"\ntext = \"x\"\nnext = \"b\"\n[[steps]]\nid = \"b\"\ntype = \"question\"\ntext = \"again?\"\nchoices = [{ label = \"Yes\", next = \"a\" }]\n",
    );
}

#[test]
fn unreachable_steps_are_warnings() {
    let (_, warnings) = flow(
        "[[steps]]\nid = \"a\"\ntype = \"message\"\ntext = \"x\"\n[[steps]]\nid = \"island\"\ntype = \"message\"\ntext = \"y\"\n",
    )
    .unwrap();
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0].severity, Severity::Warning);
    assert_eq!(warnings[0].step.as_deref(), Some("island"));
    let (_, warnings) = flow(
        "[[steps]]\nid = \"a\"\ntype = \"message\"\ntext = \"x\"\n[[steps]]\nid = \"entry\"\ntype = \"message\"\ntext = \"y\"\ncan_start_here = true\n",
    )
    .unwrap();
    assert!(
        warnings.is_empty(),
        "a step pages can start at is reachable"
    );
}

#[test]
fn wrong_types_fields_and_values_are_each_named() {
    let found = problems(
        r#"
[[steps]]
id = "a"
type = "mesage"
[[steps]]
id = "b"
type = "message"
text = "x"
choices = [{ label = "no", next = "a" }]
[[steps]]
id = "c"
type = "input"
input = "colour"
variable = "v"
text = "?"
next = "a"
[[steps]]
id = "d"
type = "condition"
when = { test = "variable", variable = "v", equals = "1", contains = "2" }
then = "a"
else = "a"
[[steps]]
id = "e"
type = "action"
action = "launch"
[[steps]]
id = "f"
type = "action"
action = "call_webhook"
url = "ftp://x"
[[steps]]
id = "a"
type = "message"
text = "dup"
"#,
    );
    let expect = [
        "step \"a\", field \"id\": two steps have this id",
        "step \"a\", field \"type\": \"mesage\" is not a step type",
        "step \"b\", field \"choices\": \"choices\" does not apply to this message step",
        "step \"c\", field \"input\": \"colour\" is not an input type",
        "step \"d\", field \"when\": a variable test needs exactly one of equals, contains or is_set",
        "step \"e\", field \"action\": \"launch\" is not an action",
        "step \"f\", field \"url\": \"ftp://x\" is not an http(s) URL",
    ];
    for expected in expect {
        assert!(
            found.iter().any(|problem| problem.contains(expected)),
            "missing {expected:?} in {found:#?}"
        );
    }
}

#[test]
fn profile_level_fields_are_checked() {
    let text = r##"
name = "t"
start = "a"
[appearance]
colour = "blue"
[working_hours]
time_zone = "Nowhere/Land"
closed_dates = ["tomorrow"]
[working_hours.schedule]
funday = ["25:00-26:00"]
[[steps]]
id = "a"
type = "message"
text = "x"
"##;
    let found: Vec<String> = compile(Profile::parse(text, Format::Toml).unwrap())
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect();
    for expected in [
        "field \"appearance.colour\"",
        "field \"working_hours.time_zone\"",
        "\"funday\" is not a weekday",
        "\"25:00-26:00\" on funday is not a range",
        "field \"working_hours.closed_dates\"",
    ] {
        assert!(
            found.iter().any(|p| p.contains(expected)),
            "missing {expected:?} in {found:#?}"
        );
    }
}

const AI_STEP: &str = "[[steps]]\nid = \"a\"\ntype = \"action\"\naction = \"ai_agent\"\nteams = [\"Support\"]\n[steps.agent]\ngreeting = \"Hi $NAME, ask away.\"\n";

#[test]
fn the_ai_step_greets_waits_for_questions_and_hands_over_by_the_hours() {
    let flow = ok(AI_STEP);
    let mut state = FlowState::default();
    state.variables.insert("name".into(), "Ana".into());
    let open = World {
        open: true,
        ..World::default()
    };
    let outputs = flow.start_at(&mut state, "a", &open);
    assert_eq!(outputs[0], Output::Say("Hi Ana, ask away.".into()));
    let Output::Ask(prompt) = &outputs[1] else {
        panic!("{outputs:?}")
    };
    assert_eq!(prompt.choices, ["Talk to a person"]);
    assert_eq!(prompt.input, Some(InputKind::Text));
    assert_eq!(state.waiting, Some(Waiting::Ai));
    assert_eq!(flow.current_prompt(&state).as_ref(), Some(prompt));
    assert_eq!(flow.ai_agent(&state).unwrap().1, ["Support"]);
    assert!(matches!(
        flow.answer(&mut state, "hi", &open),
        Answer::NotWaiting
    ));

    let mut in_hours = state.clone();
    let handed = flow.escalate(&mut in_hours, &open);
    assert!(matches!(&handed[1], Output::StartLiveChat { teams, .. } if teams == &["Support"]));
    assert!(
        flow.ai_agent(&in_hours).is_none(),
        "the agent is done with it"
    );

    state
        .variables
        .insert("email".into(), "ana@example.com".into());
    let closed = flow.escalate(&mut state, &World::default());
    assert_eq!(
        closed[0],
        Output::Say("The team is away right now, so I've passed this conversation to them as a ticket. They'll reply to ana@example.com.".into())
    );
    assert!(matches!(closed[1], Output::CreateTicket { .. }));
    assert_eq!(closed[2], Output::EndChat);
}

#[test]
fn ai_agent_settings_are_checked() {
    let bad = AI_STEP.replace(
        "[steps.agent]\n",
        "[steps.agent]\nmax_attempts = 0\nconfidence_threshold = 101\nescalation = \"sometimes\"\n",
    );
    let text = format!("name = \"t\"\nstart = \"a\"\n{bad}");
    let err = Profile::parse(&text, Format::Toml).unwrap_err();
    assert!(err.0.contains("sometimes"), "{}", err.0);
    let bad = AI_STEP.replace(
        "[steps.agent]\n",
        "[steps.agent]\nmax_attempts = 0\nconfidence_threshold = 101\n",
    );
    let found = problems(&bad);
    assert!(
        found
            .iter()
            .any(|p| p.contains("max_attempts must be from 1 to 10")),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|p| p.contains("confidence_threshold must be from 0 to 100")),
        "{found:?}"
    );
    let extra = problems(&AI_STEP.replace(
        "teams = [\"Support\"]\n",
        "teams = [\"Support\"]\nnext = \"a\"\n",
    ));
    assert!(
        found.len() >= 2 && extra.iter().any(|p| p.contains("next")),
        "{extra:?}"
    );
}

#[test]
fn a_profile_picks_the_widgets_language_and_overrides_its_lines_with_known_placeholders() {
    let profile = |appearance: &str| {
        format!(
            "name = \"t\"\nstart = \"a\"\n{appearance}\n[[steps]]\nid = \"a\"\ntype = \"message\"\ntext = \"x\"\n"
        )
    };
    let good = profile(
        "[appearance]\nlanguage = \"de\"\n[appearance.strings.de]\nend_chat = \"Tschüss\"\nchatting_with = \"Hier ist {name}\"",
    );
    let (flow, _) = compile(Profile::parse(&good, Format::Toml).unwrap()).unwrap();
    assert_eq!(flow.profile.appearance.language, Some(Language::De));
    assert_eq!(
        flow.profile.appearance.strings[&Language::De]["end_chat"],
        "Tschüss"
    );

    let bad = profile(
        "[appearance.strings.fr]\nend_chat = \" \"\nbye = \"Salut\"\nchatting_with = \"Avec {agent}\"\nyes = \"Ouais\"",
    );
    let found: Vec<String> = compile(Profile::parse(&bad, Format::Toml).unwrap())
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect();
    for expected in [
        "\"fr.bye\": \"bye\" is not one of the widget's texts",
        "\"fr.end_chat\" must have 1 to 300 characters",
        "\"fr.chatting_with\" names {agent}, but this line may use {name}",
        "\"fr.yes\": the yes and no buttons keep the widget's words",
    ] {
        assert!(
            found.iter().any(|p| p.contains(expected)),
            "missing {expected:?} in {found:#?}"
        );
    }
    let unknown = Profile::parse(&profile("[appearance]\nlanguage = \"xx\""), Format::Toml)
        .unwrap_err()
        .to_string();
    assert!(unknown.contains("unknown variant `xx`"), "{unknown}");
}
