//! The email outbox. Plain functions over a connection; `mod.rs` runs them on the
//! writer thread or a reader.

use async_trait::async_trait;
use porchlight_protocol::api::email::OutboxLine;
use rusqlite::{Connection, params};

use porchlight_protocol::ConversationId;

use crate::store::emails::{Attempt, DueEmail, EmailStore};
use crate::store::{StoreError, now_ms};

use super::{Cached, SqliteStore};

/// Queues the email that tells the team about a new ticket (composed when it is sent).
pub(super) fn queue_ticket_email(conn: &Connection, ticket: i64, now: i64) -> rusqlite::Result<()> {
    conn.cached_execute(
        "INSERT INTO emails (kind, ticket_id, next_at, created_at) VALUES ('new_ticket', ?1, ?2, ?2)",
        params![ticket, now],
    )?;
    Ok(())
}

/// Queues a ticket's acknowledgement to the visitor, written now.
pub(super) fn queue_acknowledgement(
    conn: &Connection,
    ticket: i64,
    to: &str,
    body: &str,
    now: i64,
) -> rusqlite::Result<()> {
    conn.cached_execute(
        "INSERT INTO emails (kind, ticket_id, to_addr, body, next_at, created_at) \
         VALUES ('acknowledgement', ?1, ?2, ?3, ?4, ?4)",
        params![ticket, to, body, now],
    )?;
    Ok(())
}

fn queue_transcript_email(
    conn: &Connection,
    conversation: i64,
    to: &str,
) -> Result<(), StoreError> {
    let now = now_ms();
    conn.cached_execute(
        "INSERT INTO emails (kind, conversation_id, to_addr, next_at, created_at) \
         VALUES ('transcript', ?1, ?2, ?3, ?3)",
        params![conversation, to, now],
    )?;
    Ok(())
}

fn due_emails(conn: &Connection, now: i64, limit: usize) -> Result<Vec<DueEmail>, StoreError> {
    let mut statement = conn.prepare_cached(
        "SELECT id, kind, ticket_id, conversation_id, to_addr, attempts, body FROM emails \
         WHERE status = 'pending' AND next_at <= ?1 ORDER BY next_at, id LIMIT ?2",
    )?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = statement.query_map(params![now, limit], |row| {
        Ok(DueEmail {
            id: row.get(0)?,
            kind: row.get(1)?,
            ticket_id: row.get(2)?,
            conversation_id: row.get(3)?,
            to: row.get(4)?,
            attempts: row.get(5)?,
            body: row.get(6)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

fn next_email_at(conn: &Connection) -> Result<Option<i64>, StoreError> {
    Ok(conn.cached_row(
        "SELECT MIN(next_at) FROM emails WHERE status = 'pending'",
        [],
        |row| row.get(0),
    )?)
}

fn record_attempt(
    conn: &Connection,
    id: i64,
    attempt: &Attempt,
    now: i64,
) -> Result<(), StoreError> {
    match attempt {
        Attempt::Sent { to, subject } => conn.cached_execute(
            "UPDATE emails SET status = 'sent', to_addr = ?1, subject = ?2, sent_at = ?3, \
             attempts = attempts + 1, last_error = NULL WHERE id = ?4",
            params![to, subject, now, id],
        )?,
        Attempt::Failed { error, retry_at } => conn.cached_execute(
            "UPDATE emails SET attempts = attempts + 1, last_error = ?1, \
             status = CASE WHEN ?2 IS NULL THEN 'failed' ELSE 'pending' END, \
             next_at = COALESCE(?2, next_at) WHERE id = ?3",
            params![error, retry_at, id],
        )?,
        Attempt::Skipped(reason) => conn.cached_execute(
            "UPDATE emails SET status = 'skipped', last_error = ?1 WHERE id = ?2",
            params![reason, id],
        )?,
    };
    Ok(())
}

fn retry_emails(conn: &Connection, now: i64) -> Result<usize, StoreError> {
    Ok(conn.cached_execute(
        "UPDATE emails SET status = 'pending', next_at = ?1 \
         WHERE status IN ('pending', 'failed')",
        [now],
    )?)
}

fn outbox(conn: &Connection, limit: usize) -> Result<Vec<OutboxLine>, StoreError> {
    let mut statement = conn.prepare_cached(
        "SELECT id, kind, status, to_addr, subject, attempts, last_error, created_at, sent_at \
         FROM emails ORDER BY id DESC LIMIT ?1",
    )?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = statement.query_map([limit], |row| {
        Ok(OutboxLine {
            id: row.get(0)?,
            kind: row.get(1)?,
            status: row.get(2)?,
            to: row.get(3)?,
            subject: row.get(4)?,
            attempts: row.get(5)?,
            last_error: row.get(6)?,
            created_at: row.get(7)?,
            sent_at: row.get(8)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

#[async_trait]
impl EmailStore for SqliteStore {
    async fn queue_transcript_email(
        &self,
        conversation: ConversationId,
        to: String,
    ) -> Result<(), StoreError> {
        self.write(move |conn| queue_transcript_email(conn, conversation, &to))
            .await
    }

    async fn due_emails(&self, now: i64, limit: usize) -> Result<Vec<DueEmail>, StoreError> {
        self.read(move |conn| due_emails(conn, now, limit)).await
    }

    async fn next_email_at(&self) -> Result<Option<i64>, StoreError> {
        self.read(next_email_at).await
    }

    async fn record_attempt(&self, id: i64, attempt: Attempt, now: i64) -> Result<(), StoreError> {
        self.write(move |conn| record_attempt(conn, id, &attempt, now))
            .await
    }

    async fn retry_emails(&self, now: i64) -> Result<usize, StoreError> {
        self.write(move |conn| retry_emails(conn, now)).await
    }

    async fn outbox(&self, limit: usize) -> Result<Vec<OutboxLine>, StoreError> {
        self.read(move |conn| outbox(conn, limit)).await
    }
}
