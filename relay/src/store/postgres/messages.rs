//! Messages on PostgreSQL. A message's transaction first locks its conversation's row,
//! so appends to one chat take turns whichever node makes them: the next seq is read
//! and written under that lock and the lock is held until COMMIT, so seqs have no gaps
//! and commit in order. A resend is answered with the original, read under the same
//! lock.

use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use porchlight_protocol::{Author, ChatMessage, ConversationId, Seq};
use tokio_postgres::Row;

use super::PgStore;
use super::webhook_events::message_added;
use crate::store::chat_events::stored;
use crate::store::model::{Appended, MessageKind, NewMessage, StoredAttachment};
use crate::store::webhook_events::ChatFacts;
use crate::store::{MessageStore, StoreError, now_ms};

pub(super) const MESSAGE_COLUMNS: &str = "conversation_id, seq, author_kind, author_name, body, \
     client_msg_id, created_at, attachment, sources";

pub(super) fn message_from_row(row: &Row) -> ChatMessage {
    ChatMessage {
        conversation_id: row.get(0),
        seq: row.get::<_, i64>(1).try_into().unwrap_or(0),
        author: Author::parse(row.get(2)).unwrap_or(Author::System),
        author_name: row.get(3),
        body: row.get(4),
        client_msg_id: row.get(5),
        at: row.get(6),
        attachment: row
            .get::<_, Option<&str>>(7)
            .and_then(|json| serde_json::from_str(json).ok()),
        sources: row
            .get::<_, Option<&str>>(8)
            .and_then(|json| serde_json::from_str(json).ok())
            .unwrap_or_default(),
    }
}

/// Appends a message inside the caller's transaction (see the module's note).
pub(super) async fn insert_message(
    tx: &impl GenericClient,
    message: &NewMessage,
) -> Result<Appended, StoreError> {
    let id = message.conversation_id;
    let lock = tx
        .prepare_cached(
            "SELECT c.status, c.agent_id, c.site_id, c.profile_id, c.visitor_id, \
             c.queued_at IS NOT NULL, \
             EXISTS (SELECT 1 FROM participants WHERE conversation_id = $1 AND agent_id = $2), \
             EXISTS (SELECT 1 FROM webhook_endpoints WHERE site_id = c.site_id AND enabled = 1) \
             FROM conversations c WHERE c.id = $1 FOR UPDATE OF c",
        )
        .await?;
    let Some(row) = tx.query_opt(&lock, &[&id, &message.author_id]).await? else {
        return Err(StoreError::NotFound);
    };
    if let Some(original) = existing_message(tx, message).await? {
        return Ok(Appended {
            message: original,
            duplicate: true,
        });
    }
    let chat = ChatFacts {
        status: row.get(0),
        site: row.get(2),
        profile: row.get(3),
        visitor: row.get(4),
        live: row.get(5),
    };
    let holder: Option<i64> = row.get(1);
    let participant: bool = row.get(6);
    if chat.status == "ended" && message.kind != MessageKind::Event {
        return Err(StoreError::ConversationEnded);
    }
    if message.author == Author::Agent {
        let joined = message.author_id.is_some() && (holder == message.author_id || participant);
        if chat.status != "active" || !joined {
            return Err(StoreError::NotJoined);
        }
    }
    let now = now_ms();
    // The first agent text is the chat's first response, kept on the chat so reports
    // need not look for it among the messages.
    let response =
        (message.author == Author::Agent && message.kind == MessageKind::Text).then_some(now);
    let insert = tx
        .prepare_cached(
            "WITH next AS (UPDATE conversations SET last_seq = last_seq + 1, \
             first_response_at = COALESCE(first_response_at, $13) WHERE id = $1 \
             RETURNING last_seq) \
             INSERT INTO messages (conversation_id, seq, author_kind, author_id, author_name, \
             kind, body, value, step_id, client_msg_id, created_at, attachment, sources) \
             SELECT $1, last_seq, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12 FROM next \
             RETURNING seq",
        )
        .await?;
    let attachment = message
        .attachment
        .as_ref()
        .and_then(|attachment| serde_json::to_string(attachment).ok());
    let sources = (!message.sources.is_empty())
        .then(|| serde_json::to_string(&message.sources).ok())
        .flatten();
    let seq: i64 = tx
        .query_one(
            &insert,
            &[
                &id,
                &message.author.as_str(),
                &message.author_id,
                &message.author_name,
                &message.kind.as_str(),
                &message.body,
                &message.value,
                &message.step_id,
                &message.client_msg_id,
                &now,
                &attachment,
                &sources,
                &response,
            ],
        )
        .await?
        .get(0);
    let added = stored(message, seq, now);
    // Most sites have no webhook: then there is nothing to queue, and no round trip
    // to find that out.
    if row.get::<_, bool>(7) {
        message_added(tx, &chat, &added).await?;
    }
    Ok(Appended {
        message: added,
        duplicate: false,
    })
}

/// The message this `client_msg_id` already names: in the conversation, or for a
/// visitor's message in any of that visitor's chats.
pub(super) async fn existing_message(
    client: &impl GenericClient,
    message: &NewMessage,
) -> Result<Option<ChatMessage>, StoreError> {
    let Some(client_msg_id) = &message.client_msg_id else {
        return Ok(None);
    };
    let here = client
        .prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages \
             WHERE conversation_id = $1 AND client_msg_id = $2"
        ))
        .await?;
    let found = client
        .query_opt(&here, &[&message.conversation_id, client_msg_id])
        .await?;
    if found.is_some() || message.author != Author::Visitor {
        return Ok(found.as_ref().map(message_from_row));
    }
    let elsewhere = client
        .prepare_cached(
            "SELECT m.conversation_id, m.seq, m.author_kind, m.author_name, m.body, \
             m.client_msg_id, m.created_at, m.attachment, m.sources FROM conversations c \
             JOIN conversations mine ON mine.id = $1 AND mine.visitor_id = c.visitor_id \
             JOIN messages m ON m.conversation_id = c.id AND m.client_msg_id = $2 \
             WHERE m.author_kind = 'visitor' LIMIT 1",
        )
        .await?;
    let found = client
        .query_opt(&elsewhere, &[&message.conversation_id, client_msg_id])
        .await?;
    Ok(found.as_ref().map(message_from_row))
}

#[async_trait]
impl MessageStore for PgStore {
    async fn append_message(&self, message: NewMessage) -> Result<Appended, StoreError> {
        self.noting_queued(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            let appended = insert_message(&tx, &message).await?;
            tx.commit().await?;
            Ok(appended)
        })
        .await
    }

    async fn messages_after(
        &self,
        id: ConversationId,
        after: Seq,
        limit: usize,
    ) -> Result<Vec<ChatMessage>, StoreError> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached(&format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages \
                 WHERE conversation_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
            ))
            .await?;
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = client.query(&statement, &[&id, &after, &limit]).await?;
        Ok(rows.iter().map(message_from_row).collect())
    }

    async fn add_attachment(
        &self,
        file: StoredAttachment,
        content: Option<Vec<u8>>,
        message: NewMessage,
    ) -> Result<Appended, StoreError> {
        self.noting_queued(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            let appended = insert_message(&tx, &message).await?;
            if !appended.duplicate {
                tx.execute(
                    "INSERT INTO attachments (conversation_id, storage_key, name, content_type, \
                     size, created_at, content) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    &[
                        &file.conversation_id,
                        &file.storage_key,
                        &file.name,
                        &file.content_type,
                        &i64::try_from(file.size).unwrap_or(i64::MAX),
                        &now_ms(),
                        &content,
                    ],
                )
                .await?;
            }
            tx.commit().await?;
            Ok(appended)
        })
        .await
    }

    async fn attachment(&self, storage_key: &str) -> Result<Option<StoredAttachment>, StoreError> {
        let row = self
            .client()
            .await?
            .query_opt(
                "SELECT conversation_id, storage_key, name, content_type, size \
                 FROM attachments WHERE storage_key = $1",
                &[&storage_key],
            )
            .await?;
        Ok(row.map(|row| StoredAttachment {
            conversation_id: row.get(0),
            storage_key: row.get(1),
            name: row.get(2),
            content_type: row.get(3),
            size: row.get::<_, i64>(4).try_into().unwrap_or(0),
        }))
    }

    async fn last_seqs(
        &self,
        ids: Vec<ConversationId>,
    ) -> Result<Vec<(ConversationId, Seq)>, StoreError> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT id, last_seq FROM conversations WHERE id = ANY($1)",
                &[&ids],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|row| (row.get(0), row.get::<_, i64>(1).try_into().unwrap_or(0)))
            .collect())
    }

    fn keeps_files(&self) -> bool {
        true
    }

    async fn file_content(&self, storage_key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let row = self
            .client()
            .await?
            .query_opt(
                "SELECT content FROM attachments WHERE storage_key = $1",
                &[&storage_key],
            )
            .await?;
        Ok(row.and_then(|row| row.get(0)))
    }
}
