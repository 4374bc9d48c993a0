//! What reports and the CSV exports read. Plain functions over a connection;
//! `mod.rs` runs them on the writer thread or a reader.

use async_trait::async_trait;
use porchlight_protocol::ConversationStatus;
use rusqlite::{Connection, params};

use crate::store::model::{ChatCursor, ChatRecord, MessageRecord};
use crate::store::{ConversationId, ReportStore, StoreError};

use super::SqliteStore;

/// A page of chats in start order. The index on `created_at` is entered at the cursor
/// (a row-value comparison alone would read the range from its start on every page).
pub(super) fn chat_records(
    conn: &Connection,
    from: i64,
    to: i64,
    after: Option<ChatCursor>,
    limit: usize,
) -> Result<Vec<ChatRecord>, StoreError> {
    let after = after.unwrap_or(ChatCursor {
        created_at: from,
        id: 0,
    });
    let mut statement = conn.prepare_cached(
        "SELECT c.id, c.created_at, c.status, v.display_name, c.agent_name, c.teams, \
         c.queued_at, c.agent_joined_at, c.queue_ms, c.ended_at, c.ended_by, \
         c.first_response_at, c.last_seq, c.page_url, c.ticket_id, c.rating \
         FROM conversations c JOIN visitors v ON v.id = c.visitor_id \
         WHERE c.created_at >= max(?1, ?3) AND c.created_at < ?2 \
         AND (c.created_at > ?3 OR c.id > ?4) \
         ORDER BY c.created_at, c.id LIMIT ?5",
    )?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let arguments = params![from, to, after.created_at, after.id, limit];
    let rows = statement.query_map(arguments, |row| {
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
    chats: &[ConversationId],
) -> Result<Vec<MessageRecord>, StoreError> {
    let mut statement = conn.prepare_cached(
        "SELECT conversation_id, seq, created_at, author_kind, author_name, kind, body \
         FROM messages WHERE conversation_id = ?1 ORDER BY seq",
    )?;
    let mut messages = Vec::new();
    for chat in chats {
        let rows = statement.query_map([chat], |row| {
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
        for row in rows {
            messages.push(row?);
        }
    }
    Ok(messages)
}

#[async_trait]
impl ReportStore for SqliteStore {
    async fn chat_records(
        &self,
        from: i64,
        to: i64,
        after: Option<ChatCursor>,
        limit: usize,
    ) -> Result<Vec<ChatRecord>, StoreError> {
        self.read(move |conn| chat_records(conn, from, to, after, limit))
            .await
    }

    async fn message_records(
        &self,
        chats: Vec<ConversationId>,
    ) -> Result<Vec<MessageRecord>, StoreError> {
        self.read(move |conn| message_records(conn, &chats)).await
    }
}
