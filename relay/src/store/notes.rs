//! Private notes: what agents write about a chat for each other. A table of its own,
//! so nothing that reads messages (history, transcripts, the AI agent, the visitor's
//! socket) can ever pick one up.

use async_trait::async_trait;
use porchlight_protocol::{AgentInfo, ConversationId, Note};

use super::StoreError;

/// A note to store.
#[derive(Debug, Clone)]
pub struct NewNote {
    pub conversation_id: ConversationId,
    pub client_msg_id: String,
    pub author: AgentInfo,
    pub body: String,
}

#[async_trait]
pub trait NoteStore: Send + Sync {
    /// Stores a note once per `client_msg_id` in its chat: a resend gets the stored
    /// note back, with `false` (not new). `NotFound` when there is no such chat.
    async fn add_note(&self, note: NewNote) -> Result<(Note, bool), StoreError>;

    /// A chat's notes, oldest first.
    async fn notes(&self, id: ConversationId) -> Result<Vec<Note>, StoreError>;
}
