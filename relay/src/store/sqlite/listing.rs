//! Conversations and tickets listed for the REST API. Plain functions over a
//! connection.

use async_trait::async_trait;
use porchlight_protocol::ConversationStatus;
use porchlight_protocol::api::tickets::TicketLine;
use rusqlite::params_from_iter;
use rusqlite::types::Value;

use crate::store::listing::{ConversationFilter, ListingStore, TicketFilter};
use crate::store::{Conversation, StoreError};

use super::SqliteStore;
use super::conversations::{CONVERSATION_COLUMNS, conversation_from_row};

/// The statement for `filter`, with only the conditions it sets, so SQLite reads from
/// the index that fits (one visitor's chats, a ticket's, the open ones) instead of
/// every chat from the newest down; and its arguments in order.
fn conversations_query(filter: &ConversationFilter) -> (String, Vec<Value>) {
    let mut sql = format!(
        "SELECT {CONVERSATION_COLUMNS} FROM conversations c \
         JOIN visitors v ON v.id = c.visitor_id WHERE c.site_id = ?"
    );
    let mut values = vec![Value::from(filter.site_id)];
    let mut condition = |text: &str, value: Value| {
        sql.push_str(" AND ");
        sql.push_str(text);
        values.push(value);
    };
    if let Some(status) = filter.status {
        // Open chats are in an index of their own.
        let open = if status == ConversationStatus::Ended {
            ""
        } else {
            "c.status <> 'ended' AND "
        };
        condition(
            &format!("{open}c.status = ?"),
            status.as_str().to_owned().into(),
        );
    }
    let optional = [
        ("c.profile_id = ?", filter.profile_id),
        ("c.ticket_id = ?", filter.ticket_id),
        ("c.visitor_id = ?", filter.visitor_id),
        ("c.created_at >= ?", filter.from),
        ("c.created_at < ?", filter.to),
        ("c.id < ?", filter.before_id),
    ];
    for (text, value) in optional {
        if let Some(value) = value {
            condition(text, value.into());
        }
    }
    sql.push_str(" ORDER BY c.id DESC LIMIT ?");
    values.push(i64::try_from(filter.limit).unwrap_or(i64::MAX).into());
    (sql, values)
}

#[async_trait]
impl ListingStore for SqliteStore {
    async fn list_conversations(
        &self,
        filter: ConversationFilter,
    ) -> Result<Vec<Conversation>, StoreError> {
        self.read(move |conn| {
            let (sql, values) = conversations_query(&filter);
            let mut statement = conn.prepare_cached(&sql)?;
            let rows = statement.query_map(params_from_iter(values), conversation_from_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn list_tickets(&self, filter: TicketFilter) -> Result<Vec<TicketLine>, StoreError> {
        self.read(move |conn| super::tickets::ticket_lines(conn, &filter))
            .await
    }
}
