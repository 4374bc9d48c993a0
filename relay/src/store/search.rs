//! Finding chats: by the words of their messages (ranked), the visitor's name or email,
//! the ticket or chat number, and when they started. The query is plain text; each
//! backend turns it into its own full-text syntax.

use async_trait::async_trait;

use super::{Conversation, StoreError};

/// The most chats one search returns, best first (visibility is checked after).
pub const MAX_FOUND: usize = 500;

/// What to look for.
#[derive(Debug, Clone, Default)]
pub struct ChatSearch {
    /// The words the agent typed; blank lists every chat in the range, newest first.
    pub text: String,
    /// Chats started in `[from, to)`, milliseconds since the Unix epoch.
    pub from: i64,
    pub to: i64,
}

/// A chat found, with the words of its best-matching message.
#[derive(Debug, Clone)]
pub struct Found {
    pub conversation: Conversation,
    pub snippet: Option<String>,
}

#[async_trait]
pub trait SearchStore: Send + Sync {
    /// Chats matching `search`: those whose visitor, email, ticket or number match come
    /// first (newest first), then those whose messages match, best match first. At
    /// most [`MAX_FOUND`].
    async fn search_chats(&self, search: ChatSearch) -> Result<Vec<Found>, StoreError>;
}
