//! Conversations and tickets listed for the REST API, on PostgreSQL: one site's,
//! filtered, newest first, a page at a time.

use async_trait::async_trait;
use porchlight_protocol::api::tickets::TicketLine;
use tokio_postgres::types::ToSql;

use super::PgStore;
use super::conversations::{CONVERSATION_COLUMNS, conversation_from_row};
use super::ticket_inbox::ticket_lines;
use crate::store::listing::{ConversationFilter, ListingStore, TicketFilter};
use crate::store::{Conversation, StoreError};

#[async_trait]
impl ListingStore for PgStore {
    async fn list_conversations(
        &self,
        filter: ConversationFilter,
    ) -> Result<Vec<Conversation>, StoreError> {
        let status = filter.status.map(|status| status.as_str());
        let limit = i64::try_from(filter.limit).unwrap_or(i64::MAX);
        let values: [&(dyn ToSql + Sync); 9] = [
            &filter.site_id,
            &status,
            &filter.profile_id,
            &filter.ticket_id,
            &filter.visitor_id,
            &filter.from,
            &filter.to,
            &filter.before_id,
            &limit,
        ];
        let client = self.client().await?;
        let statement = client
            .prepare_cached(&format!(
                "SELECT {CONVERSATION_COLUMNS} FROM conversations c \
                 JOIN visitors v ON v.id = c.visitor_id WHERE c.site_id = $1 \
                 AND ($2::TEXT IS NULL OR c.status = $2) \
                 AND ($3::BIGINT IS NULL OR c.profile_id = $3) \
                 AND ($4::BIGINT IS NULL OR c.ticket_id = $4) \
                 AND ($5::BIGINT IS NULL OR c.visitor_id = $5) \
                 AND ($6::BIGINT IS NULL OR c.created_at >= $6) \
                 AND ($7::BIGINT IS NULL OR c.created_at < $7) \
                 AND ($8::BIGINT IS NULL OR c.id < $8) \
                 ORDER BY c.id DESC LIMIT $9"
            ))
            .await?;
        let rows = client.query(&statement, &values).await?;
        Ok(rows.iter().map(conversation_from_row).collect())
    }

    async fn list_tickets(&self, filter: TicketFilter) -> Result<Vec<TicketLine>, StoreError> {
        ticket_lines(&self.client().await?, &filter).await
    }
}
