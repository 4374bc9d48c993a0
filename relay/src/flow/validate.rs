//! Checks a written profile and compiles it into a [`Flow`]. Every problem names the
//! step and field it is about; unreachable steps are warnings, the rest errors.

use std::collections::{BTreeMap, BTreeSet};

use super::profile::{Profile, RawCondition, RawStep, WEEKDAYS, parse_range};
use super::{Action, Condition, Flow, InputType, Step, VariableTest};
use crate::store::AttachmentPolicy;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub severity: Severity,
    /// The step it is about, if any.
    pub step: Option<String>,
    pub field: Option<&'static str>,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{severity}: ")?;
        match (&self.step, self.field) {
            (Some(step), Some(field)) => write!(f, "step \"{step}\", field \"{field}\": ")?,
            (Some(step), None) => write!(f, "step \"{step}\": ")?,
            (None, Some(field)) => write!(f, "field \"{field}\": ")?,
            (None, None) => {}
        }
        f.write_str(&self.message)
    }
}

#[derive(Default)]
struct Report {
    problems: Vec<Problem>,
}

impl Report {
    fn error(&mut self, step: Option<&str>, field: Option<&'static str>, message: String) {
        let problem = Problem {
            severity: Severity::Error,
            step: step.map(str::to_owned),
            field,
            message,
        };
        // One cycle can be found along several edges; say it once.
        if !self.problems.contains(&problem) {
            self.problems.push(problem);
        }
    }

    fn warning(&mut self, step: &str, message: String) {
        self.problems.push(Problem {
            severity: Severity::Warning,
            step: Some(step.to_owned()),
            field: None,
            message,
        });
    }

    fn has_errors(&self) -> bool {
        self.problems
            .iter()
            .any(|problem| problem.severity == Severity::Error)
    }
}

/// Compiles `profile`: the flow and its warnings, or every problem found.
pub fn compile(profile: Profile) -> Result<(Flow, Vec<Problem>), Vec<Problem>> {
    let mut report = Report::default();
    check_profile_fields(&profile, &mut report);

    let mut ids = BTreeSet::new();
    for step in &profile.steps {
        if step.id.trim().is_empty() {
            report.error(None, Some("id"), "a step has an empty id".into());
        } else if !ids.insert(step.id.clone()) {
            report.error(Some(&step.id), Some("id"), "two steps have this id".into());
        }
    }
    let mut steps = BTreeMap::new();
    for raw in &profile.steps {
        if let Some(step) = compile_step(raw, &ids, &mut report) {
            steps.insert(raw.id.clone(), step);
        }
    }
    if profile.start.trim().is_empty() {
        report.error(None, Some("start"), "the profile has no start step".into());
    } else if !ids.contains(&profile.start) {
        report.error(
            None,
            Some("start"),
            format!("the start step \"{}\" does not exist", profile.start),
        );
    }
    if let Some(offline) = &profile.offline_start
        && !ids.contains(offline)
    {
        report.error(
            None,
            Some("offline_start"),
            format!("the offline start step \"{offline}\" does not exist"),
        );
    }
    if !report.has_errors() {
        check_loops(&steps, &mut report);
        check_reachable(&profile, &steps, &mut report);
    }
    if report.has_errors() {
        return Err(report.problems);
    }
    let warnings = report.problems;
    Ok((Flow { profile, steps }, warnings))
}

fn check_profile_fields(profile: &Profile, report: &mut Report) {
    if profile.name.trim().is_empty() {
        report.error(None, Some("name"), "the profile needs a name".into());
    }
    let colour = &profile.appearance.colour;
    let hex = colour.len() == 7
        && colour.starts_with('#')
        && colour[1..].bytes().all(|byte| byte.is_ascii_hexdigit());
    if !hex {
        report.error(
            None,
            Some("appearance.colour"),
            format!("\"{colour}\" is not a colour like #2554c7"),
        );
    }
    let window = profile.waiting.window_minutes;
    if !(1..=crate::chat::queue::estimate::MAX_WINDOW_MINUTES).contains(&window) {
        report.error(
            None,
            Some("waiting.window_minutes"),
            format!("{window} is not 1 to 1440 minutes"),
        );
    }
    if profile.waiting.default_minutes > 600 {
        report.error(
            None,
            Some("waiting.default_minutes"),
            format!(
                "{} is more than 600 minutes",
                profile.waiting.default_minutes
            ),
        );
    }
    if let Some(hours) = &profile.working_hours {
        if jiff::tz::TimeZone::get(&hours.time_zone).is_err() {
            report.error(
                None,
                Some("working_hours.time_zone"),
                format!(
                    "\"{}\" is not a time zone such as Europe/London",
                    hours.time_zone
                ),
            );
        }
        for (day, ranges) in &hours.schedule {
            if !WEEKDAYS.contains(&day.as_str()) {
                report.error(
                    None,
                    Some("working_hours.schedule"),
                    format!("\"{day}\" is not a weekday (mon, tue, wed, thu, fri, sat, sun)"),
                );
            }
            for range in ranges {
                if parse_range(range).is_none() {
                    report.error(
                        None,
                        Some("working_hours.schedule"),
                        format!("\"{range}\" on {day} is not a range like 09:00-17:30"),
                    );
                }
            }
        }
        for date in &hours.closed_dates {
            if date.parse::<jiff::civil::Date>().is_err() {
                report.error(
                    None,
                    Some("working_hours.closed_dates"),
                    format!("\"{date}\" is not a date like 2026-12-25"),
                );
            }
        }
    }
}

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
        ("action", Some("create_ticket")) => &["action", "subject", "next"],
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

fn compile_step(raw: &RawStep, ids: &BTreeSet<String>, report: &mut Report) -> Option<Step> {
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

/// A cycle through steps that never wait for the visitor would spin forever.
fn check_loops(steps: &BTreeMap<String, Step>, report: &mut Report) {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Unseen,
        Active,
        Done,
    }
    fn visit(
        id: &str,
        steps: &BTreeMap<String, Step>,
        marks: &mut BTreeMap<String, Mark>,
        path: &mut Vec<String>,
        report: &mut Report,
    ) {
        match marks.get(id).copied().unwrap_or(Mark::Unseen) {
            Mark::Done => return,
            Mark::Active => {
                let start = path.iter().position(|step| step == id).unwrap_or(0);
                let mut cycle = path[start..].to_vec();
                cycle.push(id.to_owned());
                report.error(
                    Some(id),
                    Some("next"),
                    format!(
                        "these steps loop without waiting for the visitor: {}",
                        cycle.join(" → ")
                    ),
                );
                return;
            }
            Mark::Unseen => {}
        }
        let Some(step) = steps.get(id) else {
            return;
        };
        marks.insert(id.to_owned(), Mark::Active);
        path.push(id.to_owned());
        if !step.waits() {
            for next in step.targets() {
                visit(next, steps, marks, path, report);
            }
        }
        path.pop();
        marks.insert(id.to_owned(), Mark::Done);
    }
    let mut marks = BTreeMap::new();
    for id in steps.keys() {
        let mut path = Vec::new();
        visit(id, steps, &mut marks, &mut path, report);
    }
}

fn check_reachable(profile: &Profile, steps: &BTreeMap<String, Step>, report: &mut Report) {
    let mut seen = BTreeSet::new();
    let mut queue: Vec<String> = std::iter::once(profile.start.clone())
        .chain(profile.offline_start.clone())
        .chain(
            profile
                .steps
                .iter()
                .filter(|step| step.can_start_here)
                .map(|step| step.id.clone()),
        )
        .collect();
    while let Some(id) = queue.pop() {
        if !seen.insert(id.clone()) {
            continue;
        }
        if let Some(step) = steps.get(&id) {
            queue.extend(step.targets().map(str::to_owned));
        }
    }
    for step in &profile.steps {
        if !seen.contains(&step.id) {
            report.warning(
                &step.id,
                "no path leads here from the start step or a step chats can start at".into(),
            );
        }
    }
}
