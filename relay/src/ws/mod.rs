//! The two WebSocket endpoints, and only them: `/ws/visitor` for the widget and
//! `/ws/agent` for the console. Each parses a frame, asks `crate::chat` to do what it
//! says, and replies; `socket.rs` is the loop both run (limits, pings, shutdown).

use axum::extract::ws::WebSocketUpgrade;
use porchlight_protocol::{ConversationId, ErrorCode, ProtocolError, Seq, VisitorEvent, to_text};

use crate::state::AppState;
use crate::store::StoreError;

pub mod agent;
mod socket;
pub mod visitor;

/// Socket buffers: small, because thousands of idle visitors each hold them. The read
/// buffer grows for a larger frame; 1 KiB instead of 4 took 3 KiB off each idle
/// visitor at the same CPU per message (docs/measuring.md).
pub const READ_BUFFER_BYTES: usize = 1024;
pub const WRITE_BUFFER_BYTES: usize = 4 * 1024;
/// Frames above this are cut off by the WebSocket layer itself (the connection ends);
/// frames between [`porchlight_protocol::MAX_FRAME_BYTES`] and this get an error frame.
pub const HARD_FRAME_LIMIT: usize = 64 * 1024;
/// Typing pulses closer together than this (per socket and chat) are not passed on;
/// the clients send one every few seconds while someone types.
pub const TYPING_EVERY: std::time::Duration = std::time::Duration::from_secs(1);
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
