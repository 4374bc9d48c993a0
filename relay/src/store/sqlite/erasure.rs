//! Data rights and retention. Plain functions over a connection; `mod.rs` runs them on
//! the writer thread or a reader.

use async_trait::async_trait;
use porchlight_protocol::api::visitors::{Erasure, ExportedTicket, ExportedVisitor};
use porchlight_protocol::{ConversationId, Seq};
use rusqlite::{Connection, OptionalExtension, params};

use crate::store::erasure::{Erased, ErasureStore, Expired, VisitorRecords};
use crate::store::{StoreError, StoredAttachment, VisitorId, now_ms};

use super::conversations::{CONVERSATION_COLUMNS, conversation_from_row};
use super::messages::messages_after;
use super::tickets::ticket_notes;
use super::webhook_events::forget_conversation;
use super::{Cached, SqliteStore};

/// The subject an erased visitor's ticket keeps.
const ERASED_SUBJECT: &str = "(erased)";

fn visitor_records(conn: &Connection, id: VisitorId) -> Result<Option<VisitorRecords>, StoreError> {
    let visitor = conn
        .cached_row(
            "SELECT v.id, s.key, v.display_name, v.created_at, v.language, v.user_id, v.email, \
             v.company, v.traits, v.context FROM visitors v \
             JOIN sites s ON s.id = v.site_id WHERE v.id = ?1",
            [id],
            |row| {
                Ok(ExportedVisitor {
                    id: row.get(0)?,
                    site: row.get(1)?,
                    name: row.get(2)?,
                    created_at: row.get(3)?,
                    languages: row.get(4)?,
                    known: super::visitors::known_from(row, 5)?,
                })
            },
        )
        .optional()?;
    let Some(visitor) = visitor else {
        return Ok(None);
    };
    let mut statement = conn.prepare_cached(&format!(
        "SELECT {CONVERSATION_COLUMNS} FROM conversations c \
         JOIN visitors v ON v.id = c.visitor_id WHERE c.visitor_id = ?1 ORDER BY c.id"
    ))?;
    let chats = statement
        .query_map([id], conversation_from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut conversations = Vec::with_capacity(chats.len());
    for chat in chats {
        let messages = messages_after(conn, chat.id, Seq::default(), usize::MAX)?;
        conversations.push((chat, messages));
    }
    Ok(Some(VisitorRecords {
        visitor,
        conversations,
        tickets: tickets_of(conn, id)?,
        files: files_of(conn, id)?,
    }))
}

fn tickets_of(conn: &Connection, visitor: VisitorId) -> Result<Vec<ExportedTicket>, StoreError> {
    let mut statement = conn.prepare_cached(
        "SELECT id, subject, status, created_at FROM tickets WHERE visitor_id = ?1 ORDER BY id",
    )?;
    let mut tickets = statement
        .query_map([visitor], |row| {
            Ok(ExportedTicket {
                id: row.get(0)?,
                subject: row.get(1)?,
                status: row.get(2)?,
                created_at: row.get(3)?,
                notes: Vec::new(),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for ticket in &mut tickets {
        ticket.notes = ticket_notes(conn, ticket.id)?;
    }
    Ok(tickets)
}

fn files_of(conn: &Connection, visitor: VisitorId) -> Result<Vec<StoredAttachment>, StoreError> {
    let mut statement = conn.prepare_cached(
        "SELECT a.conversation_id, a.storage_key, a.name, a.content_type, a.size \
         FROM attachments a JOIN conversations c ON c.id = a.conversation_id \
         WHERE c.visitor_id = ?1 ORDER BY a.id",
    )?;
    let files = statement
        .query_map([visitor], |row| {
            Ok(StoredAttachment {
                conversation_id: row.get(0)?,
                storage_key: row.get(1)?,
                name: row.get(2)?,
                content_type: row.get(3)?,
                size: row
                    .get::<_, i64>(4)
                    .map(|size| u64::try_from(size).unwrap_or(0))?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(files)
}

/// Deletes chats with their messages, notes, transcripts on tickets, emails, webhook
/// requests and files' rows; queues the files for removal. The tickets themselves stay.
fn delete_conversations(conn: &Connection, ids: &[ConversationId]) -> Result<Expired, StoreError> {
    let mut deleted = Expired::default();
    let mut keys =
        conn.prepare_cached("SELECT storage_key FROM attachments WHERE conversation_id = ?1")?;
    for &id in ids {
        let files = keys
            .query_map([id], |row| row.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        for key in &files {
            conn.cached_execute(
                "INSERT OR IGNORE INTO files_to_delete (storage_key) VALUES (?1)",
                [key],
            )?;
        }
        deleted.file_keys.extend(files);
        conn.cached_execute("DELETE FROM attachments WHERE conversation_id = ?1", [id])?;
        let messages =
            conn.cached_execute("DELETE FROM messages WHERE conversation_id = ?1", [id])?;
        deleted.messages += u64::try_from(messages).unwrap_or(0);
        conn.cached_execute("DELETE FROM notes WHERE conversation_id = ?1", [id])?;
        conn.cached_execute("DELETE FROM participants WHERE conversation_id = ?1", [id])?;
        // A transcript email names the visitor's address.
        conn.cached_execute("DELETE FROM emails WHERE conversation_id = ?1", [id])?;
        // The chat's transcript on its ticket is the chat's words too; the ticket stays.
        conn.cached_execute("DELETE FROM ticket_notes WHERE conversation_id = ?1", [id])?;
        // Webhook requests carried its words too.
        forget_conversation(conn, id)?;
        deleted.conversations +=
            u64::try_from(conn.cached_execute("DELETE FROM conversations WHERE id = ?1", [id])?)
                .unwrap_or(0);
    }
    Ok(deleted)
}

fn erase_visitor(
    conn: &Connection,
    id: VisitorId,
    by: String,
) -> Result<Option<Erased>, StoreError> {
    let site = conn
        .cached_row(
            "SELECT s.id, s.key FROM visitors v JOIN sites s ON s.id = v.site_id WHERE v.id = ?1",
            [id],
            |row| Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?)),
        )
        .optional()?;
    let Some((site_id, site_key)) = site else {
        return Ok(None);
    };
    let open: bool = conn.cached_row(
        "SELECT EXISTS (SELECT 1 FROM conversations WHERE visitor_id = ?1 \
         AND status IN ('queued', 'active'))",
        [id],
        |row| row.get(0),
    )?;
    if open {
        return Err(StoreError::Conflict);
    }
    let mut statement =
        conn.prepare_cached("SELECT id FROM conversations WHERE visitor_id = ?1")?;
    let chats = statement
        .query_map([id], |row| row.get::<_, ConversationId>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    // Their words on their tickets (their chats' transcripts go with the chats).
    conn.cached_execute(
        "DELETE FROM ticket_notes WHERE ticket_id IN (SELECT id FROM tickets WHERE visitor_id = ?1)",
        [id],
    )?;
    // A ticket's email carries its subject, which may hold their words.
    conn.cached_execute(
        "DELETE FROM emails WHERE ticket_id IN (SELECT id FROM tickets WHERE visitor_id = ?1)",
        [id],
    )?;
    let tickets = conn.cached_execute(
        "UPDATE tickets SET subject = ?1, visitor_id = NULL, requester_email = NULL \
         WHERE visitor_id = ?2",
        params![ERASED_SUBJECT, id],
    )?;
    let deleted = delete_conversations(conn, &chats)?;
    conn.cached_execute("DELETE FROM ai_visitor_usage WHERE visitor_id = ?1", [id])?;
    conn.cached_execute("DELETE FROM visitors WHERE id = ?1", [id])?;
    let record = Erasure {
        visitor_id: id,
        site: site_key,
        by,
        conversations: deleted.conversations,
        messages: deleted.messages,
        files: u64::try_from(deleted.file_keys.len()).unwrap_or(0),
        tickets: u64::try_from(tickets).unwrap_or(0),
        at: now_ms(),
    };
    conn.cached_execute(
        "INSERT INTO erasures (site_id, visitor_id, by_name, conversations, messages, files, \
         tickets, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            site_id,
            id,
            record.by,
            record.conversations,
            record.messages,
            record.files,
            record.tickets,
            record.at
        ],
    )?;
    Ok(Some(Erased {
        record,
        chats,
        file_keys: deleted.file_keys,
    }))
}

fn erasures(conn: &Connection) -> Result<Vec<Erasure>, StoreError> {
    let mut statement = conn.prepare_cached(
        "SELECT e.visitor_id, s.key, e.by_name, e.conversations, e.messages, e.files, \
         e.tickets, e.created_at FROM erasures e JOIN sites s ON s.id = e.site_id \
         ORDER BY e.id DESC",
    )?;
    let rows = statement.query_map([], |row| {
        Ok(Erasure {
            visitor_id: row.get(0)?,
            site: row.get(1)?,
            by: row.get(2)?,
            conversations: row.get(3)?,
            messages: row.get(4)?,
            files: row.get(5)?,
            tickets: row.get(6)?,
            at: row.get(7)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

const DAY_MS: i64 = 86_400_000;

fn expired(conn: &Connection, now: i64, limit: usize) -> Result<Vec<ConversationId>, StoreError> {
    let mut statement = conn.prepare_cached(
        "SELECT c.id FROM sites s JOIN conversations c \
         ON c.site_id = s.id AND c.status = 'ended' AND c.ended_at < ?1 - s.retention_days * ?2 \
         WHERE s.retention_days IS NOT NULL LIMIT ?3",
    )?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let ids = statement
        .query_map(params![now, DAY_MS, limit], |row| {
            row.get::<_, ConversationId>(0)
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(ids)
}

fn files_to_delete(conn: &Connection) -> Result<Vec<String>, StoreError> {
    let mut statement = conn.prepare_cached("SELECT storage_key FROM files_to_delete")?;
    let rows = statement.query_map([], |row| row.get(0))?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

fn files_deleted(conn: &Connection, keys: &[String]) -> Result<(), StoreError> {
    for key in keys {
        conn.cached_execute("DELETE FROM files_to_delete WHERE storage_key = ?1", [key])?;
    }
    Ok(())
}

#[async_trait]
impl ErasureStore for SqliteStore {
    async fn visitor_records(&self, id: VisitorId) -> Result<Option<VisitorRecords>, StoreError> {
        self.read(move |conn| visitor_records(conn, id)).await
    }

    async fn erase_visitor(&self, id: VisitorId, by: String) -> Result<Option<Erased>, StoreError> {
        self.write(move |conn| erase_visitor(conn, id, by)).await
    }

    async fn erasures(&self) -> Result<Vec<Erasure>, StoreError> {
        self.read(erasures).await
    }

    async fn delete_expired(&self, now: i64, limit: usize) -> Result<Expired, StoreError> {
        // Looked up on a reader first: most hourly passes find nothing, and then take
        // no write transaction at all.
        if self
            .read(move |conn| expired(conn, now, limit))
            .await?
            .is_empty()
        {
            return Ok(Expired::default());
        }
        self.write(move |conn| {
            let ids = expired(conn, now, limit)?;
            delete_conversations(conn, &ids)
        })
        .await
    }

    async fn files_to_delete(&self) -> Result<Vec<String>, StoreError> {
        self.read(files_to_delete).await
    }

    async fn files_deleted(&self, keys: Vec<String>) -> Result<(), StoreError> {
        self.write(move |conn| files_deleted(conn, &keys)).await
    }
}
