//! What the AI agent has answered, on PostgreSQL: per chat, per visitor per day, per
//! site per day, counted in one transaction whichever node answers.

use async_trait::async_trait;
use porchlight_protocol::ConversationId;

use super::PgStore;
use crate::store::model::AiUsage;
use crate::store::{AiUsageStore, StoreError};

/// A count as the model holds it (a count past `u32` stays at its most).
fn count(value: i64) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

#[async_trait]
impl AiUsageStore for PgStore {
    async fn record_ai_answer(
        &self,
        id: ConversationId,
        day: i64,
        model_call: bool,
    ) -> Result<AiUsage, StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await?;
        let chat = transaction
            .query_opt(
                "UPDATE conversations SET ai_answers = ai_answers + 1 WHERE id = $1 \
                 RETURNING ai_answers, visitor_id, site_id",
                &[&id],
            )
            .await?
            .ok_or(StoreError::NotFound)?;
        let (answers, visitor, site): (i64, i64, i64) = (chat.get(0), chat.get(1), chat.get(2));
        let visitor_today: i64 = transaction
            .query_one(
                "INSERT INTO ai_visitor_usage (visitor_id, day, answers) VALUES ($1, $2, 1) \
                 ON CONFLICT (visitor_id, day) \
                 DO UPDATE SET answers = ai_visitor_usage.answers + 1 RETURNING answers",
                &[&visitor, &day],
            )
            .await?
            .get(0);
        let calls = i64::from(model_call);
        let site_today: i64 = transaction
            .query_one(
                "INSERT INTO ai_site_usage (site_id, day, model_calls) VALUES ($1, $2, $3) \
                 ON CONFLICT (site_id, day) \
                 DO UPDATE SET model_calls = ai_site_usage.model_calls + $3 RETURNING model_calls",
                &[&site, &day, &calls],
            )
            .await?
            .get(0);
        transaction.commit().await?;
        Ok(AiUsage {
            chat: count(answers),
            visitor_today: count(visitor_today),
            site_today: count(site_today),
        })
    }

    async fn record_ai_failure(&self, id: ConversationId) -> Result<u32, StoreError> {
        let row = self
            .client()
            .await?
            .query_opt(
                "UPDATE conversations SET ai_failed = ai_failed + 1 WHERE id = $1 \
                 RETURNING ai_failed",
                &[&id],
            )
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(count(row.get(0)))
    }
}
