//! Runs a conversation's bot flow against the world: gathers the facts it branches on,
//! turns its outputs into one atomic [`FlowTurn`], stores it and tells every socket.

use std::collections::HashSet;
use std::sync::Arc;

use porchlight_protocol::words::Language;
use porchlight_protocol::{
    Author, ChatMessage, ConversationStatus, ProfileView, Prompt, PromptChange, RatingScale,
    VisitorEvent, to_text,
};

use super::events::{announce_conversation, announce_message};
use super::webhook::call_webhook;
use super::{context, queue};
use crate::ai::reply;
use crate::flow::profile::Appearance;
use crate::flow::{Answer, Facts, Flow, FlowState, Output};
use crate::hub::{Audience, ConnId};
use crate::state::AppState;
use crate::store::{
    AttachmentPolicy, Conversation, FlowTurn, NewMessage, StoreError, TurnOutcome, now_ms,
};

/// What the world looks like to a flow, gathered before it runs.
struct World {
    linked_to_ticket: bool,
    identified: bool,
    open: bool,
    staffed: HashSet<String>,
}

impl Facts for World {
    fn linked_to_ticket(&self) -> bool {
        self.linked_to_ticket
    }
    fn identified(&self) -> bool {
        self.identified
    }
    fn in_working_hours(&self) -> bool {
        self.open
    }
    fn agents_available(&self, teams: &[String]) -> bool {
        teams
            .iter()
            .any(|team| self.staffed.contains(&team.to_ascii_lowercase()))
    }
}

/// Whether the profile is inside its working hours now.
pub fn is_open(flow: &Flow) -> bool {
    flow.profile.working_hours.as_ref().is_none_or(|hours| {
        jiff::Timestamp::from_millisecond(now_ms()).is_ok_and(|now| hours.is_open(now))
    })
}

/// What the widget shows of the profile (the defaults without one), in the profile's
/// language or else the `browser`'s (see [`Language::spoken`]), else English.
pub fn profile_view(flow: Option<&Flow>, browser: Option<Language>) -> ProfileView {
    let defaults = Appearance::default();
    let appearance = flow.map_or(&defaults, |flow| &flow.profile.appearance);
    let language = appearance.language.or(browser).unwrap_or(Language::En);
    ProfileView {
        title: appearance.title.clone(),
        greeting: appearance.greeting.clone(),
        colour: appearance.colour.clone(),
        online: flow.is_none_or(is_open),
        rating: flow.map_or(RatingScale::Off, |flow| flow.profile.rating),
        language: (language != Language::En).then_some(language),
        lines: language.table(&appearance.strings),
        email_transcript: false,
    }
}

/// The step a new chat starts at: the page's choice if the profile allows it, the
/// offline start out of hours, else the start. The flag says a request was refused.
pub fn start_step(flow: &Flow, requested: Option<&str>) -> (String, bool) {
    if let Some(step) = requested
        && flow.can_start_at(step)
    {
        return (step.to_owned(), false);
    }
    let refused = requested.is_some();
    if !is_open(flow)
        && let Some(offline) = &flow.profile.offline_start
    {
        return (offline.clone(), refused);
    }
    (flow.profile.start.clone(), refused)
}

/// Whether the flow, run from `step` with the world as it is now, would ask the
/// visitor something before handing over; if not, nothing is stored until the visitor
/// writes. The dry run takes every webhook as failed, so it calls nothing.
pub async fn engages(
    state: &AppState,
    flow: &Flow,
    step: &str,
    linked_to_ticket: bool,
    identified: bool,
) -> bool {
    let world = gather(state, flow, linked_to_ticket, identified).await;
    let mut dry = FlowState::default();
    let mut outputs = flow.start_at(&mut dry, step, &world);
    // Bounded: validation refuses loops that never wait, so each pass moves on.
    for _ in 0..64 {
        if outputs
            .iter()
            .any(|output| matches!(output, Output::Ask(_)))
        {
            return true;
        }
        if !outputs
            .iter()
            .any(|output| matches!(output, Output::CallWebhook { .. }))
        {
            return false;
        }
        outputs = flow.webhook_done(&mut dry, None, &world);
    }
    false
}

async fn gather(state: &AppState, flow: &Flow, linked_to_ticket: bool, identified: bool) -> World {
    let teams = flow.condition_teams();
    let staffed = if teams.is_empty() {
        HashSet::new()
    } else {
        let online = state.hub.online_agents();
        let mut staffed = HashSet::new();
        for team in teams {
            let members = state
                .store
                .agents_in_teams(vec![team.clone()])
                .await
                .unwrap_or_default();
            if members.iter().any(|agent| online.contains(agent)) {
                staffed.insert(team.to_ascii_lowercase());
            }
        }
        staffed
    };
    World {
        linked_to_ticket,
        identified,
        open: is_open(flow),
        staffed,
    }
}

/// The conversation's bot flow state as stored; the start when the flow has not run.
pub fn flow_state_of(conversation: &Conversation) -> FlowState {
    conversation
        .flow_state
        .as_deref()
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or_default()
}

/// What started the turn.
pub enum Trigger {
    /// Run the flow from this step (a new chat, or one whose first turn was lost).
    Start(String),
    /// The visitor wrote; an answer if the flow waits for one.
    Visitor { client_msg_id: String, body: String },
    /// The AI agent hands the chat over.
    Escalate,
    /// The AI agent opens a ticket with this subject (the chat stays with it).
    AiTicket(String),
}

/// What a stored turn means for the socket that caused it.
pub struct TurnResult {
    /// The visitor's message, for the ack (absent for a start without one).
    pub acked: Option<porchlight_protocol::ChatMessage>,
}

/// What a turn starts from: the visitor's message (if any), the flow's first outputs,
/// and what follows once it is stored.
struct Opening {
    visitor_message: Option<NewMessage>,
    outputs: Vec<Output>,
    /// The flow is done without handing over: a person takes it from here.
    free_text: bool,
    /// The visitor asked the AI agent something: it answers once the turn is stored.
    ask_ai: bool,
}

impl Opening {
    fn outputs(visitor_message: Option<NewMessage>, outputs: Vec<Output>) -> Self {
        Self {
            visitor_message,
            outputs,
            free_text: false,
            ask_ai: false,
        }
    }
}

/// The flow's first move for `trigger`, applied to `flow_state`.
fn open_turn(
    flow: &Flow,
    conversation: &Conversation,
    flow_state: &mut FlowState,
    world: &World,
    trigger: Trigger,
    first_message: Option<(String, String)>,
) -> Opening {
    let visitor_text = |client_msg_id: String, body: String| {
        NewMessage::text(
            conversation.id,
            Some(client_msg_id),
            Author::Visitor,
            Some(conversation.visitor_id),
            None,
            body,
        )
    };
    match trigger {
        Trigger::Start(step) => {
            let outputs = flow.start_at(flow_state, &step, world);
            let message = first_message.map(|(id, body)| visitor_text(id, body));
            // A chat opened by a question that lands on the AI agent's step: it answers.
            let ask_ai = message.is_some() && flow.ai_agent(flow_state).is_some();
            Opening {
                ask_ai,
                ..Opening::outputs(message, outputs)
            }
        }
        Trigger::Escalate => Opening::outputs(None, flow.escalate(flow_state, world)),
        Trigger::AiTicket(subject) => Opening::outputs(
            None,
            vec![Output::CreateTicket {
                subject,
                acknowledgement: None,
            }],
        ),
        Trigger::Visitor {
            client_msg_id,
            body,
        } if flow.ai_agent(flow_state).is_some() => {
            let message = NewMessage {
                step_id: flow_state.step.clone(),
                ..visitor_text(client_msg_id, body.clone())
            };
            let escalates = flow.ai_agent(flow_state).is_some_and(|(config, _)| {
                reply::asks_for_person(config, &body)
                    .is_some_and(|signal| reply::hands_over(config, signal, conversation.ai_failed))
            });
            if escalates {
                Opening::outputs(Some(message), flow.escalate(flow_state, world))
            } else {
                Opening {
                    ask_ai: true,
                    ..Opening::outputs(Some(message), Vec::new())
                }
            }
        }
        Trigger::Visitor {
            client_msg_id,
            body,
        } => {
            let step_id = flow_state.step.clone();
            match flow.answer(flow_state, &body, world) {
                Answer::Accepted { value, outputs } => Opening::outputs(
                    Some(NewMessage {
                        value: Some(value),
                        step_id,
                        ..visitor_text(client_msg_id, body)
                    }),
                    outputs,
                ),
                Answer::Rejected { outputs } => Opening::outputs(
                    Some(NewMessage {
                        step_id,
                        ..visitor_text(client_msg_id, body)
                    }),
                    outputs,
                ),
                Answer::NotWaiting => Opening {
                    free_text: true,
                    ..Opening::outputs(Some(visitor_text(client_msg_id, body)), Vec::new())
                },
            }
        }
    }
}

/// Applies the flow's outputs to the turn, following webhooks (whose answers the flow
/// goes on from) until the flow has nothing more to do.
async fn apply_outputs(
    state: &AppState,
    flow: &Flow,
    conversation: &Conversation,
    flow_state: &mut FlowState,
    world: &World,
    outputs: Vec<Output>,
    turn: &mut FlowTurn,
) {
    let mut pending = outputs;
    while !pending.is_empty() {
        let mut next = Vec::new();
        for output in pending {
            match output {
                Output::Say(text) => turn.bot_messages.push(text),
                Output::Ask(_) => {}
                Output::StartLiveChat { teams, attachments } => {
                    turn.queue = true;
                    turn.queue_teams = teams;
                    turn.upload_policy.0 = attachments;
                }
                Output::EndChat => turn.end = true,
                Output::CreateTicket {
                    subject,
                    acknowledgement,
                } => {
                    turn.ticket_subject = Some(subject);
                    if let Some((to, text)) = acknowledgement
                        .filter(|(to, _)| crate::email::sender::may_email_visitor(state, to))
                    {
                        let mut text = [text];
                        queue::fill_messages(
                            state,
                            conversation.id,
                            conversation.profile_id,
                            &[],
                            &mut text,
                        )
                        .await;
                        let [text] = text;
                        turn.ticket_acknowledgement = Some((to, text));
                    }
                }
                Output::CallWebhook {
                    url,
                    timeout_ms,
                    variables,
                } => {
                    let response =
                        call_webhook(state, &url, timeout_ms, conversation, &variables).await;
                    state.metrics.webhook_called(response.is_some());
                    next = flow.webhook_done(flow_state, response.as_ref(), world);
                }
            }
        }
        pending = next;
    }
}

/// Runs one turn and stores it. `first_message` is a visitor message that opened the
/// conversation (it is stored before the flow's greeting).
pub async fn run_turn(
    state: &AppState,
    flow: &Arc<Flow>,
    conversation: &Conversation,
    trigger: Trigger,
    first_message: Option<(String, String)>,
    sender: ConnId,
) -> Result<TurnResult, StoreError> {
    let world = gather(
        state,
        flow,
        conversation.ticket_id.is_some(),
        conversation.visitor_user_id.is_some(),
    )
    .await;
    let expected_state = conversation.flow_state.clone();
    let mut flow_state = flow_state_of(conversation);
    context::known_visitor(conversation, &mut flow_state);
    let opening = open_turn(
        flow,
        conversation,
        &mut flow_state,
        &world,
        trigger,
        first_message,
    );
    let mut turn = FlowTurn {
        expected_state,
        visitor_message: opening.visitor_message,
        bot_name: flow.profile.appearance.title.clone(),
        bot_messages: Vec::new(),
        flow_state: String::new(),
        current_step: None,
        queue: opening.free_text,
        queue_teams: Vec::new(),
        upload_policy: (
            AttachmentPolicy::Prevent,
            flow.profile.agents_can_toggle_uploads,
        ),
        end: false,
        ticket_subject: None,
        ticket_acknowledgement: None,
    };
    let outputs = opening.outputs;
    apply_outputs(
        state,
        flow,
        conversation,
        &mut flow_state,
        &world,
        outputs,
        &mut turn,
    )
    .await;
    // A chat the visitor opened by writing must reach someone: if the flow only
    // greeted and stopped, a person takes it.
    if turn.visitor_message.is_some() && flow_state.waiting.is_none() && !turn.queue && !turn.end {
        turn.queue = true;
    }
    queue::fill_messages(
        state,
        conversation.id,
        conversation.profile_id,
        &turn.queue_teams,
        &mut turn.bot_messages,
    )
    .await;
    turn.current_step = flow_state.step.clone();
    turn.flow_state = serde_json::to_string(&flow_state).unwrap_or_default();
    let prompt = flow.current_prompt(&flow_state);
    let makes_ticket = turn.ticket_subject.is_some();
    match state.store.flow_turn(conversation.id, turn).await? {
        TurnOutcome::Applied {
            conversation: updated,
            messages,
        } => {
            if makes_ticket {
                // The ticket's email to the team was queued with it.
                state.email_queued.notify_one();
            }
            let acked = announce_turn(state, &updated, &messages, prompt, sender).await;
            if opening.ask_ai {
                super::ai::answer_later(state, Arc::clone(flow), conversation.id);
            }
            Ok(TurnResult { acked })
        }
        TurnOutcome::Duplicate(original) => Ok(TurnResult {
            acked: Some(original),
        }),
        TurnOutcome::Conflict => Err(StoreError::Conflict),
    }
}

/// Tells everyone what a stored turn did; returns the visitor's message for the ack.
async fn announce_turn(
    state: &AppState,
    updated: &Conversation,
    messages: &[ChatMessage],
    prompt: Option<Prompt>,
    sender: ConnId,
) -> Option<ChatMessage> {
    let mut acked = None;
    for message in messages {
        if message.author == Author::Visitor {
            announce_message(state, message, Some(sender));
            acked = Some(message.clone());
        } else {
            announce_message(state, message, None);
        }
    }
    announce_prompt(state, updated.id, prompt);
    if updated.status != ConversationStatus::Bot {
        // Whatever the AI agent held for this chat goes with it.
        super::ai::stop(state, updated.id);
        announce_conversation(&state.hub, updated);
        super::ringing::ring_chat(state, updated).await;
        queue::announce(state).await;
    }
    if updated.status == ConversationStatus::Ended {
        crate::email::sender::queue_transcript(state, updated).await;
    }
    acked
}

pub fn announce_prompt(state: &AppState, conversation_id: i64, prompt: Option<Prompt>) {
    let frame = to_text(&VisitorEvent::Prompt(PromptChange {
        conversation_id,
        prompt,
    }));
    state
        .hub
        .publish(conversation_id, Audience::Visitors, None, frame.into());
}
