//! The Profiles page's data: what the admin API returns, and how problems are placed
//! next to the steps they are about.

use serde::Deserialize;

#[derive(Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ProfileLine {
    pub id: i64,
    pub name: String,
    pub site: String,
    /// The site's chat profile.
    pub default: bool,
    pub updated_at: i64,
}

#[derive(Deserialize, Debug, Clone, Default, PartialEq, Eq)]
pub struct StepLine {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub leads_to: Vec<String>,
    pub can_start_here: bool,
}

#[derive(Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ProblemLine {
    pub severity: String,
    pub step: Option<String>,
    pub field: Option<String>,
    pub message: String,
}

impl ProblemLine {
    /// "field: message", or the message alone.
    pub fn describe(&self) -> String {
        match &self.field {
            Some(field) => format!("{field}: {}", self.message),
            None => self.message.clone(),
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == "error"
    }
}

/// The answer of a check, or of a refused save.
#[derive(Deserialize, Debug, Clone, Default, PartialEq, Eq)]
pub struct Checked {
    pub ok: bool,
    pub problems: Vec<ProblemLine>,
    pub steps: Vec<StepLine>,
}

#[derive(Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ProfileDoc {
    pub id: i64,
    pub name: String,
    pub site: String,
    pub default: bool,
    pub text: String,
    pub steps: Vec<StepLine>,
}

/// One row of the step table: the step and the problems that name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepRow {
    pub step: StepLine,
    pub problems: Vec<ProblemLine>,
}

impl Checked {
    pub fn rows(&self) -> Vec<StepRow> {
        self.steps
            .iter()
            .map(|step| StepRow {
                step: step.clone(),
                problems: self
                    .problems
                    .iter()
                    .filter(|problem| problem.step.as_deref() == Some(&step.id))
                    .cloned()
                    .collect(),
            })
            .collect()
    }

    /// Problems about the profile as a whole, or about a step the list does not show.
    pub fn general(&self) -> Vec<ProblemLine> {
        self.problems
            .iter()
            .filter(|problem| {
                problem
                    .step
                    .as_ref()
                    .is_none_or(|step| !self.steps.iter().any(|line| &line.id == step))
            })
            .cloned()
            .collect()
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
        let rows = checked.rows();
        assert_eq!(rows[0].problems.len(), 1);
        assert_eq!(rows[0].problems[0].describe(), "next: bad");
        assert!(rows[1].problems.is_empty());
        let general: Vec<String> = checked
            .general()
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
}
