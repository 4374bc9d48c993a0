//! The Tickets page's bodies (`/api/tickets`, `/api/ticket-categories`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{AgentId, AgentInfo, ConversationId, ConversationStatus};

/// `PUT /api/tickets/ID/agent`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// `null` leaves the ticket unassigned.
    pub agent_id: Option<AgentId>,
}

/// `PUT /api/tickets/ID/status`: `open` or `closed`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct TicketStatus {
    pub status: String,
}

/// `POST /api/tickets`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewTicket {
    pub subject: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// Where replies on the ticket are emailed (else the linked chat's address).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requester_email: Option<String>,
}

/// The answer to [`NewTicket`].
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct TicketCreated {
    pub id: i64,
}

/// A ticket as `GET /api/tickets` lists it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TicketLine {
    pub id: i64,
    pub subject: String,
    pub status: String,
    /// The visitor who asked.
    pub requester: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<AgentInfo>,
    pub created_at: i64,
    /// The latest chat linked to the ticket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat: Option<TicketChat>,
}

/// A ticket category field and the values it may take.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct TicketCategory {
    pub name: String,
    pub values: Vec<String>,
}

/// A ticket with its notes and every linked chat, as `GET /api/tickets/ID` shows it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TicketDetail {
    pub ticket: TicketLine,
    /// Category name → the ticket's value.
    #[serde(default)]
    pub categories: BTreeMap<String, String>,
    pub notes: Vec<TicketNote>,
    /// The chats linked to the ticket, oldest first.
    pub chats: Vec<TicketChat>,
    /// Where a reply is emailed: the address given with the ticket, else the one the
    /// visitor gave in its chat; none: replies stay on the ticket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requester_email: Option<String>,
}

/// `POST /api/tickets/ID/replies`: an agent's reply to the requester, kept on the
/// ticket and emailed to them.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct TicketReply {
    pub body: String,
}

/// The answer to [`TicketReply`]: the note, and the address the email is queued for
/// (none: no address is known, or email is not set up).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ReplyQueued {
    pub note: TicketNote,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emailed_to: Option<String>,
}

/// A note on a ticket: `transcript` notes are a linked chat's messages, `reply` notes
/// an agent's reply to the requester (with its author).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TicketNote {
    pub kind: String,
    pub body: String,
    pub created_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<ConversationId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TicketChat {
    pub conversation_id: ConversationId,
    pub status: ConversationStatus,
}
