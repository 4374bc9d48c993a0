//! Console sessions on PostgreSQL: stored as token hashes, with an expiry.

use async_trait::async_trait;
use porchlight_protocol::AgentId;

use super::PgStore;
use super::agents::{AGENT_COLUMNS, agent_from_row};
use crate::store::model::Agent;
use crate::store::{SessionStore, StoreError, now_ms};

#[async_trait]
impl SessionStore for PgStore {
    async fn create_session(
        &self,
        agent_id: AgentId,
        token_hash: String,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let now = now_ms();
        let client = self.client().await?;
        client
            .execute("DELETE FROM agent_sessions WHERE expires_at < $1", &[&now])
            .await?;
        client
            .execute(
                "INSERT INTO agent_sessions (token_hash, agent_id, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4)",
                &[&token_hash, &agent_id, &now, &expires_at],
            )
            .await?;
        Ok(())
    }

    async fn agent_by_session(
        &self,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<Agent>, StoreError> {
        let row = self
            .client()
            .await?
            .query_opt(
                &format!(
                    "SELECT {AGENT_COLUMNS} FROM agent_sessions s \
                     JOIN agents a ON a.id = s.agent_id \
                     WHERE s.token_hash = $1 AND s.expires_at > $2 AND a.active = 1"
                ),
                &[&token_hash, &now],
            )
            .await?;
        Ok(row.as_ref().map(agent_from_row))
    }

    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        self.client()
            .await?
            .execute(
                "DELETE FROM agent_sessions WHERE token_hash = $1",
                &[&token_hash],
            )
            .await?;
        Ok(())
    }

    async fn end_sessions(&self, agent: AgentId) -> Result<(), StoreError> {
        self.client()
            .await?
            .execute("DELETE FROM agent_sessions WHERE agent_id = $1", &[&agent])
            .await?;
        Ok(())
    }
}
