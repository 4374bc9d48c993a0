//! Conversations and tickets listed for the REST API. Plain functions over a
//! connection.

use async_trait::async_trait;
use rusqlite::params;

use porchlight_protocol::api::tickets::TicketLine;

use crate::store::listing::{ConversationFilter, ListingStore, TicketFilter};
use crate::store::{Conversation, StoreError};

use super::SqliteStore;
use super::conversations::{CONVERSATION_COLUMNS, conversation_from_row};

#[async_trait]
impl ListingStore for SqliteStore {
    async fn list_conversations(
        &self,
        filter: ConversationFilter,
    ) -> Result<Vec<Conversation>, StoreError> {
        self.read(move |conn| {
            let mut statement = conn.prepare_cached(&format!(
                "SELECT {CONVERSATION_COLUMNS} FROM conversations c \
                 JOIN visitors v ON v.id = c.visitor_id \
                 WHERE c.site_id = ?1 AND (?2 IS NULL OR c.status = ?2) \
                 AND (?3 IS NULL OR c.profile_id = ?3) AND (?4 IS NULL OR c.ticket_id = ?4) \
                 AND (?5 IS NULL OR c.created_at >= ?5) AND (?6 IS NULL OR c.created_at < ?6) \
                 AND (?7 IS NULL OR c.id < ?7) AND (?9 IS NULL OR c.visitor_id = ?9) \
                 ORDER BY c.id DESC LIMIT ?8"
            ))?;
            let rows = statement.query_map(
                params![
                    filter.site_id,
                    filter.status.map(|status| status.as_str()),
                    filter.profile_id,
                    filter.ticket_id,
                    filter.from,
                    filter.to,
                    filter.before_id,
                    i64::try_from(filter.limit).unwrap_or(i64::MAX),
                    filter.visitor_id
                ],
                conversation_from_row,
            )?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn list_tickets(&self, filter: TicketFilter) -> Result<Vec<TicketLine>, StoreError> {
        self.read(move |conn| super::tickets::ticket_lines(conn, &filter))
            .await
    }
}
