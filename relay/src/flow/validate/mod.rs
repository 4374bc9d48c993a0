//! Checks a written profile and compiles it into a [`Flow`]. Every problem names the
//! step and field it is about; unreachable steps are warnings, the rest errors.

use std::collections::{BTreeMap, BTreeSet};

mod steps;

use self::steps::compile_step;
use super::profile::{Profile, WEEKDAYS, parse_range};
use super::{Flow, Step};
use porchlight_protocol::words::{Overrides, Text, placeholders};

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
pub(super) struct Report {
    problems: Vec<Problem>,
}

impl Report {
    pub(super) fn error(
        &mut self,
        step: Option<&str>,
        field: Option<&'static str>,
        message: String,
    ) {
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

    pub(super) fn warning(&mut self, step: &str, message: String) {
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

/// The longest line a profile may give the widget, in characters.
const MAX_LINE_CHARS: usize = 300;

/// A profile's own widget lines: known keys, not empty, and only the placeholders
/// the widget fills for that line.
fn check_strings(strings: &Overrides, report: &mut Report) {
    let field = Some("appearance.strings");
    for (language, lines) in strings {
        for (key, line) in lines {
            let at = format!("{}.{key}", language.code());
            let Some(text) = Text::from_key(key) else {
                report.error(
                    None,
                    field,
                    format!("\"{at}\": \"{key}\" is not one of the widget's texts"),
                );
                continue;
            };
            // The buttons are sent as the answer, and the relay reads yes and no in the
            // widget's own words only.
            if matches!(text, Text::Yes | Text::No) {
                report.error(
                    None,
                    field,
                    format!("\"{at}\": the yes and no buttons keep the widget's words"),
                );
                continue;
            }
            let allowed = text.placeholders();
            let unknown: Vec<&str> = placeholders(line)
                .into_iter()
                .filter(|name| !allowed.contains(name))
                .collect();
            if line.trim().is_empty() || line.chars().count() > MAX_LINE_CHARS {
                report.error(
                    None,
                    field,
                    format!("\"{at}\" must have 1 to {MAX_LINE_CHARS} characters"),
                );
            } else if !unknown.is_empty() {
                let may = if allowed.is_empty() {
                    "no placeholders".to_owned()
                } else {
                    format!("{{{}}}", allowed.join("}, {"))
                };
                report.error(
                    None,
                    field,
                    format!(
                        "\"{at}\" names {{{}}}, but this line may use {may}",
                        unknown.join("}, {")
                    ),
                );
            }
        }
    }
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
    check_strings(&profile.appearance.strings, report);
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
