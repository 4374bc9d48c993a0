//! Messages, each with its conversation's next `seq`, and the files sent as messages. Plain functions over a connection;
//! `mod.rs` runs them on the writer thread or a reader.

use async_trait::async_trait;
use porchlight_protocol::{AgentId, Author, ChatMessage, ConversationId, Seq};
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::store::model::{Appended, MessageKind, NewMessage, StoredAttachment};
use crate::store::{MessageStore, StoreError, now_ms};

use super::agents::is_participant;
use super::webhook_events::message_added;
use super::{Cached, SqliteStore};
use crate::store::chat_events::stored;
use crate::store::webhook_events::ChatFacts;

pub(super) const MESSAGE_COLUMNS: &str = "conversation_id, seq, author_kind, author_name, body, client_msg_id, created_at, attachment, sources";

pub(super) fn message_from_row(row: &Row<'_>) -> rusqlite::Result<ChatMessage> {
    let author: String = row.get(2)?;
    Ok(ChatMessage {
        conversation_id: row.get(0)?,
        seq: row.get::<_, i64>(1)?.try_into().unwrap_or(0),
        author: Author::parse(&author).unwrap_or(Author::System),
        author_name: row.get(3)?,
        body: row.get(4)?,
        client_msg_id: row.get(5)?,
        at: row.get(6)?,
        attachment: row
            .get::<_, Option<String>>(7)?
            .and_then(|json| serde_json::from_str(&json).ok()),
        sources: row
            .get::<_, Option<String>>(8)?
            .and_then(|json| serde_json::from_str(&json).ok())
            .unwrap_or_default(),
    })
}

/// Inserts a message with the conversation's next seq. Runs on the writer thread, so
/// the read-increment-insert cannot interleave with another writer: seqs have no gaps.
pub(super) fn insert_message(
    conn: &Connection,
    message: &NewMessage,
) -> Result<Appended, StoreError> {
    if let Some(original) = existing_message(conn, message)? {
        return Ok(Appended {
            message: original,
            duplicate: true,
        });
    }
    let state: Option<(ChatFacts, Option<AgentId>)> = conn
        .cached_row(
            "SELECT status, agent_id, site_id, profile_id, visitor_id, queued_at IS NOT NULL \
             FROM conversations WHERE id = ?1",
            [message.conversation_id],
            |row| {
                let chat = ChatFacts {
                    status: row.get(0)?,
                    site: row.get(2)?,
                    profile: row.get(3)?,
                    visitor: row.get(4)?,
                    live: row.get(5)?,
                };
                Ok((chat, row.get(1)?))
            },
        )
        .optional()?;
    let Some((chat, holder)) = state else {
        return Err(StoreError::NotFound);
    };
    let status = chat.status.as_str();
    if status == "ended" && message.kind != MessageKind::Event {
        return Err(StoreError::ConversationEnded);
    }
    if message.author == Author::Agent {
        let joined = holder == message.author_id
            || match message.author_id {
                Some(agent) => is_participant(conn, message.conversation_id, agent)?,
                None => false,
            };
        if status != "active" || !joined {
            return Err(StoreError::NotJoined);
        }
    }
    let now = now_ms();
    // The first agent text is the chat's first response, kept on the chat so reports
    // need not look for it among the messages.
    let response =
        (message.author == Author::Agent && message.kind == MessageKind::Text).then_some(now);
    let seq: i64 = conn.cached_row(
        "UPDATE conversations SET last_seq = last_seq + 1, \
         first_response_at = COALESCE(first_response_at, ?2) WHERE id = ?1 RETURNING last_seq",
        params![message.conversation_id, response],
        |row| row.get(0),
    )?;
    conn.cached_execute(
        "INSERT INTO messages (conversation_id, seq, author_kind, author_id, author_name, kind, \
         body, value, step_id, client_msg_id, created_at, attachment, sources) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        params![
            message.conversation_id,
            seq,
            message.author.as_str(),
            message.author_id,
            message.author_name,
            message.kind.as_str(),
            message.body,
            message.value,
            message.step_id,
            message.client_msg_id,
            now,
            message
                .attachment
                .as_ref()
                .and_then(|attachment| serde_json::to_string(attachment).ok()),
            (!message.sources.is_empty())
                .then(|| serde_json::to_string(&message.sources).ok())
                .flatten(),
        ],
    )?;
    let added = stored(message, seq, now);
    message_added(conn, &chat, &added)?;
    Ok(Appended {
        message: added,
        duplicate: false,
    })
}

/// The message this `client_msg_id` already names: in the conversation, or for a
/// visitor's message in any of that visitor's chats.
pub(super) fn existing_message(
    conn: &Connection,
    message: &NewMessage,
) -> rusqlite::Result<Option<ChatMessage>> {
    let Some(client_msg_id) = &message.client_msg_id else {
        return Ok(None);
    };
    let here = conn
        .cached_row(
            &format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages \
                 WHERE conversation_id = ?1 AND client_msg_id = ?2"
            ),
            params![message.conversation_id, client_msg_id],
            message_from_row,
        )
        .optional()?;
    if here.is_some() || message.author != Author::Visitor {
        return Ok(here);
    }
    conn.cached_row(
        "SELECT m.conversation_id, m.seq, m.author_kind, m.author_name, m.body, \
         m.client_msg_id, m.created_at, m.attachment, m.sources FROM conversations c \
         JOIN conversations mine ON mine.id = ?1 AND mine.visitor_id = c.visitor_id \
         JOIN messages m ON m.conversation_id = c.id AND m.client_msg_id = ?2 \
         WHERE m.author_kind = 'visitor' LIMIT 1",
        params![message.conversation_id, client_msg_id],
        message_from_row,
    )
    .optional()
}

pub(super) fn messages_after(
    conn: &Connection,
    id: ConversationId,
    after: Seq,
    limit: usize,
) -> Result<Vec<ChatMessage>, StoreError> {
    let mut statement = conn.prepare_cached(&format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages \
         WHERE conversation_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3"
    ))?;
    let after = i64::try_from(after).unwrap_or(i64::MAX);
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = statement.query_map(params![id, after, limit], message_from_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub(super) fn add_attachment(
    conn: &Connection,
    file: StoredAttachment,
    message: NewMessage,
) -> Result<Appended, StoreError> {
    let appended = insert_message(conn, &message)?;
    if !appended.duplicate {
        conn.cached_execute(
            "INSERT INTO attachments (conversation_id, storage_key, name, content_type, \
             size, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                file.conversation_id,
                file.storage_key,
                file.name,
                file.content_type,
                i64::try_from(file.size).unwrap_or(i64::MAX),
                now_ms()
            ],
        )?;
    }
    Ok(appended)
}

pub(super) fn attachment(
    conn: &Connection,
    storage_key: &str,
) -> Result<Option<StoredAttachment>, StoreError> {
    Ok(conn
        .cached_row(
            "SELECT conversation_id, storage_key, name, content_type, size \
             FROM attachments WHERE storage_key = ?1",
            [storage_key],
            |row| {
                Ok(StoredAttachment {
                    conversation_id: row.get(0)?,
                    storage_key: row.get(1)?,
                    name: row.get(2)?,
                    content_type: row.get(3)?,
                    size: row.get::<_, i64>(4)?.try_into().unwrap_or(0),
                })
            },
        )
        .optional()?)
}

#[async_trait]
impl MessageStore for SqliteStore {
    async fn append_message(&self, message: NewMessage) -> Result<Appended, StoreError> {
        self.write(move |conn| insert_message(conn, &message)).await
    }

    async fn messages_after(
        &self,
        id: ConversationId,
        after: Seq,
        limit: usize,
    ) -> Result<Vec<ChatMessage>, StoreError> {
        self.read(move |conn| messages_after(conn, id, after, limit))
            .await
    }

    async fn add_attachment(
        &self,
        file: StoredAttachment,
        _content: Option<Vec<u8>>,
        message: NewMessage,
    ) -> Result<Appended, StoreError> {
        self.write(move |conn| add_attachment(conn, file, message))
            .await
    }

    async fn attachment(&self, storage_key: &str) -> Result<Option<StoredAttachment>, StoreError> {
        let storage_key = storage_key.to_owned();
        self.read(move |conn| attachment(conn, &storage_key)).await
    }

    async fn last_seqs(
        &self,
        ids: Vec<ConversationId>,
    ) -> Result<Vec<(ConversationId, Seq)>, StoreError> {
        self.read(move |conn| {
            let mut statement =
                conn.prepare_cached("SELECT last_seq FROM conversations WHERE id = ?1")?;
            let mut found = Vec::with_capacity(ids.len());
            for id in ids {
                let last: Option<i64> = statement.query_row([id], |row| row.get(0)).optional()?;
                if let Some(last) = last {
                    found.push((id, last.try_into().unwrap_or(0)));
                }
            }
            Ok(found)
        })
        .await
    }

    fn keeps_files(&self) -> bool {
        false
    }

    async fn file_content(&self, _storage_key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(None)
    }
}
