//! What reports and the CSV exports read. Plain functions over a connection;
//! `mod.rs` runs them on the writer thread or a reader.

use async_trait::async_trait;
use porchlight_protocol::ConversationStatus;
use rusqlite::{Connection, params};

use crate::store::model::{ChatRecord, MessageRecord};
use crate::store::{ReportStore, StoreError};

use super::SqliteStore;

pub(super) fn chat_records(
    conn: &Connection,
    from: i64,
    to: i64,
) -> Result<Vec<ChatRecord>, StoreError> {
    let mut statement = conn.prepare_cached(
        "SELECT c.id, c.created_at, c.status, v.display_name, c.agent_name, c.teams, \
         c.queued_at, c.agent_joined_at, c.queue_ms, c.ended_at, c.ended_by, \
         (SELECT MIN(m.created_at) FROM messages m WHERE m.conversation_id = c.id \
          AND m.author_kind = 'agent' AND m.kind = 'text'), \
         c.last_seq, c.page_url, c.ticket_id, c.rating \
         FROM conversations c JOIN visitors v ON v.id = c.visitor_id \
         WHERE c.created_at >= ?1 AND c.created_at < ?2 ORDER BY c.created_at, c.id",
    )?;
    let rows = statement.query_map(params![from, to], |row| {
        let status: String = row.get(2)?;
        Ok(ChatRecord {
            id: row.get(0)?,
            created_at: row.get(1)?,
            status: ConversationStatus::parse(&status).unwrap_or(ConversationStatus::Ended),
            visitor_name: row.get(3)?,
            agent_name: row.get(4)?,
            teams: serde_json::from_str(&row.get::<_, String>(5)?).unwrap_or_default(),
            queued_at: row.get(6)?,
            agent_joined_at: row.get(7)?,
            queue_ms: row.get(8)?,
            ended_at: row.get(9)?,
            ended_by: row.get(10)?,
            first_response_at: row.get(11)?,
            messages: row.get(12)?,
            page_url: row.get(13)?,
            ticket_id: row.get(14)?,
            rating: row.get(15)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub(super) fn message_records(
    conn: &Connection,
    from: i64,
    to: i64,
) -> Result<Vec<MessageRecord>, StoreError> {
    let mut statement = conn.prepare_cached(
        "SELECT m.conversation_id, m.seq, m.created_at, m.author_kind, m.author_name, \
         m.kind, m.body FROM messages m \
         WHERE m.conversation_id IN \
             (SELECT id FROM conversations WHERE created_at >= ?1 AND created_at < ?2) \
         ORDER BY m.conversation_id, m.seq",
    )?;
    let rows = statement.query_map(params![from, to], |row| {
        Ok(MessageRecord {
            conversation_id: row.get(0)?,
            seq: row.get(1)?,
            created_at: row.get(2)?,
            author: row.get(3)?,
            author_name: row.get(4)?,
            kind: row.get(5)?,
            body: row.get(6)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

#[async_trait]
impl ReportStore for SqliteStore {
    async fn chat_records(&self, from: i64, to: i64) -> Result<Vec<ChatRecord>, StoreError> {
        self.read(move |conn| chat_records(conn, from, to)).await
    }

    async fn message_records(&self, from: i64, to: i64) -> Result<Vec<MessageRecord>, StoreError> {
        self.read(move |conn| message_records(conn, from, to)).await
    }
}
