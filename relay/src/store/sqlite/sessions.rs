//! Console sessions: stored as token hashes, with an expiry. Plain functions over a connection;
//! `mod.rs` runs them on the writer thread or a reader.

use async_trait::async_trait;
use porchlight_protocol::AgentId;
use rusqlite::{Connection, OptionalExtension, params};

use crate::store::model::Agent;
use crate::store::{SessionStore, StoreError, now_ms};

use super::agents::{AGENT_COLUMNS, agent_from_row, end_sessions};
use super::{Cached, SqliteStore};

pub(super) fn create_session(
    conn: &Connection,
    agent_id: AgentId,
    token_hash: String,
    expires_at: i64,
) -> Result<(), StoreError> {
    let now = now_ms();
    conn.cached_execute("DELETE FROM agent_sessions WHERE expires_at < ?1", [now])?;
    conn.cached_execute(
        "INSERT INTO agent_sessions (token_hash, agent_id, created_at, expires_at) \
         VALUES (?1, ?2, ?3, ?4)",
        params![token_hash, agent_id, now, expires_at],
    )?;
    Ok(())
}

pub(super) fn agent_by_session(
    conn: &Connection,
    token_hash: &str,
    now: i64,
) -> Result<Option<Agent>, StoreError> {
    Ok(conn
        .cached_row(
            &format!(
                "SELECT {AGENT_COLUMNS} FROM agent_sessions s \
                 JOIN agents a ON a.id = s.agent_id \
                 WHERE s.token_hash = ?1 AND s.expires_at > ?2 AND a.active = 1"
            ),
            params![token_hash, now],
            agent_from_row,
        )
        .optional()?)
}

pub(super) fn delete_session(conn: &Connection, token_hash: &str) -> Result<(), StoreError> {
    conn.cached_execute(
        "DELETE FROM agent_sessions WHERE token_hash = ?1",
        [token_hash],
    )?;
    Ok(())
}

#[async_trait]
impl SessionStore for SqliteStore {
    async fn create_session(
        &self,
        agent_id: AgentId,
        token_hash: String,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        self.write(move |conn| create_session(conn, agent_id, token_hash, expires_at))
            .await
    }

    async fn agent_by_session(
        &self,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<Agent>, StoreError> {
        let token_hash = token_hash.to_owned();
        self.read(move |conn| agent_by_session(conn, &token_hash, now))
            .await
    }

    async fn end_sessions(&self, agent: AgentId) -> Result<(), StoreError> {
        self.write(move |conn| end_sessions(conn, agent)).await
    }

    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        let token_hash = token_hash.to_owned();
        self.write(move |conn| delete_session(conn, &token_hash))
            .await
    }
}
