//! The AI agent at work in a chat: each visitor question on its step gets an answer
//! grounded in the site's knowledge, streamed to the widget as it is written, then
//! stored with its sources. It hands over by the step's escalation rules.

use std::sync::Arc;

use futures_util::StreamExt;
use porchlight_protocol::{
    Author, ConversationId, ConversationStatus, Source, StreamDelta, VisitorEvent, to_text,
};
use serde_json::Value;

use super::bot::{self, Trigger};
use super::events::announce_message;
use crate::ai::embedder::{Embedder, embed_missing};
use crate::ai::judge;
use crate::ai::prompt;
use crate::ai::reply::{self, ConfidenceGate};
use crate::ai::sanitize::{Sanitizer, sanitize};
use crate::ai::{AgentConfig, AiError, Piece, Provider, Signal};
use crate::chat::context::visitor_context;
use crate::flow::Flow;
use crate::hub::{Audience, Change, NOBODY};
use crate::knowledge;
use crate::state::AppState;
use crate::store::knowledge::Hit;
use crate::store::{MessageKind, NewMessage, StoreError, now_ms};

/// The AI agent stops answering in the chat (it ended, went to a person, or its
/// visitor was erased), on whichever node is writing the answer.
pub fn stop(state: &AppState, chat: ConversationId) {
    state.ai.forget(chat);
    state.hub.changed(Change::AiStops { conversation: chat });
}

/// Passages retrieved for each question.
pub const PASSAGES: usize = 4;
/// Answers one visitor may get in a day (UTC), in any chat, before the agent hands
/// them to a person: a cap on what one visitor can cost, which neither a new chat nor
/// a restart resets.
pub const MAX_ANSWERS_PER_VISITOR_PER_DAY: u32 = 40;
/// Messages read back for the model.
const HISTORY_READ: usize = 200;
/// How often the embedder looks for passages without vectors unprompted.
const EMBED_SWEEP: std::time::Duration = std::time::Duration::from_secs(300);

/// Answers the chat's latest question in the background; a newer question cancels
/// an answer still being written.
pub fn answer_later(state: &AppState, flow: Arc<Flow>, conversation: ConversationId) {
    state.ai.begin_answer(conversation, |generation| {
        let task_state = state.clone();
        state
            .tracker
            .spawn(async move {
                if let Err(err) = answer(&task_state, &flow, conversation, generation).await {
                    tracing::warn!(conversation, error = %err, "the AI agent could not answer");
                }
                task_state.ai.answer_done(conversation, generation);
            })
            .abort_handle()
    });
}

/// Days since the Unix epoch (UTC): what the daily caps count by.
fn today() -> i64 {
    now_ms().div_euclid(24 * 3600 * 1000)
}

async fn answer(
    state: &AppState,
    flow: &Arc<Flow>,
    id: ConversationId,
    generation: u64,
) -> Result<(), StoreError> {
    let Some(conversation) = state.store.conversation(id).await? else {
        return Ok(());
    };
    let flow_state = bot::flow_state_of(&conversation);
    let Some((config, _)) = flow.ai_agent(&flow_state) else {
        return Ok(());
    };
    if conversation.status != ConversationStatus::Bot {
        return Ok(());
    }
    let config = config.clone();
    // The latest messages, not the first: a long chat's question is at its end.
    let after = conversation.last_seq.saturating_sub(HISTORY_READ as u64);
    let history = state.store.messages_after(id, after, HISTORY_READ).await?;
    let Some(question) = history
        .iter()
        .rev()
        .find(|message| message.author == Author::Visitor)
        .map(|message| message.body.clone())
    else {
        return Ok(());
    };
    let provider = state.ai.provider();
    let usage = state
        .store
        .record_ai_answer(id, today(), provider.is_some())
        .await?;
    let over_budget =
        provider.is_some() && u64::from(usage.site_today) > state.ai.settings().daily_model_calls;
    if usage.visitor_today > MAX_ANSWERS_PER_VISITOR_PER_DAY || over_budget {
        let body = if over_budget {
            "I've answered all I can for today, so I'm bringing in a person from the team."
        } else {
            "We've covered a lot, so I'm bringing in a person from the team."
        };
        post(state, id, &config, body.into(), Vec::new()).await?;
        state.ai.answer_done(id, generation);
        return escalate(state, flow, id).await;
    }
    let number = usage.chat;
    let site = conversation.site_id;
    match provider {
        None => {
            // With no model to judge them, passages far from the question, or beside
            // what it asks, are no answer: better "I don't have that" and a person.
            let judged =
                judge::passages_answering(state.store.as_ref(), site, &question, PASSAGES).await;
            let hits = match judged {
                Ok((hits, verdict)) => {
                    tracing::debug!(?verdict, "the knowledge judged");
                    hits
                }
                Err(err) => {
                    tracing::warn!(error = %err, "knowledge search failed");
                    Vec::new()
                }
            };
            let (body, sources) = reply::from_passages(&config, &question, &hits);
            if hits.is_empty() && low_confidence_hands_over(state, &config, id).await? {
                // Handing over forgets this chat's AI state; this task must not be
                // cancelled with it.
                state.ai.answer_done(id, generation);
                return escalate(state, flow, id).await;
            }
            post(state, id, &config, body, sources).await
        }
        Some(provider) => {
            let hits = retrieve(state, &provider, site, &question).await;
            let contact = match state.store.contact(conversation.visitor_id).await {
                Ok(contact) => contact,
                Err(err) => {
                    tracing::warn!(error = %err, "the visitor's contact is not in the context");
                    None
                }
            };
            let context = visitor_context(&conversation, &flow_state, contact.as_ref());
            let messages = prompt::messages(&config, &hits, &context, &history);
            let answer = ModelAnswer {
                id,
                number,
                generation,
            };
            model_answer(state, flow, &provider, &config, answer, messages, &hits).await
        }
    }
}

/// Keyword search blended with vector search (the provider's embeddings, or the
/// built-in model's).
async fn retrieve(
    state: &AppState,
    provider: &Provider,
    site: crate::store::SiteId,
    question: &str,
) -> Vec<Hit> {
    let vector = Embedder::of(Some(provider)).query_vector(question).await;
    knowledge::search(state.store.as_ref(), site, question, PASSAGES, vector)
        .await
        .unwrap_or_else(|err| {
            tracing::warn!(error = %err, "knowledge search failed");
            Vec::new()
        })
}

/// Counts a low-confidence answer; says whether the chat now goes to a person.
async fn low_confidence_hands_over(
    state: &AppState,
    config: &AgentConfig,
    id: ConversationId,
) -> Result<bool, StoreError> {
    let failed = state.store.record_ai_failure(id).await?;
    Ok(reply::hands_over(config, Signal::LowConfidence, failed))
}

/// Which answer a model call writes: its chat, its number (for the stream frames)
/// and its generation (for cancelling).
#[derive(Clone, Copy)]
struct ModelAnswer {
    id: ConversationId,
    number: u32,
    generation: u64,
}

fn stream_frame(id: ConversationId, number: u32, text: String, done: bool) -> Arc<str> {
    to_text(&VisitorEvent::Stream(StreamDelta {
        conversation_id: id,
        id: number,
        text,
        done,
    }))
    .into()
}

/// Does what the model's tool calls ask; `true` when one asks to hand over.
async fn follow_tools(
    state: &AppState,
    flow: &Arc<Flow>,
    config: &AgentConfig,
    id: ConversationId,
    calls: Vec<(String, String)>,
) -> Result<bool, StoreError> {
    let mut hand_over = false;
    for (name, arguments) in calls {
        match name.as_str() {
            "escalate" => hand_over |= reply::hands_over(config, Signal::Tool, 0),
            "create_ticket" => {
                let subject = serde_json::from_str::<Value>(&arguments)
                    .ok()
                    .and_then(|arguments| arguments["subject"].as_str().map(str::to_owned))
                    .filter(|subject| !subject.trim().is_empty())
                    .unwrap_or_else(|| "Request from the chat".into());
                open_ticket(state, flow, id, subject.chars().take(200).collect()).await?;
            }
            other => tracing::warn!(tool = other, "the model called an unknown tool"),
        }
    }
    Ok(hand_over)
}

async fn model_answer(
    state: &AppState,
    flow: &Arc<Flow>,
    provider: &Provider,
    config: &AgentConfig,
    answer: ModelAnswer,
    messages: Vec<Value>,
    hits: &[Hit],
) -> Result<(), StoreError> {
    let ModelAnswer {
        id,
        number,
        generation,
    } = answer;
    let publish = |text: String, done: bool| {
        state.hub.publish(
            id,
            Audience::Visitors,
            None,
            stream_frame(id, number, text, done),
        );
    };
    let pieces = match provider.stream(messages, prompt::tools(config)).await {
        Ok(pieces) => pieces,
        Err(err) => return provider_down(state, id, config, &err).await,
    };
    let mut pieces = std::pin::pin!(pieces);
    let mut gate = ConfidenceGate::default();
    // What streams is sanitized as it goes; what is stored, once whole.
    let mut shown = Sanitizer::default();
    let mut text = String::new();
    let mut calls: Vec<(String, String)> = Vec::new();
    // Decided at the first shown text: a low-confidence answer that hands over is
    // never shown.
    let mut withheld: Option<bool> = None;
    let mut failure = None;
    while let Some(piece) = pieces.next().await {
        match piece {
            Ok(Piece::Text(piece)) => {
                let Some(visible) = gate.feed(&piece) else {
                    continue;
                };
                if withheld.is_none() {
                    let unsure = gate
                        .confidence()
                        .is_some_and(|confidence| confidence < config.confidence_threshold);
                    withheld = Some(unsure && low_confidence_hands_over(state, config, id).await?);
                }
                if withheld != Some(true) && !visible.is_empty() {
                    text.push_str(&visible);
                    let safe = shown.feed(&visible);
                    if !safe.is_empty() {
                        publish(safe, false);
                    }
                }
            }
            Ok(Piece::ToolCall { name, arguments }) => calls.push((name, arguments)),
            Err(err) => {
                failure = Some(err);
                break;
            }
        }
    }
    let rest = gate.finish();
    if withheld != Some(true) {
        text.push_str(&rest);
        let safe = shown.feed(&rest) + &shown.finish();
        if !safe.is_empty() {
            publish(safe, false);
        }
    }
    if let Some(err) = failure
        && text.trim().is_empty()
        && calls.is_empty()
    {
        publish(String::new(), true);
        return provider_down(state, id, config, &err).await;
    }
    let body = sanitize(&text);
    if !body.is_empty() {
        let sources = reply::sources(
            &reply::cited(&body, hits.len())
                .into_iter()
                .map(|number| hits[number - 1].clone())
                .collect::<Vec<_>>(),
        );
        post(state, id, config, body, sources).await?;
    } else if calls.is_empty() && withheld != Some(true) {
        // The model said nothing usable: the visitor still gets an answer.
        post(state, id, config, reply::no_answer(config), Vec::new()).await?;
    }
    publish(String::new(), true);
    let asked_to = follow_tools(state, flow, config, id, calls).await?;
    if withheld == Some(true) || asked_to {
        state.ai.answer_done(id, generation);
        escalate(state, flow, id).await?;
    }
    Ok(())
}

async fn provider_down(
    state: &AppState,
    id: ConversationId,
    config: &AgentConfig,
    err: &AiError,
) -> Result<(), StoreError> {
    tracing::warn!(conversation = id, error = %err, "AI provider unavailable");
    post(
        state,
        id,
        config,
        format!(
            "Sorry, I can't answer right now: our AI service isn't responding. Choose \"{}\" and someone from the team will help.",
            config.button
        ),
        Vec::new(),
    )
    .await
}

/// Stores and sends one of the agent's answers.
async fn post(
    state: &AppState,
    id: ConversationId,
    config: &AgentConfig,
    body: String,
    sources: Vec<Source>,
) -> Result<(), StoreError> {
    let appended = state
        .store
        .append_message(NewMessage {
            kind: MessageKind::Text,
            sources,
            ..NewMessage::text(id, None, Author::Bot, None, Some(config.name.clone()), body)
        })
        .await?;
    state.metrics.ai_answered();
    announce_message(state, &appended.message, None);
    Ok(())
}

/// Runs a flow turn the agent caused, again on a fresh read if a visitor message
/// changed the chat meanwhile.
async fn agent_turn(
    state: &AppState,
    flow: &Arc<Flow>,
    id: ConversationId,
    trigger: impl Fn() -> Trigger,
) -> Result<(), StoreError> {
    for _ in 0..3 {
        let Some(conversation) = state.store.conversation(id).await? else {
            return Ok(());
        };
        match bot::run_turn(state, flow, &conversation, trigger(), None, NOBODY).await {
            Err(StoreError::Conflict) => continue,
            other => return other.map(|_| ()),
        }
    }
    Err(StoreError::Conflict)
}

/// Hands the chat to a person (or a ticket out of hours).
async fn escalate(
    state: &AppState,
    flow: &Arc<Flow>,
    id: ConversationId,
) -> Result<(), StoreError> {
    state.metrics.ai_handed_over();
    agent_turn(state, flow, id, || Trigger::Escalate).await
}

async fn open_ticket(
    state: &AppState,
    flow: &Arc<Flow>,
    id: ConversationId,
    subject: String,
) -> Result<(), StoreError> {
    agent_turn(state, flow, id, || Trigger::AiTicket(subject.clone())).await
}

/// Keeps the knowledge's vectors current: every passage gets one from the provider's
/// embedding model, or the built-in one, when the relay starts, whenever knowledge or
/// the provider changes, and every few minutes for imports from the command line.
pub async fn run_embedder(state: AppState) {
    loop {
        let embedder = Embedder::of(state.ai.provider().as_ref());
        let stop = || state.shutdown.is_cancelled();
        if let Err(err) = embed_missing(state.store.as_ref(), &embedder, stop).await {
            tracing::warn!(error = %err, "trying again on the next change");
        }
        tokio::select! {
            () = state.knowledge_changed.notified() => {}
            () = tokio::time::sleep(EMBED_SWEEP) => {}
            () = state.shutdown.cancelled() => return,
        }
    }
}
