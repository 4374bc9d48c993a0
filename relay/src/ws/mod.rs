//! The two WebSocket endpoints: `/ws/visitor` for the widget, `/ws/agent` for the console.

use std::sync::Arc;

use axum::extract::ws::WebSocketUpgrade;
use porchlight_protocol::{
    AgentEvent, ChatMessage, ConversationId, ErrorCode, ProtocolError, Seq, StatusChange,
    UploadsChange, VisitorEvent, to_text,
};

use crate::hub::{Audience, ConnId, Hub};
use crate::server::AppState;
use crate::store::{Conversation, StoreError};

pub mod agent;
pub mod ai;
pub mod bot;
pub mod queue;
pub mod ringing;
mod socket;
pub mod visitor;
pub mod waiting;

pub use bot::is_open;
pub use socket::{IDLE_TIMEOUT, PING_EVERY};

/// Socket buffers: small, because thousands of idle visitors each hold them.
pub const READ_BUFFER_BYTES: usize = 4 * 1024;
pub const WRITE_BUFFER_BYTES: usize = 4 * 1024;
/// Frames above this are cut off by the WebSocket layer itself (the connection ends);
/// frames between [`porchlight_protocol::MAX_FRAME_BYTES`] and this get an error frame.
pub const HARD_FRAME_LIMIT: usize = 64 * 1024;
/// Messages per history page when a client resumes.
const HISTORY_PAGE: usize = 500;

/// Applies the socket limits every endpoint shares.
pub fn limited(upgrade: WebSocketUpgrade) -> WebSocketUpgrade {
    upgrade
        .read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(WRITE_BUFFER_BYTES)
        .max_message_size(HARD_FRAME_LIMIT)
        .max_frame_size(HARD_FRAME_LIMIT)
}

/// Sends a stored message to everyone following its conversation (but `skip`).
/// The message frame has the same JSON in both directions.
pub fn announce_message(hub: &Hub, message: &ChatMessage, skip: Option<ConnId>) {
    let frame: Arc<str> = to_text(&VisitorEvent::Message(message.clone())).into();
    hub.publish(message.conversation_id, Audience::Everyone, skip, frame);
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
        to_text(&AgentEvent::Chat(conversation.summary())).into(),
    );
}

/// Every stored message after `after`, as encoded frames, page by page.
pub async fn history(
    state: &AppState,
    conversation: ConversationId,
    after: Seq,
) -> Result<Vec<String>, StoreError> {
    let mut frames = Vec::new();
    let mut last = after;
    loop {
        let page = state
            .store
            .messages_after(conversation, last, HISTORY_PAGE)
            .await?;
        let full = page.len() == HISTORY_PAGE;
        for message in page {
            last = message.seq;
            frames.push(to_text(&VisitorEvent::Message(message)));
        }
        if !full {
            return Ok(frames);
        }
    }
}

/// The error a client sees when the store fails; details go to the log only.
pub fn store_failure(err: &StoreError) -> ProtocolError {
    match err {
        StoreError::NotFound => ProtocolError::new(ErrorCode::NotFound, "No such conversation."),
        StoreError::ConversationEnded => {
            ProtocolError::new(ErrorCode::ConversationEnded, "This conversation has ended.")
        }
        StoreError::NotJoined => ProtocolError::new(
            ErrorCode::NotJoined,
            "Join the conversation before writing in it.",
        ),
        other => {
            tracing::error!(error = %other, "store failure");
            ProtocolError::new(
                ErrorCode::Internal,
                "The relay could not store that; try again.",
            )
        }
    }
}
