//! Each step's checks: the fields its type takes, the steps it leads to, and what
//! it compiles into.

use std::collections::BTreeSet;

use super::Report;
use crate::flow::profile::{RawCondition, RawStep};
use crate::flow::{Action, Condition, InputType, Step, VariableTest};
use crate::store::AttachmentPolicy;

/// The fields a step sets, by name, to refuse those its type does not use.
fn set_fields(raw: &RawStep) -> Vec<&'static str> {
    let mut fields = Vec::new();
    let mut note = |set: bool, name: &'static str| {
        if set {
            fields.push(name);
        }
    };
    note(raw.text.is_some(), "text");
    note(raw.next.is_some(), "next");
    note(!raw.choices.is_empty(), "choices");
    note(raw.input.is_some(), "input");
    note(raw.variable.is_some(), "variable");
    note(raw.pattern.is_some(), "pattern");
    note(raw.invalid.is_some(), "invalid");
    note(!raw.options.is_empty(), "options");
    note(raw.when.is_some(), "when");
    note(raw.then.is_some(), "then");
    note(raw.otherwise.is_some(), "else");
    note(raw.action.is_some(), "action");
    note(!raw.teams.is_empty(), "teams");
    note(raw.attachments.is_some(), "attachments");
    note(raw.subject.is_some(), "subject");
    note(raw.acknowledgement.is_some(), "acknowledgement");
    note(raw.url.is_some(), "url");
    note(raw.timeout_ms.is_some(), "timeout_ms");
    note(!raw.save.is_empty(), "save");
    note(raw.name.is_some(), "name");
    note(raw.value.is_some(), "value");
    note(raw.agent.is_some(), "agent");
    fields
}

fn allowed_fields(raw: &RawStep) -> &'static [&'static str] {
    match (raw.kind.as_str(), raw.action.as_deref()) {
        ("message", _) => &["text", "next"],
        ("question", _) => &["text", "choices"],
        ("input", _) => &[
            "text", "input", "variable", "pattern", "invalid", "options", "next",
        ],
        ("condition", _) => &["when", "then", "else"],
        ("action", Some("start_live_chat")) => &["action", "text", "teams", "attachments"],
        ("action", Some("ai_agent")) => &["action", "text", "teams", "agent"],
        ("action", Some("create_ticket")) => &["action", "subject", "acknowledgement", "next"],
        ("action", Some("call_webhook")) => &["action", "url", "timeout_ms", "save", "next"],
        ("action", Some("set_variable")) => &["action", "name", "value", "next"],
        ("action", Some("end_chat")) => &["action", "text"],
        _ => &[],
    }
}

fn target(
    raw: &RawStep,
    field: &'static str,
    value: Option<&String>,
    ids: &BTreeSet<String>,
    report: &mut Report,
) -> Option<String> {
    let Some(value) = value else {
        report.error(
            Some(&raw.id),
            Some(field),
            format!("a {} step needs \"{field}\"", raw.kind),
        );
        return None;
    };
    if !ids.contains(value) {
        report.error(
            Some(&raw.id),
            Some(field),
            format!("leads to step \"{value}\", which does not exist"),
        );
        return None;
    }
    Some(value.clone())
}

fn optional_target(
    raw: &RawStep,
    field: &'static str,
    ids: &BTreeSet<String>,
    report: &mut Report,
) -> Option<Option<String>> {
    match &raw.next {
        None => Some(None),
        Some(_) => target(raw, field, raw.next.as_ref(), ids, report).map(Some),
    }
}

fn required_text(
    raw: &RawStep,
    field: &'static str,
    value: &Option<String>,
    report: &mut Report,
) -> Option<String> {
    match value {
        Some(text) if !text.trim().is_empty() => Some(text.clone()),
        _ => {
            report.error(
                Some(&raw.id),
                Some(field),
                format!("a {} step needs \"{field}\"", raw.kind),
            );
            None
        }
    }
}

pub(super) fn compile_step(
    raw: &RawStep,
    ids: &BTreeSet<String>,
    report: &mut Report,
) -> Option<Step> {
    const TYPES: [&str; 5] = ["message", "question", "input", "condition", "action"];
    if !TYPES.contains(&raw.kind.as_str()) {
        report.error(
            Some(&raw.id),
            Some("type"),
            format!(
                "\"{}\" is not a step type (message, question, input, condition, action)",
                raw.kind
            ),
        );
        return None;
    }
    let allowed = allowed_fields(raw);
    if !allowed.is_empty() {
        for field in set_fields(raw) {
            if !allowed.contains(&field) {
                report.error(
                    Some(&raw.id),
                    Some(field),
                    format!("\"{field}\" does not apply to this {} step", raw.kind),
                );
            }
        }
    }
    match raw.kind.as_str() {
        "message" => {
            let text = required_text(raw, "text", &raw.text, report);
            let next = optional_target(raw, "next", ids, report);
            Some(Step::Message {
                text: text?,
                next: next?,
            })
        }
        "question" => {
            let text = required_text(raw, "text", &raw.text, report);
            if raw.choices.is_empty() {
                report.error(
                    Some(&raw.id),
                    Some("choices"),
                    "a question needs at least one choice".into(),
                );
                return None;
            }
            let mut choices = Vec::new();
            for choice in &raw.choices {
                if choice.label.trim().is_empty() {
                    report.error(
                        Some(&raw.id),
                        Some("choices"),
                        "a choice has no label".into(),
                    );
                }
                if let Some(next) = target(raw, "choices", Some(&choice.next), ids, report) {
                    choices.push((choice.label.clone(), next));
                }
            }
            (choices.len() == raw.choices.len()).then_some(())?;
            Some(Step::Question {
                text: text?,
                choices,
            })
        }
        "input" => compile_input(raw, ids, report),
        "condition" => {
            let when = match &raw.when {
                Some(condition) => compile_condition(raw, condition, report),
                None => {
                    report.error(
                        Some(&raw.id),
                        Some("when"),
                        "a condition step needs \"when\"".into(),
                    );
                    None
                }
            };
            let then = target(raw, "then", raw.then.as_ref(), ids, report);
            let otherwise = target(raw, "else", raw.otherwise.as_ref(), ids, report);
            Some(Step::Condition {
                when: when?,
                then: then?,
                otherwise: otherwise?,
            })
        }
        _ => compile_action(raw, ids, report),
    }
}

fn compile_input(raw: &RawStep, ids: &BTreeSet<String>, report: &mut Report) -> Option<Step> {
    let text = required_text(raw, "text", &raw.text, report);
    let variable = required_text(raw, "variable", &raw.variable, report);
    let input = match raw.input.as_deref() {
        Some("text") => Some(InputType::Text),
        Some("email") => Some(InputType::Email),
        Some("number") => Some(InputType::Number),
        Some("date") => Some(InputType::Date),
        Some("yes_no") => Some(InputType::YesNo),
        Some("choice") => Some(InputType::Choice),
        other => {
            report.error(
                Some(&raw.id),
                Some("input"),
                format!(
                    "{} is not an input type (text, email, number, date, yes_no, choice)",
                    other.map_or("nothing".to_owned(), |other| format!("\"{other}\""))
                ),
            );
            None
        }
    };
    if input == Some(InputType::Choice) && raw.options.is_empty() {
        report.error(
            Some(&raw.id),
            Some("options"),
            "a choice input needs options".into(),
        );
    }
    let pattern = match &raw.pattern {
        Some(pattern) => match regex_lite::Regex::new(pattern) {
            Ok(regex) => Some(Some(regex)),
            Err(err) => {
                report.error(
                    Some(&raw.id),
                    Some("pattern"),
                    format!("not a valid pattern: {err}"),
                );
                None
            }
        },
        None => Some(None),
    };
    let next = target(raw, "next", raw.next.as_ref(), ids, report);
    Some(Step::Input {
        text: text?,
        input: input?,
        variable: variable?,
        pattern: pattern?,
        invalid: raw.invalid.clone(),
        options: raw.options.clone(),
        next: next?,
    })
}

fn compile_condition(
    raw: &RawStep,
    condition: &RawCondition,
    report: &mut Report,
) -> Option<Condition> {
    match condition.test.as_str() {
        "linked_to_ticket" => Some(Condition::LinkedToTicket),
        "identified" => Some(Condition::Identified),
        "in_working_hours" => Some(Condition::InWorkingHours),
        "agents_available" => {
            if condition.teams.is_empty() {
                report.error(
                    Some(&raw.id),
                    Some("when.teams"),
                    "agents_available needs the teams to check".into(),
                );
                return None;
            }
            Some(Condition::AgentsAvailable(condition.teams.clone()))
        }
        "variable" => {
            let Some(variable) = condition.variable.clone().filter(|name| !name.is_empty()) else {
                report.error(
                    Some(&raw.id),
                    Some("when.variable"),
                    "a variable test needs the variable's name".into(),
                );
                return None;
            };
            let tests = [
                condition.equals.clone().map(VariableTest::Equals),
                condition.contains.clone().map(VariableTest::Contains),
                condition.is_set.then_some(VariableTest::IsSet),
            ];
            let mut given = tests.into_iter().flatten();
            match (given.next(), given.next()) {
                (Some(test), None) => Some(Condition::Variable(variable, test)),
                _ => {
                    report.error(
                        Some(&raw.id),
                        Some("when"),
                        "a variable test needs exactly one of equals, contains or is_set".into(),
                    );
                    None
                }
            }
        }
        other => {
            report.error(
                Some(&raw.id),
                Some("when.test"),
                format!(
                    "\"{other}\" is not a test (linked_to_ticket, identified, in_working_hours, agents_available, variable)"
                ),
            );
            None
        }
    }
}

fn compile_action(raw: &RawStep, ids: &BTreeSet<String>, report: &mut Report) -> Option<Step> {
    let action = match raw.action.as_deref() {
        Some("start_live_chat") => {
            let attachments = match raw.attachments.as_deref() {
                None | Some("prevent") => Some(AttachmentPolicy::Prevent),
                Some("allow") => Some(AttachmentPolicy::Allow),
                Some("identified") => Some(AttachmentPolicy::Identified),
                Some(other) => {
                    report.error(
                        Some(&raw.id),
                        Some("attachments"),
                        format!(
                            "\"{other}\" is not an attachment policy (prevent, allow, identified)"
                        ),
                    );
                    None
                }
            };
            Action::StartLiveChat {
                teams: raw.teams.clone(),
                attachments: attachments?,
            }
        }
        Some("ai_agent") => {
            let agent = raw.agent.clone().unwrap_or_default();
            let mut valid = true;
            let mut problem = |message: &str| {
                report.error(Some(&raw.id), Some("agent"), message.to_owned());
                valid = false;
            };
            if !(1..=10).contains(&agent.max_attempts) {
                problem("max_attempts must be from 1 to 10");
            }
            if agent.confidence_threshold > 100 {
                problem("confidence_threshold must be from 0 to 100");
            }
            if agent.button.trim().is_empty() || agent.name.trim().is_empty() {
                problem("the agent needs a name and a \"talk to a person\" button label");
            }
            if !valid {
                return None;
            }
            Action::AiAgent {
                agent: Box::new(agent),
                teams: raw.teams.clone(),
            }
        }
        Some("create_ticket") => Action::CreateTicket {
            subject: required_text(raw, "subject", &raw.subject, report)?,
            acknowledgement: raw
                .acknowledgement
                .clone()
                .filter(|text| !text.trim().is_empty()),
        },
        Some("call_webhook") => {
            let url = required_text(raw, "url", &raw.url, report)?;
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                report.error(
                    Some(&raw.id),
                    Some("url"),
                    format!("\"{url}\" is not an http(s) URL"),
                );
                return None;
            }
            Action::CallWebhook {
                url,
                timeout_ms: raw.timeout_ms.unwrap_or(5_000).clamp(100, 30_000),
                save: raw.save.clone(),
            }
        }
        Some("set_variable") => Action::SetVariable {
            name: required_text(raw, "name", &raw.name, report)?,
            value: raw.value.clone().unwrap_or_default(),
        },
        Some("end_chat") => Action::EndChat,
        other => {
            report.error(
                Some(&raw.id),
                Some("action"),
                format!(
                    "{} is not an action (start_live_chat, ai_agent, create_ticket, call_webhook, set_variable, end_chat)",
                    other.map_or("nothing".to_owned(), |other| format!("\"{other}\""))
                ),
            );
            return None;
        }
    };
    let next = optional_target(raw, "next", ids, report)?;
    Some(Step::Action {
        action,
        text: raw.text.clone(),
        next,
    })
}
