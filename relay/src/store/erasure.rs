//! Data rights and retention: one visitor's data read out or erased, and ended chats
//! deleted once their site's retention has passed. Files are removed after the rows'
//! COMMIT, through a list kept in the store, so a crash between the two leaves no file
//! behind for ever (the next sweep removes it).

use async_trait::async_trait;
use porchlight_protocol::api::visitors::{Erasure, ExportedTicket, ExportedVisitor};
use porchlight_protocol::{ChatMessage, ConversationId};

use super::{Conversation, StoreError, StoredAttachment, VisitorId};

/// Everything stored about one visitor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitorRecords {
    pub visitor: ExportedVisitor,
    pub conversations: Vec<(Conversation, Vec<ChatMessage>)>,
    pub tickets: Vec<ExportedTicket>,
    pub files: Vec<StoredAttachment>,
}

/// What an erasure removed; its files are queued for removal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erased {
    pub record: Erasure,
    /// The chats deleted.
    pub chats: Vec<ConversationId>,
    pub file_keys: Vec<String>,
}

/// What a retention pass deleted; its files are queued for removal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expired {
    pub conversations: u64,
    pub messages: u64,
    pub file_keys: Vec<String>,
}

#[async_trait]
pub trait ErasureStore: Send + Sync {
    /// `None` when there is no such visitor.
    async fn visitor_records(&self, id: VisitorId) -> Result<Option<VisitorRecords>, StoreError>;

    /// Deletes the visitor, their chats (messages, notes, files, AI state) and the
    /// personal fields of their tickets, and records that `by` did it. `None` when there
    /// is no such visitor; `Conflict` while one of their chats waits for or is with an
    /// agent (a chat still with the bot goes with the rest).
    async fn erase_visitor(&self, id: VisitorId, by: String) -> Result<Option<Erased>, StoreError>;

    /// Every erasure done, newest first.
    async fn erasures(&self) -> Result<Vec<Erasure>, StoreError>;

    /// Deletes up to `limit` ended chats whose site keeps them fewer days than they have
    /// been ended at `now`.
    async fn delete_expired(&self, now: i64, limit: usize) -> Result<Expired, StoreError>;

    /// Files whose rows are gone but which may still be on disk.
    async fn files_to_delete(&self) -> Result<Vec<String>, StoreError>;

    /// Forgets files once they are removed from disk.
    async fn files_deleted(&self, keys: Vec<String>) -> Result<(), StoreError>;
}
