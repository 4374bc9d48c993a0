//! Conversations listed for the REST API: one site's, filtered, newest first, a page
//! at a time (the cursor is the last id seen).

use async_trait::async_trait;
use porchlight_protocol::ConversationStatus;

use super::{Conversation, SiteId, StoreError};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConversationFilter {
    pub site_id: SiteId,
    pub status: Option<ConversationStatus>,
    pub profile_id: Option<i64>,
    pub ticket_id: Option<i64>,
    /// Started at or after, and before (ms since the epoch).
    pub from: Option<i64>,
    pub to: Option<i64>,
    /// Only ids below this (the previous page's last).
    pub before_id: Option<i64>,
    pub limit: usize,
}

#[async_trait]
pub trait ListingStore: Send + Sync {
    async fn list_conversations(
        &self,
        filter: ConversationFilter,
    ) -> Result<Vec<Conversation>, StoreError>;
}
