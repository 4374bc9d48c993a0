//! The email outbox: rows queued in the same transaction as what they announce, taken
//! by the relay's sender when due, and marked sent, retried later, or given up.

use async_trait::async_trait;
use porchlight_protocol::ConversationId;
use porchlight_protocol::api::email::OutboxLine;

use super::StoreError;

/// An email due to be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueEmail {
    pub id: i64,
    /// `new_ticket`, `acknowledgement` or `transcript`.
    pub kind: String,
    pub ticket_id: Option<i64>,
    pub conversation_id: Option<ConversationId>,
    /// Set when queued (a transcript, an acknowledgement); a new ticket's goes to the
    /// team's address.
    pub to: Option<String>,
    pub attempts: u32,
    /// Written when queued (an acknowledgement).
    pub body: Option<String>,
}

/// What became of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    Sent {
        to: String,
        subject: String,
    },
    /// Try again at `retry_at`, or never (`None`: the email is `failed`).
    Failed {
        error: String,
        retry_at: Option<i64>,
    },
    /// Nothing to send it with or to; said why.
    Skipped(String),
}

#[async_trait]
pub trait EmailStore: Send + Sync {
    /// Queues the chat's transcript for its visitor at `to`.
    async fn queue_transcript_email(
        &self,
        conversation: ConversationId,
        to: String,
    ) -> Result<(), StoreError>;

    /// Pending emails whose time has come, oldest first. A store several relays share
    /// gives each to one relay's sender for a while (until it records the attempt, or
    /// long enough for a batch to be sent), so no email goes twice.
    async fn due_emails(&self, now: i64, limit: usize) -> Result<Vec<DueEmail>, StoreError>;

    /// When the next pending email is due, if any is.
    async fn next_email_at(&self) -> Result<Option<i64>, StoreError>;

    async fn record_attempt(&self, id: i64, attempt: Attempt, now: i64) -> Result<(), StoreError>;

    /// Makes every pending or failed email due at `now` (one given up gets one more
    /// try); says how many.
    async fn retry_emails(&self, now: i64) -> Result<usize, StoreError>;

    /// The latest `limit` emails, newest first.
    async fn outbox(&self, limit: usize) -> Result<Vec<OutboxLine>, StoreError>;
}
