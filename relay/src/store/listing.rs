//! Conversations and tickets listed for the REST API: one site's, filtered, newest
//! first, a page at a time (the cursor is the last id seen).

use async_trait::async_trait;
use porchlight_protocol::ConversationStatus;
use porchlight_protocol::api::tickets::TicketLine;

use super::{Conversation, SiteId, StoreError, VisitorId};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConversationFilter {
    pub site_id: SiteId,
    pub status: Option<ConversationStatus>,
    pub profile_id: Option<i64>,
    pub ticket_id: Option<i64>,
    /// One visitor's chats (the contact panel's other chats).
    pub visitor_id: Option<VisitorId>,
    /// Started at or after, and before (ms since the epoch).
    pub from: Option<i64>,
    pub to: Option<i64>,
    /// Only ids below this (the previous page's last).
    pub before_id: Option<i64>,
    pub limit: usize,
}

/// Which tickets: one (`only`), or a site's, by status, below a cursor.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TicketFilter {
    pub only: Option<i64>,
    pub site_id: Option<SiteId>,
    /// `open` or `closed`.
    pub status: Option<String>,
    pub before_id: Option<i64>,
    pub limit: usize,
}

#[async_trait]
pub trait ListingStore: Send + Sync {
    async fn list_conversations(
        &self,
        filter: ConversationFilter,
    ) -> Result<Vec<Conversation>, StoreError>;

    async fn list_tickets(&self, filter: TicketFilter) -> Result<Vec<TicketLine>, StoreError>;
}
