//! Data rights and retention on PostgreSQL: one visitor's data read out or erased,
//! and ended chats deleted once their site's retention has passed. An erasure locks
//! the visitor's row first, so no node opens a chat for them meanwhile; the retention
//! passes of several nodes split the expired chats between them (`SKIP LOCKED`).

use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use porchlight_protocol::api::visitors::{Erasure, ExportedTicket, ExportedVisitor};
use porchlight_protocol::{ConversationId, Seq};

use super::PgStore;
use super::conversations::{CONVERSATION_COLUMNS, conversation_from_row};
use super::ticket_inbox::ticket_notes;
use super::visitors::known_from;
use super::webhook_events::forget_conversation;
use crate::store::erasure::{Erased, ErasureStore, Expired, VisitorRecords};
use crate::store::{MessageStore, StoreError, StoredAttachment, VisitorId, now_ms};

/// The subject an erased visitor's ticket keeps.
const ERASED_SUBJECT: &str = "(erased)";

const DAY_MS: i64 = 86_400_000;

async fn tickets_of(
    client: &impl GenericClient,
    visitor: VisitorId,
) -> Result<Vec<ExportedTicket>, StoreError> {
    let rows = client
        .query(
            "SELECT id, subject, status, created_at FROM tickets WHERE visitor_id = $1 \
             ORDER BY id",
            &[&visitor],
        )
        .await?;
    let mut tickets = Vec::with_capacity(rows.len());
    for row in rows {
        let id: i64 = row.get(0);
        tickets.push(ExportedTicket {
            id,
            subject: row.get(1),
            status: row.get(2),
            created_at: row.get(3),
            notes: ticket_notes(client, id).await?,
        });
    }
    Ok(tickets)
}

async fn files_of(
    client: &impl GenericClient,
    visitor: VisitorId,
) -> Result<Vec<StoredAttachment>, StoreError> {
    let rows = client
        .query(
            "SELECT a.conversation_id, a.storage_key, a.name, a.content_type, a.size \
             FROM attachments a JOIN conversations c ON c.id = a.conversation_id \
             WHERE c.visitor_id = $1 ORDER BY a.id",
            &[&visitor],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|row| StoredAttachment {
            conversation_id: row.get(0),
            storage_key: row.get(1),
            name: row.get(2),
            content_type: row.get(3),
            size: u64::try_from(row.get::<_, i64>(4)).unwrap_or(0),
        })
        .collect())
}

/// Deletes chats with their messages, notes, transcripts on tickets, emails, webhook
/// requests and files' rows; queues the files for removal. The tickets themselves stay.
async fn delete_conversations(
    tx: &impl GenericClient,
    ids: &[ConversationId],
) -> Result<Expired, StoreError> {
    let mut deleted = Expired::default();
    for &id in ids {
        let files = tx
            .query(
                "SELECT storage_key FROM attachments WHERE conversation_id = $1",
                &[&id],
            )
            .await?;
        for row in &files {
            let key: String = row.get(0);
            tx.execute(
                "INSERT INTO files_to_delete (storage_key) VALUES ($1) ON CONFLICT DO NOTHING",
                &[&key],
            )
            .await?;
            deleted.file_keys.push(key);
        }
        for table in [
            "attachments",
            "notes",
            "participants",
            "emails",
            "ticket_notes",
        ] {
            tx.execute(
                &format!("DELETE FROM {table} WHERE conversation_id = $1"),
                &[&id],
            )
            .await?;
        }
        deleted.messages += tx
            .execute("DELETE FROM messages WHERE conversation_id = $1", &[&id])
            .await?;
        forget_conversation(tx, id).await?;
        deleted.conversations += tx
            .execute("DELETE FROM conversations WHERE id = $1", &[&id])
            .await?;
    }
    Ok(deleted)
}

async fn erase_visitor(
    tx: &impl GenericClient,
    id: VisitorId,
    by: String,
) -> Result<Option<Erased>, StoreError> {
    let Some(site) = tx
        .query_opt(
            "SELECT s.id, s.key FROM visitors v JOIN sites s ON s.id = v.site_id \
             WHERE v.id = $1 FOR UPDATE OF v",
            &[&id],
        )
        .await?
    else {
        return Ok(None);
    };
    let (site_id, site_key): (i64, String) = (site.get(0), site.get(1));
    let chats: Vec<ConversationId> = tx
        .query(
            "SELECT id FROM conversations WHERE visitor_id = $1 ORDER BY id FOR UPDATE",
            &[&id],
        )
        .await?
        .iter()
        .map(|row| row.get(0))
        .collect();
    let open = tx
        .query_opt(
            "SELECT 1 FROM conversations WHERE visitor_id = $1 \
             AND status IN ('queued', 'active') LIMIT 1",
            &[&id],
        )
        .await?;
    if open.is_some() {
        return Err(StoreError::Conflict);
    }
    // Their words on their tickets (their chats' transcripts go with the chats), and a
    // ticket's emails, whose subject may hold their words.
    for table in ["ticket_notes", "emails"] {
        tx.execute(
            &format!(
                "DELETE FROM {table} WHERE ticket_id IN \
                 (SELECT id FROM tickets WHERE visitor_id = $1)"
            ),
            &[&id],
        )
        .await?;
    }
    let tickets = tx
        .execute(
            "UPDATE tickets SET subject = $1, visitor_id = NULL, requester_email = NULL \
             WHERE visitor_id = $2",
            &[&ERASED_SUBJECT, &id],
        )
        .await?;
    let deleted = delete_conversations(tx, &chats).await?;
    tx.execute("DELETE FROM ai_visitor_usage WHERE visitor_id = $1", &[&id])
        .await?;
    tx.execute("DELETE FROM visitors WHERE id = $1", &[&id])
        .await?;
    let record = Erasure {
        visitor_id: id,
        site: site_key,
        by,
        conversations: deleted.conversations,
        messages: deleted.messages,
        files: u64::try_from(deleted.file_keys.len()).unwrap_or(0),
        tickets,
        at: now_ms(),
    };
    let figures = [
        record.conversations,
        record.messages,
        record.files,
        record.tickets,
    ]
    .map(|figure| i64::try_from(figure).unwrap_or(i64::MAX));
    tx.execute(
        "INSERT INTO erasures (site_id, visitor_id, by_name, conversations, messages, files, \
         tickets, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            &site_id,
            &id,
            &record.by,
            &figures[0],
            &figures[1],
            &figures[2],
            &figures[3],
            &record.at,
        ],
    )
    .await?;
    Ok(Some(Erased {
        record,
        chats,
        file_keys: deleted.file_keys,
    }))
}

#[async_trait]
impl ErasureStore for PgStore {
    async fn visitor_records(&self, id: VisitorId) -> Result<Option<VisitorRecords>, StoreError> {
        let client = self.client().await?;
        let Some(row) = client
            .query_opt(
                "SELECT v.id, s.key, v.display_name, v.created_at, v.language, v.user_id, \
                 v.email, v.company, v.traits, v.context FROM visitors v \
                 JOIN sites s ON s.id = v.site_id WHERE v.id = $1",
                &[&id],
            )
            .await?
        else {
            return Ok(None);
        };
        let visitor = ExportedVisitor {
            id: row.get(0),
            site: row.get(1),
            name: row.get(2),
            created_at: row.get(3),
            languages: row.get(4),
            known: known_from(&row, 5),
        };
        let chats = client
            .query(
                &format!(
                    "SELECT {CONVERSATION_COLUMNS} FROM conversations c \
                     JOIN visitors v ON v.id = c.visitor_id WHERE c.visitor_id = $1 ORDER BY c.id"
                ),
                &[&id],
            )
            .await?;
        let mut conversations = Vec::with_capacity(chats.len());
        for chat in chats.iter().map(conversation_from_row) {
            let messages = self
                .messages_after(chat.id, Seq::default(), usize::MAX)
                .await?;
            conversations.push((chat, messages));
        }
        Ok(Some(VisitorRecords {
            visitor,
            conversations,
            tickets: tickets_of(&client, id).await?,
            files: files_of(&client, id).await?,
        }))
    }

    async fn erase_visitor(&self, id: VisitorId, by: String) -> Result<Option<Erased>, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let erased = erase_visitor(&tx, id, by).await?;
        tx.commit().await?;
        Ok(erased)
    }

    async fn erasures(&self) -> Result<Vec<Erasure>, StoreError> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT e.visitor_id, s.key, e.by_name, e.conversations, e.messages, e.files, \
                 e.tickets, e.created_at FROM erasures e JOIN sites s ON s.id = e.site_id \
                 ORDER BY e.id DESC",
                &[],
            )
            .await?;
        let figure = |row: &tokio_postgres::Row, column: usize| {
            u64::try_from(row.get::<_, i64>(column)).unwrap_or(0)
        };
        Ok(rows
            .iter()
            .map(|row| Erasure {
                visitor_id: row.get(0),
                site: row.get(1),
                by: row.get(2),
                conversations: figure(row, 3),
                messages: figure(row, 4),
                files: figure(row, 5),
                tickets: figure(row, 6),
                at: row.get(7),
            })
            .collect())
    }

    async fn delete_expired(&self, now: i64, limit: usize) -> Result<Expired, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let ids: Vec<ConversationId> = tx
            .query(
                "SELECT c.id FROM sites s JOIN conversations c \
                 ON c.site_id = s.id AND c.status = 'ended' \
                 AND c.ended_at < $1 - s.retention_days * $2 \
                 WHERE s.retention_days IS NOT NULL LIMIT $3 FOR UPDATE OF c SKIP LOCKED",
                &[&now, &DAY_MS, &limit],
            )
            .await?
            .iter()
            .map(|row| row.get(0))
            .collect();
        if ids.is_empty() {
            return Ok(Expired::default());
        }
        let deleted = delete_conversations(&tx, &ids).await?;
        tx.commit().await?;
        Ok(deleted)
    }

    async fn files_to_delete(&self) -> Result<Vec<String>, StoreError> {
        let rows = self
            .client()
            .await?
            .query("SELECT storage_key FROM files_to_delete", &[])
            .await?;
        Ok(rows.iter().map(|row| row.get(0)).collect())
    }

    async fn files_deleted(&self, keys: Vec<String>) -> Result<(), StoreError> {
        self.client()
            .await?
            .execute(
                "DELETE FROM files_to_delete WHERE storage_key = ANY($1)",
                &[&keys],
            )
            .await?;
        Ok(())
    }
}
