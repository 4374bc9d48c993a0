//! What the AI agent has answered: per chat, per visitor per day, per site per day.
//! Plain functions over a connection; `mod.rs` runs them on the writer thread.

use async_trait::async_trait;
use porchlight_protocol::ConversationId;
use rusqlite::{Connection, params};

use crate::store::model::AiUsage;
use crate::store::{AiUsageStore, StoreError};

use super::{Cached, SqliteStore};

pub(super) fn record_ai_answer(
    conn: &Connection,
    id: ConversationId,
    day: i64,
    model_call: bool,
) -> Result<AiUsage, StoreError> {
    let (chat, visitor, site): (u32, i64, i64) = conn.cached_row(
        "UPDATE conversations SET ai_answers = ai_answers + 1 WHERE id = ?1 \
         RETURNING ai_answers, visitor_id, site_id",
        [id],
        |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
    )?;
    let visitor_today: u32 = conn.cached_row(
        "INSERT INTO ai_visitor_usage (visitor_id, day, answers) VALUES (?1, ?2, 1) \
         ON CONFLICT (visitor_id, day) DO UPDATE SET answers = answers + 1 RETURNING answers",
        params![visitor, day],
        |row| row.get(0),
    )?;
    let site_today: u32 = conn.cached_row(
        "INSERT INTO ai_site_usage (site_id, day, model_calls) VALUES (?1, ?2, ?3) \
         ON CONFLICT (site_id, day) DO UPDATE SET model_calls = model_calls + ?3 \
         RETURNING model_calls",
        params![site, day, i64::from(model_call)],
        |row| row.get(0),
    )?;
    Ok(AiUsage {
        chat,
        visitor_today,
        site_today,
    })
}

pub(super) fn record_ai_failure(conn: &Connection, id: ConversationId) -> Result<u32, StoreError> {
    Ok(conn.cached_row(
        "UPDATE conversations SET ai_failed = ai_failed + 1 WHERE id = ?1 RETURNING ai_failed",
        [id],
        |row| row.get(0),
    )?)
}

#[async_trait]
impl AiUsageStore for SqliteStore {
    async fn record_ai_answer(
        &self,
        id: ConversationId,
        day: i64,
        model_call: bool,
    ) -> Result<AiUsage, StoreError> {
        self.write(move |conn| record_ai_answer(conn, id, day, model_call))
            .await
    }

    async fn record_ai_failure(&self, id: ConversationId) -> Result<u32, StoreError> {
        self.write(move |conn| record_ai_failure(conn, id)).await
    }
}
