//! The two WebSocket endpoints, and only them: `/ws/visitor` for the widget and
//! `/ws/agent` for the console. Each parses a frame, asks `crate::chat` to do what it
//! says, and replies; `socket.rs` is the loop both run (limits, pings, shutdown).

use axum::extract::ws::WebSocketUpgrade;
use porchlight_protocol::{ConversationId, ErrorCode, ProtocolError, Seq};

use crate::chat::events::stored_after;
use crate::state::AppState;
use crate::store::StoreError;

pub mod agent;
mod socket;
pub mod visitor;

/// Socket buffers: small, because thousands of idle visitors each hold them. The read
/// buffer grows for a larger frame (a widget's frames are mostly a few hundred
/// bytes); 1 KiB instead of 4 took 3 KiB off each idle visitor at the same CPU per
/// message (docs/measuring.md).
pub const READ_BUFFER_BYTES: usize = 256;
pub const WRITE_BUFFER_BYTES: usize = 4 * 1024;
/// Frames above this are cut off by the WebSocket layer itself (the connection ends);
/// frames between [`porchlight_protocol::MAX_FRAME_BYTES`] and this get an error frame.
pub const HARD_FRAME_LIMIT: usize = 64 * 1024;
/// Typing pulses closer together than this (per socket and chat) are not passed on;
/// the clients send one every few seconds while someone types.
pub const TYPING_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// Applies the socket limits every endpoint shares.
pub fn limited(upgrade: WebSocketUpgrade) -> WebSocketUpgrade {
    upgrade
        .read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(WRITE_BUFFER_BYTES)
        .max_message_size(HARD_FRAME_LIMIT)
        .max_frame_size(HARD_FRAME_LIMIT)
}

/// Every stored message after `after`, as encoded frames.
pub async fn history(
    state: &AppState,
    conversation: ConversationId,
    after: Seq,
) -> Result<Vec<String>, StoreError> {
    let stored = stored_after(state.store.as_ref(), conversation, after).await?;
    Ok(stored.into_iter().map(|(_, frame)| frame).collect())
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
        StoreError::NulInText => {
            ProtocolError::new(ErrorCode::BadFrame, "Text must not contain NUL characters.")
        }
        other => {
            tracing::error!(error = %other, "store failure");
            ProtocolError::new(
                ErrorCode::Internal,
                "The relay could not store that; try again.",
            )
        }
    }
}
