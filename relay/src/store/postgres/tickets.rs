//! Tickets on PostgreSQL: so far those a chat opens, the transcript a linked ticket
//! gets when its chat ends, and the category values an abandoned chat sets.

use std::collections::BTreeMap;

use deadpool_postgres::GenericClient;
use porchlight_protocol::ConversationId;

use super::webhook_events::ticket_created;
use crate::store::model::{SiteId, VisitorId};
use crate::store::tickets::transcript_line;
use crate::store::{StoreError, now_ms};

/// Adds the chat's transcript to its linked ticket, if it has one.
pub(super) async fn add_transcript(
    tx: &impl GenericClient,
    id: ConversationId,
) -> Result<(), StoreError> {
    let ticket: Option<i64> = tx
        .query_one("SELECT ticket_id FROM conversations WHERE id = $1", &[&id])
        .await?
        .get(0);
    let Some(ticket) = ticket else {
        return Ok(());
    };
    let rows = tx
        .query(
            "SELECT created_at, author_kind, author_name, body FROM messages \
             WHERE conversation_id = $1 ORDER BY seq",
            &[&id],
        )
        .await?;
    let transcript = rows
        .iter()
        .map(|row| transcript_line(row.get(0), row.get(1), row.get(2), row.get(3)))
        .collect::<Vec<_>>()
        .join("\n");
    tx.execute(
        "INSERT INTO ticket_notes (ticket_id, conversation_id, kind, body, created_at) \
         VALUES ($1, $2, 'transcript', $3, $4)",
        &[&ticket, &id, &transcript, &now_ms()],
    )
    .await?;
    Ok(())
}

/// A ticket opened from a chat.
pub(super) struct ChatTicket<'a> {
    pub site: SiteId,
    pub visitor: VisitorId,
    pub subject: &'a str,
    pub team: Option<&'a str>,
}

/// Opens the ticket, links the chat to it and queues `ticket.created`: its id.
pub(super) async fn open_chat_ticket(
    tx: &impl GenericClient,
    chat: ConversationId,
    ticket: ChatTicket<'_>,
    now: i64,
) -> Result<i64, StoreError> {
    let id: i64 = tx
        .query_one(
            "INSERT INTO tickets (site_id, visitor_id, subject, team, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
            &[
                &ticket.site,
                &ticket.visitor,
                &ticket.subject,
                &ticket.team,
                &now,
            ],
        )
        .await?
        .get(0);
    tx.execute(
        "UPDATE conversations SET ticket_id = $1 WHERE id = $2",
        &[&id, &chat],
    )
    .await?;
    ticket_created(tx, id, Some(chat), now).await?;
    Ok(id)
}

/// Sets category values on a ticket; `NotFound` (nothing set for that one) if a
/// category does not exist or lacks the value.
pub(super) async fn set_categories(
    tx: &impl GenericClient,
    ticket: i64,
    values: &BTreeMap<String, String>,
) -> Result<(), StoreError> {
    for (name, value) in values {
        let category = tx
            .query_opt(
                "SELECT id, choices FROM ticket_categories WHERE lower(name) = lower($1)",
                &[name],
            )
            .await?
            .ok_or(StoreError::NotFound)?;
        let choices: Vec<String> = serde_json::from_str(category.get(1)).unwrap_or_default();
        if !choices.contains(value) {
            return Err(StoreError::NotFound);
        }
        tx.execute(
            "INSERT INTO ticket_category_values (ticket_id, category_id, value) \
             VALUES ($1, $2, $3) \
             ON CONFLICT (ticket_id, category_id) DO UPDATE SET value = excluded.value",
            &[&ticket, &category.get::<_, i64>(0), value],
        )
        .await?;
    }
    Ok(())
}
