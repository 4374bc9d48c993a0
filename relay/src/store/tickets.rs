//! Tickets: the store's side of the ticket inbox and through-tickets live chat.

use std::collections::BTreeMap;

use async_trait::async_trait;
use porchlight_protocol::api::tickets::{TicketCategory, TicketChat, TicketLine, TicketNote};
use porchlight_protocol::{AgentId, ConversationId};

use super::{SiteId, StoreError};

/// Tickets, their categories and notes.
#[async_trait]
pub trait TicketStore: Send + Sync {
    /// The latest tickets (or just ticket `only`), newest first, with their requester,
    /// agent and latest chat.
    async fn tickets(&self, only: Option<i64>, limit: usize)
    -> Result<Vec<TicketLine>, StoreError>;

    /// The ticket category fields, by name.
    async fn ticket_categories(&self) -> Result<Vec<TicketCategory>, StoreError>;

    /// Adds a category field; `Duplicate` for a name in use.
    async fn create_ticket_category(&self, category: TicketCategory) -> Result<(), StoreError>;

    /// A ticket's category values, by category name.
    async fn ticket_category_values(&self, id: i64)
    -> Result<BTreeMap<String, String>, StoreError>;

    /// Sets category values on a ticket; `NotFound` for an unknown category or a value
    /// it does not have.
    async fn set_ticket_categories(
        &self,
        id: i64,
        values: BTreeMap<String, String>,
    ) -> Result<(), StoreError>;

    /// Opens a ticket (made by an agent), with the address replies go to if given.
    async fn create_ticket(
        &self,
        site_id: SiteId,
        subject: String,
        team: Option<String>,
        agent: Option<AgentId>,
        requester_email: Option<String>,
    ) -> Result<i64, StoreError>;

    /// The address the ticket was opened with, if any.
    async fn ticket_requester_email(&self, id: i64) -> Result<Option<String>, StoreError>;

    /// Keeps an agent's reply on the ticket and, with an address, queues its email in
    /// the same transaction (with the chat the address came from, if it did).
    async fn reply_on_ticket(
        &self,
        id: i64,
        agent: AgentId,
        body: String,
        to: Option<String>,
        chat: Option<ConversationId>,
    ) -> Result<TicketNote, StoreError>;

    /// Adds a note by `author` (a name the site's server gives); `NotFound` for no
    /// such ticket.
    async fn add_ticket_note(
        &self,
        id: i64,
        body: String,
        author: String,
    ) -> Result<TicketNote, StoreError>;

    /// `NotFound` for no such ticket.
    async fn set_ticket_subject(&self, id: i64, subject: String) -> Result<(), StoreError>;

    /// `open` or `closed`; `NotFound` for no such ticket.
    async fn set_ticket_status(&self, id: i64, status: &'static str) -> Result<(), StoreError>;

    /// The site a ticket belongs to.
    async fn ticket_site(&self, id: i64) -> Result<Option<SiteId>, StoreError>;

    /// A ticket's notes and linked chats (oldest first).
    async fn ticket_notes_and_chats(
        &self,
        id: i64,
    ) -> Result<(Vec<TicketNote>, Vec<TicketChat>), StoreError>;

    /// Assigns the ticket to `agent` (or no one); a ticket without a team takes the
    /// agent's default team. `NotFound` for no such ticket.
    async fn assign_ticket(&self, id: i64, agent: Option<AgentId>) -> Result<(), StoreError>;
}

/// One line of a chat's transcript on its ticket: "[14:05] Ana: …" (UTC time).
pub(crate) fn transcript_line(at: i64, kind: &str, name: Option<String>, body: &str) -> String {
    let minutes = at.div_euclid(60_000);
    let who = match kind {
        "visitor" => "Visitor".to_owned(),
        "system" => "—".to_owned(),
        _ => name.unwrap_or_else(|| kind.to_owned()),
    };
    format!(
        "[{:02}:{:02}] {who}: {body}",
        minutes.div_euclid(60).rem_euclid(24),
        minutes.rem_euclid(60)
    )
}
