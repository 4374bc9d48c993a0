//! What everyone hears when a conversation changes: its messages, its new state, and
//! the one follow-up for a chat that ended, however it ended (the visitor, an agent,
//! the bot, or abandonment).

use std::sync::Arc;

use porchlight_protocol::{
    AgentEvent, ChatMessage, ChatSummary, ConversationId, Seq, StatusChange, UploadsChange,
    VisitorEvent, to_text,
};

use super::context::describe_browser;
use super::{bot, queue, ringing};
use crate::hub::{Audience, Change, ConnId, Hub};
use crate::state::AppState;
use crate::store::{Conversation, Store, StoreError};

/// Messages per page when stored messages are read back.
const HISTORY_PAGE: usize = 500;

/// Every stored message of `conversation` after `after`, each with its frame, page by
/// page: what a socket that resumes reads, and what a cluster node reads to fill a gap.
pub async fn stored_after(
    store: &dyn Store,
    conversation: ConversationId,
    after: Seq,
) -> Result<Vec<(Seq, String)>, StoreError> {
    let mut found = Vec::new();
    let mut last = after;
    loop {
        let page = store
            .messages_after(conversation, last, HISTORY_PAGE)
            .await?;
        let full = page.len() == HISTORY_PAGE;
        for message in page {
            last = message.seq;
            found.push((message.seq, to_text(&VisitorEvent::Message(message))));
        }
        if !full {
            return Ok(found);
        }
    }
}

/// Sends a newly stored message to everyone following its conversation (but `skip`),
/// and counts it. The message frame has the same JSON in both directions.
pub fn announce_message(state: &AppState, message: &ChatMessage, skip: Option<ConnId>) {
    state.metrics.message_stored(message.author);
    let frame: Arc<str> = to_text(&VisitorEvent::Message(message.clone())).into();
    state
        .hub
        .publish_message(message.conversation_id, message.seq, skip, frame);
}

/// Tells the visitor's sockets the new status and every agent the new chat line.
pub fn announce_conversation(hub: &Hub, conversation: &Conversation) {
    let status = to_text(&VisitorEvent::Status(StatusChange {
        conversation_id: conversation.id,
        status: conversation.status,
        agent_name: conversation.agent.as_ref().map(|agent| agent.name.clone()),
    }));
    hub.publish(conversation.id, Audience::Visitors, None, status.into());
    let uploads = to_text(&VisitorEvent::Uploads(UploadsChange {
        conversation_id: conversation.id,
        allowed: conversation.uploads_allowed(),
    }));
    hub.publish(conversation.id, Audience::Visitors, None, uploads.into());
    hub.publish_chat(
        conversation.facts(),
        to_text(&AgentEvent::Chat(chat_line(conversation))).into(),
    );
    if conversation.ticket_id.is_some() {
        hub.publish_to_consoles(to_text(&AgentEvent::TicketsChanged).into());
    }
}

/// The chat as the console's list shows it.
pub fn chat_line(conversation: &Conversation) -> ChatSummary {
    ChatSummary {
        conversation_id: conversation.id,
        status: conversation.status,
        visitor_id: conversation.visitor_id,
        visitor_name: conversation.visitor_name.clone(),
        agent: conversation.agent.clone(),
        queued_at: conversation.queued_at.unwrap_or(conversation.created_at),
        last_seq: conversation.last_seq,
        page_url: conversation.page_url.clone(),
        referrer: conversation
            .referrer
            .clone()
            .filter(|referrer| !referrer.is_empty()),
        browser: conversation.user_agent.as_deref().map(describe_browser),
        teams: conversation.teams.clone(),
        visitor_uploads: conversation.uploads_allowed(),
        uploads_switchable: conversation.uploads_switchable,
        ticket_id: conversation.ticket_id,
        rating: conversation.rating,
        rating_comment: conversation.rating_comment.clone(),
        visitor_language: conversation
            .visitor_languages
            .as_deref()
            .and_then(|tags| tags.split(',').next())
            .map(str::to_owned),
    }
}

/// An agent joined a waiting chat (`event` is its "… joined" message), by their own
/// click or by assignment; their consoles already follow it. The first join ends the
/// chat's queue time; everyone hears it, the rings stop and the queue moves up.
pub async fn joined(
    state: &AppState,
    conversation: &Conversation,
    event: &ChatMessage,
    agent: porchlight_protocol::AgentId,
    asked_at: i64,
) {
    // A transfer keeps the first join's queue time.
    if let (Some(joined_at), Some(queue_ms)) = (conversation.agent_joined_at, conversation.queue_ms)
        && joined_at >= asked_at
    {
        state
            .recent_waits
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .record(joined_at, queue_ms);
        state.hub.changed(Change::Waited {
            joined_at,
            queue_ms,
        });
        state.metrics.chat_joined(queue_ms);
    }
    state
        .hub
        .unfollow_unseeing(conversation.id, conversation.facts());
    announce_message(state, event, None);
    announce_conversation(&state.hub, conversation);
    ringing::taken(state, conversation.id, agent).await;
    queue::announce(state).await;
}

/// A chat ended (`event` is its "… ended the chat" message): everyone hears it, the
/// AI agent forgets the chat, any button the visitor had goes, its rings stop, the
/// agent who held it may take another, and the queue moves up.
pub async fn ended(state: &AppState, conversation: &Conversation, event: &ChatMessage) {
    super::ai::stop(state, conversation.id);
    announce_message(state, event, None);
    bot::announce_prompt(state, conversation.id, None);
    announce_conversation(&state.hub, conversation);
    state.hub.stop_ring(conversation.id);
    if let Some(holder) = &conversation.agent {
        ringing::ring_waiting_for(state, holder.id).await;
    }
    queue::announce(state).await;
    crate::email::sender::queue_transcript(state, conversation).await;
}
