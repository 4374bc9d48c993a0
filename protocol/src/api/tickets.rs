//! The Tickets page's request bodies (`/api/tickets`); the answers are
//! [`crate::TicketLine`] and [`crate::TicketDetail`].

use serde::{Deserialize, Serialize};

use crate::AgentId;

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
pub struct NewTicket {
    pub subject: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
}

/// The answer to [`NewTicket`].
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct TicketCreated {
    pub id: i64,
}
