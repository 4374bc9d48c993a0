//! Visitors' ratings of their chats.

use async_trait::async_trait;
use porchlight_protocol::ConversationId;

use super::{Conversation, StoreError};

#[async_trait]
pub trait RatingStore: Send + Sync {
    /// Records (or replaces) the rating of an ended chat: `NotFound` for no such chat,
    /// `Conflict` for one still open.
    async fn rate(
        &self,
        id: ConversationId,
        score: u8,
        comment: Option<String>,
    ) -> Result<Conversation, StoreError>;
}
