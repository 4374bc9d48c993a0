//! Runs a conversation through a [`Flow`]: from a step until the flow must wait for the
//! visitor (a question or input) or hands over (live chat, end), producing what to
//! say and do. The caller stores [`FlowState`] with the conversation, so a reload or a
//! restart continues at the same step.

use std::collections::BTreeMap;

use porchlight_protocol::{InputKind, Prompt};
use serde::{Deserialize, Serialize};

use super::input::{check_input, default_hint};
use super::{Action, Condition, Flow, InputType, Step, VariableTest};
use crate::ai::AgentConfig;
use crate::store::AttachmentPolicy;

/// A guard against runaway flows; validation already refuses loops without a wait.
const MAX_STEPS_PER_TURN: usize = 64;
/// The longest value a `set_variable` step stores (a visitor's answer is shorter).
const MAX_VARIABLE_CHARS: usize = porchlight_protocol::MAX_BODY_CHARS;

/// Where a conversation is in its flow.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq, Eq)]
pub struct FlowState {
    /// The step waiting for the visitor (or for a webhook), if any.
    pub step: Option<String>,
    pub variables: BTreeMap<String, String>,
    pub waiting: Option<Waiting>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Waiting {
    Visitor,
    Webhook,
    /// The AI agent's step: every visitor message is a question for it.
    Ai,
}

/// What the flow wants done, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// A bot message.
    Say(String),
    /// Wait for the visitor to answer this.
    Ask(Prompt),
    StartLiveChat {
        teams: Vec<String>,
        attachments: AttachmentPolicy,
    },
    CreateTicket {
        subject: String,
        /// The visitor's address and the acknowledgement to email them, when the
        /// profile sends one and they gave an address.
        acknowledgement: Option<(String, String)>,
    },
    /// POST the variables; then call [`Flow::webhook_done`] with the response.
    CallWebhook {
        url: String,
        timeout_ms: u64,
        variables: BTreeMap<String, String>,
    },
    EndChat,
}

/// What the flow needs to know about the world to branch.
pub trait Facts {
    fn linked_to_ticket(&self) -> bool;
    fn identified(&self) -> bool;
    fn in_working_hours(&self) -> bool;
    fn agents_available(&self, teams: &[String]) -> bool;
}

/// The result of the visitor's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Taken; `value` is its typed form (for the message and the variable).
    Accepted { value: String, outputs: Vec<Output> },
    /// Not valid: the outputs say why and ask again.
    Rejected { outputs: Vec<Output> },
    /// The flow is not waiting for the visitor.
    NotWaiting,
}

impl Flow {
    /// Starts (or restarts) the flow at `step`.
    pub fn start_at(&self, state: &mut FlowState, step: &str, facts: &dyn Facts) -> Vec<Output> {
        state.step = None;
        state.waiting = None;
        let mut outputs = Vec::new();
        self.run(state, Some(step.to_owned()), facts, &mut outputs);
        outputs
    }

    /// The prompt of the step waiting for the visitor, to show again after a reload.
    pub fn current_prompt(&self, state: &FlowState) -> Option<Prompt> {
        if !matches!(state.waiting, Some(Waiting::Visitor | Waiting::Ai)) {
            return None;
        }
        let id = state.step.as_deref()?;
        prompt(id, self.step(id)?)
    }

    /// The AI agent answering this chat, and the teams it hands over to.
    pub fn ai_agent(&self, state: &FlowState) -> Option<(&AgentConfig, &[String])> {
        if state.waiting != Some(Waiting::Ai) {
            return None;
        }
        match self.step(state.step.as_deref()?)? {
            Step::Action {
                action: Action::AiAgent { agent, teams },
                ..
            } => Some((agent, teams)),
            _ => None,
        }
    }

    /// The AI agent hands over: to live chat in working hours, else to a ticket (the
    /// conversation is linked to it) and the chat ends.
    pub fn escalate(&self, state: &mut FlowState, facts: &dyn Facts) -> Vec<Output> {
        let Some((_, teams)) = self.ai_agent(state) else {
            return Vec::new();
        };
        let teams = teams.to_vec();
        state.step = None;
        state.waiting = None;
        if facts.in_working_hours() {
            vec![
                Output::Say("I'm passing you to a person from the team now.".into()),
                Output::StartLiveChat {
                    teams,
                    attachments: AttachmentPolicy::Allow,
                },
            ]
        } else {
            let reply = match state.variables.get("email") {
                Some(email) => format!("They'll reply to {email}."),
                None => "They'll pick it up when they're back.".to_owned(),
            };
            vec![
                Output::Say(format!(
                    "The team is away right now, so I've passed this conversation to them as a ticket. {reply}"
                )),
                Output::CreateTicket {
                    subject: "Chat handed over by the AI agent".into(),
                    acknowledgement: None,
                },
                Output::EndChat,
            ]
        }
    }

    /// Applies the visitor's answer to the waiting step and runs on.
    pub fn answer(&self, state: &mut FlowState, text: &str, facts: &dyn Facts) -> Answer {
        let (Some(Waiting::Visitor), Some(id)) = (state.waiting, state.step.clone()) else {
            return Answer::NotWaiting;
        };
        let Some(step) = self.step(&id) else {
            return Answer::NotWaiting;
        };
        let text = text.trim();
        let (value, next) = match step {
            Step::Question { choices, .. } => {
                let picked = choices.iter().enumerate().find(|(index, (label, _))| {
                    label.eq_ignore_ascii_case(text) || (index + 1).to_string() == text
                });
                match picked {
                    Some((_, (label, next))) => (label.clone(), next.clone()),
                    None => {
                        return Answer::Rejected {
                            outputs: reask(&id, step, "Please pick one of the options."),
                        };
                    }
                }
            }
            Step::Input {
                input,
                variable,
                pattern,
                invalid,
                options,
                next,
                ..
            } => {
                let checked = check_input(*input, text, options).filter(|value| {
                    pattern
                        .as_ref()
                        .is_none_or(|pattern| pattern.is_match(value))
                });
                match checked {
                    Some(value) => {
                        state
                            .variables
                            .insert(variable.to_ascii_lowercase(), value.clone());
                        (value, next.clone())
                    }
                    None => {
                        let hint = invalid
                            .clone()
                            .unwrap_or_else(|| default_hint(*input).to_owned());
                        return Answer::Rejected {
                            outputs: reask(&id, step, &hint),
                        };
                    }
                }
            }
            _ => return Answer::NotWaiting,
        };
        state.step = None;
        state.waiting = None;
        let mut outputs = Vec::new();
        self.run(state, Some(next), facts, &mut outputs);
        Answer::Accepted { value, outputs }
    }

    /// Saves the webhook's answer (`None`: it failed) and runs on.
    pub fn webhook_done(
        &self,
        state: &mut FlowState,
        response: Option<&serde_json::Value>,
        facts: &dyn Facts,
    ) -> Vec<Output> {
        let (Some(Waiting::Webhook), Some(id)) = (state.waiting, state.step.clone()) else {
            return Vec::new();
        };
        let Some(Step::Action {
            action: Action::CallWebhook { save, .. },
            next,
            ..
        }) = self.step(&id)
        else {
            return Vec::new();
        };
        for (variable, pointer) in save {
            let found = response
                .and_then(|body| body.pointer(pointer))
                .map(|value| match value {
                    serde_json::Value::String(text) => text.clone(),
                    other => other.to_string(),
                });
            if let Some(found) = found {
                state.variables.insert(variable.to_ascii_lowercase(), found);
            }
        }
        state.step = None;
        state.waiting = None;
        let mut outputs = Vec::new();
        self.run(state, next.clone(), facts, &mut outputs);
        outputs
    }

    fn run(
        &self,
        state: &mut FlowState,
        mut at: Option<String>,
        facts: &dyn Facts,
        outputs: &mut Vec<Output>,
    ) {
        for _ in 0..MAX_STEPS_PER_TURN {
            let Some(id) = at.take() else {
                return;
            };
            let Some(step) = self.step(&id) else {
                return;
            };
            match step {
                Step::Message { text, next } => {
                    outputs.push(Output::Say(expand(text, &state.variables)));
                    at = next.clone();
                }
                Step::Question { .. } | Step::Input { .. } => {
                    if let Some(text) = step_text(step) {
                        outputs.push(Output::Say(expand(text, &state.variables)));
                    }
                    if let Some(prompt) = prompt(&id, step) {
                        outputs.push(Output::Ask(prompt));
                    }
                    state.step = Some(id);
                    state.waiting = Some(Waiting::Visitor);
                    return;
                }
                Step::Condition {
                    when,
                    then,
                    otherwise,
                } => {
                    at = Some(
                        if holds(when, state, facts) {
                            then
                        } else {
                            otherwise
                        }
                        .clone(),
                    );
                }
                Step::Action { action, text, next } => {
                    if let Some(text) = text {
                        outputs.push(Output::Say(expand(text, &state.variables)));
                    }
                    match action {
                        Action::AiAgent { agent, .. } => {
                            if !agent.greeting.trim().is_empty() {
                                outputs
                                    .push(Output::Say(expand(&agent.greeting, &state.variables)));
                            }
                            outputs.extend(prompt(&id, step).map(Output::Ask));
                            state.step = Some(id);
                            state.waiting = Some(Waiting::Ai);
                            return;
                        }
                        Action::StartLiveChat { teams, attachments } => {
                            outputs.push(Output::StartLiveChat {
                                teams: teams.clone(),
                                attachments: *attachments,
                            });
                            return;
                        }
                        Action::EndChat => {
                            outputs.push(Output::EndChat);
                            return;
                        }
                        Action::CreateTicket {
                            subject,
                            acknowledgement,
                        } => {
                            let to = state.variables.get("email").filter(|to| !to.is_empty());
                            outputs.push(Output::CreateTicket {
                                subject: expand(subject, &state.variables),
                                acknowledgement: to
                                    .zip(acknowledgement.as_ref())
                                    .map(|(to, text)| (to.clone(), expand(text, &state.variables))),
                            });
                        }
                        Action::SetVariable { name, value } => {
                            // Bounded: a loop that feeds a variable into itself must not
                            // grow it with every visitor answer.
                            let value: String = expand(value, &state.variables)
                                .chars()
                                .take(MAX_VARIABLE_CHARS)
                                .collect();
                            state.variables.insert(name.to_ascii_lowercase(), value);
                        }
                        Action::CallWebhook {
                            url, timeout_ms, ..
                        } => {
                            outputs.push(Output::CallWebhook {
                                url: url.clone(),
                                timeout_ms: *timeout_ms,
                                variables: state.variables.clone(),
                            });
                            state.step = Some(id);
                            state.waiting = Some(Waiting::Webhook);
                            return;
                        }
                    }
                    at = next.clone();
                }
            }
        }
    }
}

fn step_text(step: &Step) -> Option<&str> {
    match step {
        Step::Message { text, .. } | Step::Question { text, .. } | Step::Input { text, .. } => {
            Some(text)
        }
        Step::Action { text, .. } => text.as_deref(),
        Step::Condition { .. } => None,
    }
}

fn prompt(id: &str, step: &Step) -> Option<Prompt> {
    match step {
        Step::Question { choices, .. } => Some(Prompt {
            step_id: id.to_owned(),
            choices: choices.iter().map(|(label, _)| label.clone()).collect(),
            input: None,
        }),
        Step::Input { input, options, .. } => Some(Prompt {
            step_id: id.to_owned(),
            choices: options.clone(),
            input: Some(match input {
                InputType::Text => InputKind::Text,
                InputType::Email => InputKind::Email,
                InputType::Number => InputKind::Number,
                InputType::Date => InputKind::Date,
                InputType::YesNo => InputKind::YesNo,
                InputType::Choice => InputKind::Choice,
            }),
        }),
        // Free text for the agent, with the button that always reaches a person.
        Step::Action {
            action: Action::AiAgent { agent, .. },
            ..
        } => Some(Prompt {
            step_id: id.to_owned(),
            choices: vec![agent.button.clone()],
            input: Some(InputKind::Text),
        }),
        _ => None,
    }
}

fn reask(id: &str, step: &Step, hint: &str) -> Vec<Output> {
    let mut outputs = vec![Output::Say(hint.to_owned())];
    outputs.extend(prompt(id, step).map(Output::Ask));
    outputs
}

fn holds(condition: &Condition, state: &FlowState, facts: &dyn Facts) -> bool {
    match condition {
        Condition::LinkedToTicket => facts.linked_to_ticket(),
        Condition::Identified => facts.identified(),
        Condition::InWorkingHours => facts.in_working_hours(),
        Condition::AgentsAvailable(teams) => facts.agents_available(teams),
        Condition::Variable(name, test) => {
            let value = state.variables.get(&name.to_ascii_lowercase());
            match test {
                VariableTest::Equals(expected) => {
                    value.is_some_and(|value| value.eq_ignore_ascii_case(expected))
                }
                VariableTest::Contains(part) => value.is_some_and(|value| {
                    value
                        .to_ascii_lowercase()
                        .contains(&part.to_ascii_lowercase())
                }),
                VariableTest::IsSet => value.is_some_and(|value| !value.is_empty()),
            }
        }
    }
}

/// Replaces `$NAME`-style variables that are set; others (such as `$WAITTIME`, filled
/// later by the queue) stay as written.
pub fn expand(text: &str, variables: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(dollar) = rest.find('$') {
        out.push_str(&rest[..dollar]);
        let after = &rest[dollar + 1..];
        let name_len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        let name = &after[..name_len];
        match variables.get(&name.to_ascii_lowercase()) {
            Some(value) if !name.is_empty() => out.push_str(value),
            _ => {
                out.push('$');
                out.push_str(name);
            }
        }
        rest = &after[name_len..];
    }
    out.push_str(rest);
    out
}
