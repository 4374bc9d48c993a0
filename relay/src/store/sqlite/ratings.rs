//! Ratings. Plain functions over a connection; `mod.rs` runs them on the writer thread.

use async_trait::async_trait;
use porchlight_protocol::ConversationId;
use rusqlite::{Connection, params};

use crate::store::ratings::RatingStore;
use crate::store::{Conversation, StoreError, now_ms};

use super::conversations::load_conversation;
use super::{Cached, SqliteStore};

pub(super) fn rate(
    conn: &Connection,
    id: ConversationId,
    score: u8,
    comment: Option<String>,
) -> Result<Conversation, StoreError> {
    let rated = conn.cached_execute(
        "UPDATE conversations SET rating = ?1, rating_comment = ?2, rated_at = ?3 \
         WHERE id = ?4 AND status = 'ended'",
        params![score, comment, now_ms(), id],
    )?;
    match (rated, load_conversation(conn, id)?) {
        (_, None) => Err(StoreError::NotFound),
        (0, Some(_)) => Err(StoreError::Conflict),
        (_, Some(conversation)) => Ok(conversation),
    }
}

#[async_trait]
impl RatingStore for SqliteStore {
    async fn rate(
        &self,
        id: ConversationId,
        score: u8,
        comment: Option<String>,
    ) -> Result<Conversation, StoreError> {
        self.write(move |conn| rate(conn, id, score, comment)).await
    }
}
