//! Visitors' ratings of their chats, on PostgreSQL.

use async_trait::async_trait;
use porchlight_protocol::ConversationId;

use super::PgStore;
use super::conversations::load_conversation;
use crate::store::ratings::RatingStore;
use crate::store::{Conversation, StoreError, now_ms};

#[async_trait]
impl RatingStore for PgStore {
    async fn rate(
        &self,
        id: ConversationId,
        score: u8,
        comment: Option<String>,
    ) -> Result<Conversation, StoreError> {
        let client = self.client().await?;
        let rated = client
            .execute(
                "UPDATE conversations SET rating = $1, rating_comment = $2, rated_at = $3 \
                 WHERE id = $4 AND status = 'ended'",
                &[&i64::from(score), &comment, &now_ms(), &id],
            )
            .await?;
        match (rated, load_conversation(&client, id).await?) {
            (_, None) => Err(StoreError::NotFound),
            (0, Some(_)) => Err(StoreError::Conflict),
            (_, Some(conversation)) => Ok(conversation),
        }
    }
}
