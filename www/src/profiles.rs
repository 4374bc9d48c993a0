//! The Profiles page's data: what the admin API returns, and how problems are placed
//! next to the steps they are about.

pub use porchlight_protocol::api::profiles::{
    Checked, ProblemLine, ProfileDoc, ProfileLine, StepLine,
};

/// One row of the step table: the step and the problems that name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepRow {
    pub step: StepLine,
    pub problems: Vec<ProblemLine>,
}

/// The step table: each step with the problems that name it.
pub fn rows(checked: &Checked) -> Vec<StepRow> {
    checked
        .steps
        .iter()
        .map(|step| StepRow {
            step: step.clone(),
            problems: checked
                .problems
                .iter()
                .filter(|problem| problem.step.as_deref() == Some(&step.id))
                .cloned()
                .collect(),
        })
        .collect()
}

/// Problems about the profile as a whole, or about a step the list does not show.
pub fn general(checked: &Checked) -> Vec<ProblemLine> {
    checked
        .problems
        .iter()
        .filter(|problem| {
            problem
                .step
                .as_ref()
                .is_none_or(|step| !checked.steps.iter().any(|line| &line.id == step))
        })
        .cloned()
        .collect()
}

/// What the editor says after a save: only the site's chat profile is used by new
/// chats.
pub fn saved_note(doc: &ProfileDoc) -> &'static str {
    if doc.default {
        "Saved. New chats use it now."
    } else {
        "Saved. It is not the site's chat profile, so new chats do not use it yet."
    }
}

/// What "New profile" starts from.
pub const STARTER: &str = r#"name = "New profile"
start = "hello"

[appearance]
title = "Chat with us"
greeting = "Hi! How can we help?"

[[steps]]
id = "hello"
type = "question"
text = "What would you like to do?"
choices = [
  { label = "Talk to a person", next = "agent" },
  { label = "Just browsing", next = "bye" },
]

[[steps]]
id = "agent"
type = "action"
action = "start_live_chat"
text = "Connecting you now."
teams = ["Support"]

[[steps]]
id = "bye"
type = "message"
text = "Enjoy your visit! Write here any time."
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(step: Option<&str>, field: Option<&str>) -> ProblemLine {
        ProblemLine {
            severity: "error".into(),
            step: step.map(str::to_owned),
            field: field.map(str::to_owned),
            message: "bad".into(),
        }
    }

    fn step(id: &str) -> StepLine {
        StepLine {
            id: id.into(),
            kind: "message".into(),
            ..StepLine::default()
        }
    }

    #[test]
    fn problems_sit_next_to_their_steps_and_the_rest_on_top() {
        let checked = Checked {
            ok: false,
            problems: vec![
                problem(Some("a"), Some("next")),
                problem(None, Some("start")),
                problem(Some("gone"), None),
            ],
            steps: vec![step("a"), step("b")],
        };
        let rows = rows(&checked);
        assert_eq!(rows[0].problems.len(), 1);
        assert_eq!(rows[0].problems[0].describe(), "next: bad");
        assert!(rows[1].problems.is_empty());
        let general: Vec<String> = general(&checked)
            .iter()
            .map(ProblemLine::describe)
            .collect();
        assert_eq!(general, ["start: bad", "bad"]);
    }

    #[test]
    fn the_admin_api_answer_parses() {
        let checked: Checked = serde_json::from_str(
            r#"{"ok":false,"problems":[{"severity":"warning","step":"x","field":null,"message":"m"}],
                "steps":[{"id":"x","type":"action: end_chat","leads_to":[],"can_start_here":true}]}"#,
        )
        .unwrap();
        assert!(!checked.problems[0].is_error());
        assert_eq!(checked.steps[0].kind, "action: end_chat");
    }

    #[test]
    fn the_starter_profile_is_toml_with_a_start() {
        assert!(STARTER.contains("start = \"hello\""));
    }

    #[test]
    fn the_saved_note_says_new_chats_use_it_only_for_the_sites_profile() {
        let doc = |default| ProfileDoc {
            id: 1,
            name: "p".into(),
            site: "demo".into(),
            default,
            text: String::new(),
            steps: Vec::new(),
        };
        assert_eq!(saved_note(&doc(true)), "Saved. New chats use it now.");
        assert!(saved_note(&doc(false)).contains("new chats do not use it yet"));
    }
}
