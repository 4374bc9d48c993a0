//! The email outbox on PostgreSQL: emails queued in the transaction of what they
//! announce, and taken by one node's sender at a time.

use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use porchlight_protocol::ConversationId;
use porchlight_protocol::api::email::OutboxLine;

use super::PgStore;
use crate::store::emails::{Attempt, DueEmail, EmailStore};
use crate::store::{StoreError, now_ms};

/// Queues the email that tells the team about a new ticket (composed when it is sent).
pub(super) async fn queue_ticket_email(
    tx: &impl GenericClient,
    ticket: i64,
    now: i64,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO emails (kind, ticket_id, next_at, created_at) \
         VALUES ('new_ticket', $1, $2, $2)",
        &[&ticket, &now],
    )
    .await?;
    Ok(())
}

/// Queues a ticket's acknowledgement to the visitor, written now.
pub(super) async fn queue_acknowledgement(
    tx: &impl GenericClient,
    ticket: i64,
    to: &str,
    body: &str,
    now: i64,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO emails (kind, ticket_id, to_addr, body, next_at, created_at) \
         VALUES ('acknowledgement', $1, $2, $3, $4, $4)",
        &[&ticket, &to, &body, &now],
    )
    .await?;
    Ok(())
}

/// How long a node that took due emails has them to itself: long enough to send a
/// batch; after it, emails a node took and never reported on (it died) fall due again.
const CLAIM: i64 = 120_000;

#[async_trait]
impl EmailStore for PgStore {
    async fn queue_transcript_email(
        &self,
        conversation: ConversationId,
        to: String,
    ) -> Result<(), StoreError> {
        let now = now_ms();
        self.client()
            .await?
            .execute(
                "INSERT INTO emails (kind, conversation_id, to_addr, next_at, created_at) \
                 VALUES ('transcript', $1, $2, $3, $3)",
                &[&conversation, &to, &now],
            )
            .await?;
        Ok(())
    }

    /// Takes the due emails for this node: each is pushed [`CLAIM`] into the future in
    /// the same statement, and rows another node is taking are skipped, so two nodes'
    /// senders never send one email twice.
    async fn due_emails(&self, now: i64, limit: usize) -> Result<Vec<DueEmail>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self
            .client()
            .await?
            .query(
                "UPDATE emails SET next_at = $1 + $3 WHERE id IN \
                 (SELECT id FROM emails WHERE status = 'pending' AND next_at <= $1 \
                  ORDER BY next_at, id LIMIT $2 FOR UPDATE SKIP LOCKED) \
                 RETURNING id, kind, ticket_id, conversation_id, to_addr, attempts, body, \
                 next_at - $3",
                &[&now, &limit, &CLAIM],
            )
            .await?;
        let mut due: Vec<(i64, DueEmail)> = rows
            .iter()
            .map(|row| {
                let email = DueEmail {
                    id: row.get(0),
                    kind: row.get(1),
                    ticket_id: row.get(2),
                    conversation_id: row.get(3),
                    to: row.get(4),
                    attempts: u32::try_from(row.get::<_, i64>(5)).unwrap_or(u32::MAX),
                    body: row.get(6),
                };
                (row.get(7), email)
            })
            .collect();
        due.sort_by_key(|(due_at, email)| (*due_at, email.id));
        Ok(due.into_iter().map(|(_, email)| email).collect())
    }

    async fn next_email_at(&self) -> Result<Option<i64>, StoreError> {
        let row = self
            .client()
            .await?
            .query_one(
                "SELECT MIN(next_at) FROM emails WHERE status = 'pending'",
                &[],
            )
            .await?;
        Ok(row.get(0))
    }

    async fn record_attempt(&self, id: i64, attempt: Attempt, now: i64) -> Result<(), StoreError> {
        let client = self.client().await?;
        match &attempt {
            Attempt::Sent { to, subject } => {
                client
                    .execute(
                        "UPDATE emails SET status = 'sent', to_addr = $1, subject = $2, \
                         sent_at = $3, attempts = attempts + 1, last_error = NULL WHERE id = $4",
                        &[to, subject, &now, &id],
                    )
                    .await?
            }
            Attempt::Failed { error, retry_at } => {
                client
                    .execute(
                        "UPDATE emails SET attempts = attempts + 1, last_error = $1, \
                         status = CASE WHEN $2::BIGINT IS NULL THEN 'failed' ELSE 'pending' END, \
                         next_at = COALESCE($2, next_at) WHERE id = $3",
                        &[error, retry_at, &id],
                    )
                    .await?
            }
            Attempt::Skipped(reason) => {
                client
                    .execute(
                        "UPDATE emails SET status = 'skipped', last_error = $1 WHERE id = $2",
                        &[reason, &id],
                    )
                    .await?
            }
        };
        Ok(())
    }

    async fn retry_emails(&self, now: i64) -> Result<usize, StoreError> {
        let retried = self
            .client()
            .await?
            .execute(
                "UPDATE emails SET status = 'pending', next_at = $1 \
                 WHERE status IN ('pending', 'failed')",
                &[&now],
            )
            .await?;
        Ok(usize::try_from(retried).unwrap_or(usize::MAX))
    }

    async fn outbox(&self, limit: usize) -> Result<Vec<OutboxLine>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self
            .client()
            .await?
            .query(
                "SELECT id, kind, status, to_addr, subject, attempts, last_error, created_at, \
                 sent_at FROM emails ORDER BY id DESC LIMIT $1",
                &[&limit],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|row| OutboxLine {
                id: row.get(0),
                kind: row.get(1),
                status: row.get(2),
                to: row.get(3),
                subject: row.get(4),
                attempts: u32::try_from(row.get::<_, i64>(5)).unwrap_or(u32::MAX),
                last_error: row.get(6),
                created_at: row.get(7),
                sent_at: row.get(8),
            })
            .collect())
    }
}
