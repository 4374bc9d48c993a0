//! Porchlight's wire protocol: JSON text frames, each `{"type": "...", ...}`.
//!
//! Four directions, four enums: visitor→relay ([`VisitorRequest`]), relay→visitor
//! ([`VisitorEvent`]), agent→relay ([`AgentRequest`]) and relay→agent ([`AgentEvent`]).
//! The first frame of every socket is `hello` and carries [`PROTOCOL_VERSION`].
//!
//! Delivery: a sender names each message with a `client_msg_id`; the relay stores it
//! once, gives it the conversation's next `seq` and acknowledges after commit. A client
//! that reconnects says the last `seq` it saw and gets every later message, in order.

pub mod agent;
pub mod api;
pub mod chat;
mod error;
mod frames;
pub mod identity;
pub mod links;
pub mod sync;
mod tag_first;
pub mod visitor;
pub mod words;

pub use agent::{AgentEvent, AgentRequest, ChatSummary, Note, StatusInfo};
pub use chat::{
    AgentInfo, AttachmentInfo, Author, ChatMessage, ConversationState, ConversationStatus,
    InputKind, PageInfo, ProfileView, Prompt, RatingScale, Resume, Source, TicketLink,
};
pub use error::{ErrorCode, ProtocolError};
pub use frames::{
    parse_agent_request, parse_visitor_request, to_text, usable_client_msg_id, validate_outgoing,
};
pub use identity::{ContextEntry, Identity, IdentityText, KnownVisitor};
pub use visitor::{
    Ack, PromptChange, QueueInfo, Rated, StatusChange, StreamDelta, TranscriptQueued, Typing,
    UploadsChange, VisitorEvent, VisitorRequest, Welcome,
};

/// Bumped on any change to the frames that an older peer could not read.
pub const PROTOCOL_VERSION: u32 = 1;

/// The largest text frame the relay parses; larger ones get `frame_too_large`.
pub const MAX_FRAME_BYTES: usize = 16 * 1024;

/// The longest message body, in characters.
pub const MAX_BODY_CHARS: usize = 4000;

/// The longest `client_msg_id`, in bytes.
pub const MAX_CLIENT_MSG_ID_BYTES: usize = 64;

pub type ConversationId = i64;
pub type Seq = u64;
pub type AgentId = i64;

#[cfg(test)]
mod tests;
