//! Rings waiting chats for the agents who can take them, and stops the rings when a
//! chat is taken or an agent can no longer take one. The decisions are
//! [`crate::routing`]'s; this applies them to the live sockets.

pub mod assign;
pub mod rules;

use porchlight_protocol::api::people::Assignment;
use porchlight_protocol::{AgentEvent, AgentId, ConversationId, ConversationStatus, to_text};

use self::assign::Among;
use self::rules::{AgentLoad, ring_targets};
use super::events::chat_line;
use crate::state::AppState;
use crate::store::{AgentSnapshot, ChatRules, Conversation, StoreError};

fn load(snapshot: &AgentSnapshot, connected: bool) -> AgentLoad {
    AgentLoad {
        id: snapshot.id,
        name: snapshot.name.clone(),
        teams: snapshot
            .teams
            .iter()
            .map(|team| team.to_ascii_lowercase())
            .collect(),
        connected,
        status_online: snapshot.status_online,
        active_chats: snapshot.active_chats,
        capacity: snapshot.max_chats,
    }
}

pub(super) async fn loads(state: &AppState) -> Result<(Vec<AgentLoad>, ChatRules), StoreError> {
    let online = state.hub.online_agents();
    let snapshots = state.store.agent_snapshots().await?;
    let rules = state.store.chat_rules().await?;
    let loads = snapshots
        .iter()
        .map(|snapshot| load(snapshot, online.contains(&snapshot.id)))
        .collect();
    Ok((loads, rules))
}

fn ring_frame(conversation: &Conversation) -> std::sync::Arc<str> {
    to_text(&AgentEvent::Ring(chat_line(conversation))).into()
}

/// A chat entered the queue: ring every agent who can take it now, or, when its team
/// assigns, give it to one of them. With nobody available it waits, and rings (or is
/// given) when someone becomes available.
pub async fn ring_chat(state: &AppState, conversation: &Conversation) {
    ring_chat_without(state, conversation, None).await;
}

/// A chat `from` transferred to a team: it rings or is given out as any waiting chat,
/// but is never given straight back to them.
pub async fn ring_transferred(state: &AppState, conversation: &Conversation, from: AgentId) {
    ring_chat_without(state, conversation, Some(from)).await;
    ring_waiting_without(state, from, Some(conversation.id)).await;
}

async fn ring_chat_without(state: &AppState, conversation: &Conversation, not_to: Option<AgentId>) {
    if conversation.status != ConversationStatus::Queued {
        return;
    }
    if conversation.target_agent.is_none() {
        let settings = assign::team_settings(state).await;
        let assignment = assign::assignment_for(&settings, &conversation.teams);
        if assignment != Assignment::Ring {
            assign::assign(state, conversation, assignment, Among::AllBut(not_to)).await;
            return;
        }
    }
    match loads(state).await {
        Ok((loads, rules)) => {
            // A chat transferred to one agent rings only for them, whatever their teams.
            let targets = match conversation.target_agent {
                Some(agent) => {
                    let mut targets = ring_targets(&loads, &[], rules);
                    targets.retain(|target| *target == agent);
                    targets
                }
                None => ring_targets(&loads, &conversation.teams, rules),
            };
            state
                .hub
                .ring(conversation.id, &targets, ring_frame(conversation));
        }
        Err(err) => tracing::error!(error = %err, "cannot work out who to ring"),
    }
}

/// An agent may have become able to take chats (logged in, went online, finished a
/// chat) or unable to (went offline, took a chat): ring them for every waiting chat
/// they can take, or stop all their rings.
pub async fn ring_waiting_for(state: &AppState, agent: AgentId) {
    ring_waiting_without(state, agent, None).await;
}

/// As [`ring_waiting_for`], leaving out chat `skip` (one the agent just passed on).
async fn ring_waiting_without(state: &AppState, agent: AgentId, skip: Option<ConversationId>) {
    let (loads, rules) = match loads(state).await {
        Ok(found) => found,
        Err(err) => {
            tracing::error!(error = %err, "cannot work out who to ring");
            return;
        }
    };
    let Some(me) = loads.iter().find(|load| load.id == agent) else {
        return;
    };
    if !(me.connected && me.status_online && me.has_room(rules)) {
        state.hub.stop_rings_for(agent);
        return;
    }
    let waiting = match state.store.waiting_conversations().await {
        Ok(waiting) => waiting,
        Err(err) => {
            tracing::error!(error = %err, "cannot list waiting chats");
            return;
        }
    };
    // Oldest first, so assigned chats go in the order they came.
    let mut waiting: Vec<&Conversation> = waiting
        .iter()
        .filter(|conversation| Some(conversation.id) != skip)
        .filter(|conversation| match conversation.target_agent {
            Some(target) => target == agent,
            None => me.serves(&conversation.teams),
        })
        .collect();
    waiting.sort_by_key(|conversation| (conversation.queued_at, conversation.id));
    let settings = assign::team_settings(state).await;
    for conversation in waiting {
        let assignment = match conversation.target_agent {
            Some(_) => Assignment::Ring,
            None => assign::assignment_for(&settings, &conversation.teams),
        };
        if assignment == Assignment::Ring {
            state
                .hub
                .ring(conversation.id, &[agent], ring_frame(conversation));
        } else if !assign::assign(state, conversation, assignment, Among::Only(agent)).await {
            // No room for more: later chats neither ring for nor go to this agent.
            break;
        }
    }
}

/// Every waiting chat, oldest first, rings or is given out again as its team now says
/// (after an admin changed a team's assignment).
pub async fn ring_all_waiting(state: &AppState) {
    let mut waiting = match state.store.waiting_conversations().await {
        Ok(waiting) => waiting,
        Err(err) => {
            tracing::error!(error = %err, "cannot list waiting chats");
            return;
        }
    };
    waiting.retain(|conversation| conversation.status == ConversationStatus::Queued);
    waiting.sort_by_key(|conversation| (conversation.queued_at, conversation.id));
    for conversation in &waiting {
        ring_chat(state, conversation).await;
    }
}

/// `agent` took the chat: it stops ringing for everyone, and the agent's other rings
/// stop too if the rules leave them no room for more. (Taking a chat never makes
/// room, so nothing new rings.)
pub async fn taken(state: &AppState, conversation: i64, agent: AgentId) {
    state.hub.stop_ring(conversation);
    let (loads, rules) = match loads(state).await {
        Ok(found) => found,
        Err(err) => {
            tracing::error!(error = %err, "cannot work out who to ring");
            return;
        }
    };
    let full = loads
        .iter()
        .find(|load| load.id == agent)
        .is_some_and(|load| !load.has_room(rules));
    if full {
        state.hub.stop_rings_for(agent);
    }
}
