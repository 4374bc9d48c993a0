//! A visitor's data rights: everything stored about one visitor, to hand to them, and
//! the record left when it was erased.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::tickets::TicketNote;
use crate::{ChatMessage, ConversationId, ConversationStatus, KnownVisitor};

/// `GET /api/admin/visitors/{id}/export`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct VisitorExport {
    pub visitor: ExportedVisitor,
    pub conversations: Vec<ExportedChat>,
    pub tickets: Vec<ExportedTicket>,
    /// The files sent in their chats, each with its bytes.
    pub files: Vec<ExportedFile>,
    pub exported_at: i64,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ExportedVisitor {
    pub id: i64,
    /// The site's key.
    pub site: String,
    pub name: String,
    pub created_at: i64,
    /// Their browser's languages, as the widget said them (`de-AT,en`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub languages: Option<String>,
    /// What the site said about them (`Porchlight.identify`).
    #[serde(flatten)]
    pub known: KnownVisitor,
}

/// `GET /api/conversations/{id}/contact`: who the visitor is, as the site said, and
/// their other chats the agent may see (newest first).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ContactView {
    pub visitor_id: i64,
    pub name: String,
    /// The user id was proven with the site's secret.
    #[serde(default)]
    pub verified: bool,
    #[serde(flatten)]
    pub known: KnownVisitor,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub past: Vec<PastChat>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct PastChat {
    pub conversation_id: ConversationId,
    pub status: ConversationStatus,
    pub started_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_id: Option<i64>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ExportedChat {
    pub id: ConversationId,
    pub status: ConversationStatus,
    pub started_at: i64,
    pub ended_at: Option<i64>,
    pub page_url: Option<String>,
    pub referrer: Option<String>,
    /// The browser's `User-Agent`.
    pub browser: Option<String>,
    /// What they answered the chat profile's questions, by variable.
    pub answers: BTreeMap<String, String>,
    pub rating: Option<u8>,
    pub rating_comment: Option<String>,
    pub messages: Vec<ChatMessage>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ExportedTicket {
    pub id: i64,
    pub subject: String,
    pub status: String,
    pub created_at: i64,
    pub notes: Vec<TicketNote>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ExportedFile {
    pub conversation_id: ConversationId,
    pub name: String,
    pub content_type: String,
    pub size: u64,
    /// The file's bytes, base64 (standard alphabet, padded).
    pub base64: String,
}

/// What erasing a visitor removed (`DELETE /api/admin/visitors/{id}`), and the record
/// kept that it was done (`GET /api/admin/erasures`).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Erasure {
    pub visitor_id: i64,
    /// The site's key.
    pub site: String,
    /// The admin who erased it.
    pub by: String,
    pub conversations: u64,
    pub messages: u64,
    pub files: u64,
    /// Tickets whose subject and notes were cleared (the tickets themselves stay).
    pub tickets: u64,
    pub at: i64,
}
