//! Private notes. Plain functions over a connection; `mod.rs` runs them on the writer
//! thread or a reader.

use async_trait::async_trait;
use porchlight_protocol::{AgentInfo, ConversationId, Note};
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::store::notes::{NewNote, NoteStore};
use crate::store::{StoreError, now_ms};

use super::{Cached, SqliteStore};

const COLUMNS: &str = "id, conversation_id, client_msg_id, agent_id, agent_name, body, created_at";

fn note(row: &Row<'_>) -> rusqlite::Result<Note> {
    Ok(Note {
        id: row.get(0)?,
        conversation_id: row.get(1)?,
        client_msg_id: row.get(2)?,
        author: AgentInfo {
            id: row.get::<_, Option<i64>>(3)?.unwrap_or_default(),
            name: row.get(4)?,
        },
        body: row.get(5)?,
        at: row.get(6)?,
    })
}

pub(super) fn add_note(conn: &Connection, new: NewNote) -> Result<(Note, bool), StoreError> {
    let exists = conn
        .cached_row(
            "SELECT 1 FROM conversations WHERE id = ?1",
            [new.conversation_id],
            |_| Ok(()),
        )
        .optional()?;
    if exists.is_none() {
        return Err(StoreError::NotFound);
    }
    let inserted = conn.cached_execute(
        "INSERT INTO notes (conversation_id, client_msg_id, agent_id, agent_name, body, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (conversation_id, client_msg_id) DO NOTHING",
        params![
            new.conversation_id,
            new.client_msg_id,
            new.author.id,
            new.author.name,
            new.body,
            now_ms()
        ],
    )?;
    let stored = conn.cached_row(
        &format!("SELECT {COLUMNS} FROM notes WHERE conversation_id = ?1 AND client_msg_id = ?2"),
        params![new.conversation_id, new.client_msg_id],
        note,
    )?;
    Ok((stored, inserted == 1))
}

pub(super) fn notes(conn: &Connection, id: ConversationId) -> Result<Vec<Note>, StoreError> {
    let mut statement = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM notes WHERE conversation_id = ?1 ORDER BY id"
    ))?;
    let rows = statement.query_map([id], note)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

#[async_trait]
impl NoteStore for SqliteStore {
    async fn add_note(&self, note: NewNote) -> Result<(Note, bool), StoreError> {
        self.write(move |conn| add_note(conn, note)).await
    }

    async fn notes(&self, id: ConversationId) -> Result<Vec<Note>, StoreError> {
        self.read(move |conn| notes(conn, id)).await
    }
}
