//! The ticket inbox on PostgreSQL: tickets as listed, their categories, notes,
//! replies (with their emails, in the reply's transaction) and assignment.

use std::collections::BTreeMap;

use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use porchlight_protocol::api::tickets::{TicketCategory, TicketChat, TicketLine, TicketNote};
use porchlight_protocol::{AgentId, AgentInfo, ConversationId, ConversationStatus};
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use super::PgStore;
use super::tickets::set_categories;
use super::webhook_events::ticket_created;
use crate::store::listing::TicketFilter;
use crate::store::model::SiteId;
use crate::store::{StoreError, TicketStore, now_ms};

fn chat_status(status: &str) -> ConversationStatus {
    ConversationStatus::parse(status).unwrap_or(ConversationStatus::Ended)
}

fn ticket_line(row: &Row) -> TicketLine {
    let agent_id: Option<AgentId> = row.get(5);
    let agent_name: Option<String> = row.get(6);
    let chat_id: Option<ConversationId> = row.get(8);
    let chat_state: Option<&str> = row.get(9);
    TicketLine {
        id: row.get(0),
        subject: row.get(1),
        status: row.get(2),
        requester: row.get(3),
        team: row.get(4),
        agent: agent_id.map(|id| AgentInfo {
            id,
            name: agent_name.unwrap_or_default(),
        }),
        created_at: row.get(7),
        chat: chat_id
            .zip(chat_state)
            .map(|(conversation_id, status)| TicketChat {
                conversation_id,
                status: chat_status(status),
            }),
    }
}

/// Tickets as listed, newest first, with their requester, agent and latest chat.
pub(super) async fn ticket_lines(
    client: &impl GenericClient,
    filter: &TicketFilter,
) -> Result<Vec<TicketLine>, StoreError> {
    let statement = client
        .prepare_cached(
            "SELECT t.id, t.subject, t.status, COALESCE(v.display_name, ''), t.team, \
             t.agent_id, a.name, t.created_at, c.id, c.status \
             FROM tickets t \
             LEFT JOIN visitors v ON v.id = t.visitor_id \
             LEFT JOIN agents a ON a.id = t.agent_id \
             LEFT JOIN conversations c ON c.id = \
                 (SELECT MAX(id) FROM conversations WHERE ticket_id = t.id) \
             WHERE ($2::BIGINT IS NULL OR t.id = $2) AND ($3::BIGINT IS NULL OR t.site_id = $3) \
             AND ($4::TEXT IS NULL OR t.status = $4) AND ($5::BIGINT IS NULL OR t.id < $5) \
             ORDER BY t.id DESC LIMIT $1",
        )
        .await?;
    let limit = i64::try_from(filter.limit).unwrap_or(i64::MAX);
    let rows = client
        .query(
            &statement,
            &[
                &limit,
                &filter.only,
                &filter.site_id,
                &filter.status,
                &filter.before_id,
            ],
        )
        .await?;
    Ok(rows.iter().map(ticket_line).collect())
}

/// Ticket notes with their authors' names.
const NOTES: &str = "SELECT n.kind, n.body, n.created_at, n.conversation_id, \
     coalesce(a.name, n.author_name) \
     FROM ticket_notes n LEFT JOIN agents a ON a.id = n.agent_id";

fn note_of(row: &Row) -> TicketNote {
    TicketNote {
        kind: row.get(0),
        body: row.get(1),
        created_at: row.get(2),
        conversation_id: row.get(3),
        author: row.get(4),
    }
}

/// A ticket's notes, oldest first.
pub(super) async fn ticket_notes(
    client: &impl GenericClient,
    ticket: i64,
) -> Result<Vec<TicketNote>, StoreError> {
    let rows = client
        .query(
            &format!("{NOTES} WHERE n.ticket_id = $1 ORDER BY n.id"),
            &[&ticket],
        )
        .await?;
    Ok(rows.iter().map(note_of).collect())
}

async fn note(client: &impl GenericClient, id: i64) -> Result<TicketNote, StoreError> {
    let row = client
        .query_one(&format!("{NOTES} WHERE n.id = $1"), &[&id])
        .await?;
    Ok(note_of(&row))
}

/// Runs one change to ticket `$1`; `NotFound` if there is no such ticket.
async fn change_ticket(
    store: &PgStore,
    sql: &str,
    values: &[&(dyn ToSql + Sync)],
) -> Result<(), StoreError> {
    match store.client().await?.execute(sql, values).await? {
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}

#[async_trait]
impl TicketStore for PgStore {
    async fn tickets(
        &self,
        only: Option<i64>,
        limit: usize,
    ) -> Result<Vec<TicketLine>, StoreError> {
        let filter = TicketFilter {
            only,
            limit,
            ..TicketFilter::default()
        };
        ticket_lines(&self.client().await?, &filter).await
    }

    async fn ticket_categories(&self) -> Result<Vec<TicketCategory>, StoreError> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT name, choices FROM ticket_categories ORDER BY lower(name)",
                &[],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|row| TicketCategory {
                name: row.get(0),
                values: serde_json::from_str(row.get(1)).unwrap_or_default(),
            })
            .collect())
    }

    async fn create_ticket_category(&self, category: TicketCategory) -> Result<(), StoreError> {
        let added = self
            .client()
            .await?
            .execute(
                "INSERT INTO ticket_categories (name, choices) VALUES ($1, $2) \
                 ON CONFLICT DO NOTHING",
                &[
                    &category.name,
                    &serde_json::to_string(&category.values).unwrap_or_default(),
                ],
            )
            .await?;
        if added == 0 {
            return Err(StoreError::Duplicate);
        }
        Ok(())
    }

    async fn ticket_category_values(
        &self,
        id: i64,
    ) -> Result<BTreeMap<String, String>, StoreError> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT c.name, v.value FROM ticket_category_values v \
                 JOIN ticket_categories c ON c.id = v.category_id WHERE v.ticket_id = $1",
                &[&id],
            )
            .await?;
        Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
    }

    async fn set_ticket_categories(
        &self,
        id: i64,
        values: BTreeMap<String, String>,
    ) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        set_categories(&tx, id, &values).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn create_ticket(
        &self,
        site_id: SiteId,
        subject: String,
        team: Option<String>,
        agent: Option<AgentId>,
        requester_email: Option<String>,
    ) -> Result<i64, StoreError> {
        self.noting_queued(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            let now = now_ms();
            let id: i64 = tx
                .query_one(
                    "INSERT INTO tickets (site_id, subject, team, agent_id, created_at, \
                     requester_email) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                    &[&site_id, &subject, &team, &agent, &now, &requester_email],
                )
                .await?
                .get(0);
            ticket_created(&tx, id, None, now).await?;
            tx.commit().await?;
            Ok(id)
        })
        .await
    }

    async fn ticket_requester_email(&self, id: i64) -> Result<Option<String>, StoreError> {
        let row = self
            .client()
            .await?
            .query_opt("SELECT requester_email FROM tickets WHERE id = $1", &[&id])
            .await?;
        Ok(row.and_then(|row| row.get(0)))
    }

    async fn reply_on_ticket(
        &self,
        id: i64,
        agent: AgentId,
        body: String,
        to: Option<String>,
        chat: Option<ConversationId>,
    ) -> Result<TicketNote, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let now = now_ms();
        let added = tx
            .query_opt(
                "INSERT INTO ticket_notes (ticket_id, kind, body, agent_id, created_at) \
                 SELECT id, 'reply', $2, $3, $4 FROM tickets WHERE id = $1 RETURNING id",
                &[&id, &body, &agent, &now],
            )
            .await?
            .ok_or(StoreError::NotFound)?;
        if let Some(to) = to {
            tx.execute(
                "INSERT INTO emails (kind, ticket_id, conversation_id, to_addr, body, next_at, \
                 created_at) VALUES ('ticket_reply', $1, $2, $3, $4, $5, $5)",
                &[&id, &chat, &to, &body, &now],
            )
            .await?;
        }
        let reply = note(&tx, added.get(0)).await?;
        tx.commit().await?;
        Ok(reply)
    }

    async fn add_ticket_note(
        &self,
        id: i64,
        body: String,
        author: String,
    ) -> Result<TicketNote, StoreError> {
        let client = self.client().await?;
        let added = client
            .query_opt(
                "INSERT INTO ticket_notes (ticket_id, kind, body, created_at, author_name) \
                 SELECT id, 'note', $2, $3, $4 FROM tickets WHERE id = $1 RETURNING id",
                &[&id, &body, &now_ms(), &author],
            )
            .await?
            .ok_or(StoreError::NotFound)?;
        note(&client, added.get(0)).await
    }

    async fn set_ticket_subject(&self, id: i64, subject: String) -> Result<(), StoreError> {
        let sql = "UPDATE tickets SET subject = $2 WHERE id = $1";
        change_ticket(self, sql, &[&id, &subject]).await
    }

    async fn set_ticket_status(&self, id: i64, status: &'static str) -> Result<(), StoreError> {
        let sql = "UPDATE tickets SET status = $2 WHERE id = $1";
        change_ticket(self, sql, &[&id, &status]).await
    }

    async fn ticket_site(&self, id: i64) -> Result<Option<SiteId>, StoreError> {
        let row = self
            .client()
            .await?
            .query_opt("SELECT site_id FROM tickets WHERE id = $1", &[&id])
            .await?;
        Ok(row.map(|row| row.get(0)))
    }

    async fn ticket_notes_and_chats(
        &self,
        id: i64,
    ) -> Result<(Vec<TicketNote>, Vec<TicketChat>), StoreError> {
        let client = self.client().await?;
        let notes = ticket_notes(&client, id).await?;
        let chats = client
            .query(
                "SELECT id, status FROM conversations WHERE ticket_id = $1 ORDER BY id",
                &[&id],
            )
            .await?;
        Ok((
            notes,
            chats
                .iter()
                .map(|row| TicketChat {
                    conversation_id: row.get(0),
                    status: chat_status(row.get(1)),
                })
                .collect(),
        ))
    }

    async fn assign_ticket(&self, id: i64, agent: Option<AgentId>) -> Result<(), StoreError> {
        let sql = "UPDATE tickets SET agent_id = $2, \
                   team = COALESCE(team, (SELECT default_team FROM agents WHERE id = $2)) \
                   WHERE id = $1";
        change_ticket(self, sql, &[&id, &agent]).await
    }
}
