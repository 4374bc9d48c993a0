//! Private notes on PostgreSQL: once per `client_msg_id` in a chat, whichever node
//! stores it first.

use async_trait::async_trait;
use porchlight_protocol::{AgentInfo, ConversationId, Note};
use tokio_postgres::Row;

use super::PgStore;
use crate::store::notes::{NewNote, NoteStore};
use crate::store::{StoreError, now_ms};

const COLUMNS: &str = "id, conversation_id, client_msg_id, agent_id, agent_name, body, created_at";

fn note(row: &Row) -> Note {
    Note {
        id: row.get(0),
        conversation_id: row.get(1),
        client_msg_id: row.get(2),
        author: AgentInfo {
            id: row.get::<_, Option<i64>>(3).unwrap_or_default(),
            name: row.get(4),
        },
        body: row.get(5),
        at: row.get(6),
    }
}

#[async_trait]
impl NoteStore for PgStore {
    async fn add_note(&self, new: NewNote) -> Result<(Note, bool), StoreError> {
        let client = self.client().await?;
        let chat = client
            .query_opt(
                "SELECT 1 FROM conversations WHERE id = $1",
                &[&new.conversation_id],
            )
            .await?;
        if chat.is_none() {
            return Err(StoreError::NotFound);
        }
        let inserted = client
            .execute(
                "INSERT INTO notes (conversation_id, client_msg_id, agent_id, agent_name, body, \
                 created_at) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (conversation_id, client_msg_id) DO NOTHING",
                &[
                    &new.conversation_id,
                    &new.client_msg_id,
                    &new.author.id,
                    &new.author.name,
                    &new.body,
                    &now_ms(),
                ],
            )
            .await?;
        let stored = client
            .query_one(
                &format!(
                    "SELECT {COLUMNS} FROM notes WHERE conversation_id = $1 AND client_msg_id = $2"
                ),
                &[&new.conversation_id, &new.client_msg_id],
            )
            .await?;
        Ok((note(&stored), inserted == 1))
    }

    async fn notes(&self, id: ConversationId) -> Result<Vec<Note>, StoreError> {
        let rows = self
            .client()
            .await?
            .query(
                &format!("SELECT {COLUMNS} FROM notes WHERE conversation_id = $1 ORDER BY id"),
                &[&id],
            )
            .await?;
        Ok(rows.iter().map(note).collect())
    }
}
