//! Chat profiles and their bot flows: the written form ([`profile`]), the checks that
//! turn it into a [`Flow`] ([`validate`]), and the engine that runs a conversation
//! through it ([`engine`]). Plain Rust: no I/O, no clock, no database.

use std::collections::BTreeMap;

pub mod engine;
pub mod input;
pub mod profile;
pub mod validate;

pub use engine::{Answer, Facts, FlowState, Output, expand};
pub use profile::{Format, Profile};
pub use validate::{Problem, Severity, compile};

use crate::store::AttachmentPolicy;

/// A checked profile, ready to run.
#[derive(Debug, Clone)]
pub struct Flow {
    pub profile: Profile,
    steps: BTreeMap<String, Step>,
}

impl Flow {
    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps.get(id)
    }

    /// Every team an `agents_available` condition asks about.
    pub fn condition_teams(&self) -> Vec<String> {
        let mut teams: Vec<String> = self
            .steps
            .values()
            .filter_map(|step| match step {
                Step::Condition {
                    when: Condition::AgentsAvailable(teams),
                    ..
                } => Some(teams.clone()),
                _ => None,
            })
            .flatten()
            .collect();
        teams.sort_unstable();
        teams.dedup();
        teams
    }

    /// Whether a page may start chats at `id`.
    pub fn can_start_at(&self, id: &str) -> bool {
        self.profile
            .steps
            .iter()
            .any(|step| step.id == id && step.can_start_here)
    }
}

#[derive(Debug, Clone)]
pub enum Step {
    Message {
        text: String,
        next: Option<String>,
    },
    Question {
        text: String,
        /// Label and the step it leads to.
        choices: Vec<(String, String)>,
    },
    Input {
        text: String,
        input: InputType,
        variable: String,
        pattern: Option<regex_lite::Regex>,
        invalid: Option<String>,
        options: Vec<String>,
        next: String,
    },
    Condition {
        when: Condition,
        then: String,
        otherwise: String,
    },
    Action {
        action: Action,
        /// Said before the action runs.
        text: Option<String>,
        next: Option<String>,
    },
}

impl Step {
    /// Steps that stop and wait for the visitor.
    pub fn waits(&self) -> bool {
        matches!(
            self,
            Self::Question { .. }
                | Self::Input { .. }
                | Self::Action {
                    action: Action::AiAgent { .. },
                    ..
                }
        )
    }

    /// Every step this one can lead to.
    pub fn targets(&self) -> impl Iterator<Item = &str> {
        let targets: Vec<&str> = match self {
            Self::Message { next, .. } | Self::Action { next, .. } => {
                next.as_deref().into_iter().collect()
            }
            Self::Question { choices, .. } => {
                choices.iter().map(|(_, next)| next.as_str()).collect()
            }
            Self::Input { next, .. } => vec![next.as_str()],
            Self::Condition {
                then, otherwise, ..
            } => vec![then.as_str(), otherwise.as_str()],
        };
        targets.into_iter()
    }

    /// The step type, as written.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Message { .. } => "message",
            Self::Question { .. } => "question",
            Self::Input { .. } => "input",
            Self::Condition { .. } => "condition",
            Self::Action { .. } => "action",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputType {
    Text,
    Email,
    Number,
    Date,
    YesNo,
    Choice,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    LinkedToTicket,
    Identified,
    InWorkingHours,
    AgentsAvailable(Vec<String>),
    Variable(String, VariableTest),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VariableTest {
    Equals(String),
    Contains(String),
    IsSet,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    StartLiveChat {
        teams: Vec<String>,
        attachments: AttachmentPolicy,
    },
    /// The AI agent answers until it hands over to `teams` (a ticket out of hours).
    AiAgent {
        agent: Box<crate::ai::AgentConfig>,
        teams: Vec<String>,
    },
    CreateTicket {
        subject: String,
        /// The email acknowledging it to the visitor, if the profile sends one.
        acknowledgement: Option<String>,
    },
    CallWebhook {
        url: String,
        timeout_ms: u64,
        /// Variable name → JSON pointer into the response.
        save: BTreeMap<String, String>,
    },
    SetVariable {
        name: String,
        value: String,
    },
    EndChat,
}

#[cfg(test)]
mod tests;
