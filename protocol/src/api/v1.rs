//! The REST API for the site's own servers (`/api/v1`, an API key as
//! `Authorization: Bearer plk_…`), and the console's management of those keys. Its
//! OpenAPI document (`/api/v1/openapi.json`) is generated from these types.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::tickets::TicketLine;
use crate::{ChatMessage, ContextEntry, ConversationId, ConversationStatus, Seq};

/// What a key may do: `read`, or `read_write`.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Read,
    ReadWrite,
}

/// A key as the console lists it (`GET /api/admin/sites/{key}/api-keys`); the key
/// itself is shown once, when made.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyView {
    pub id: i64,
    pub name: String,
    /// The key's first characters (`plk_3f9a…`).
    pub prefix: String,
    pub scope: Scope,
    pub created_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<i64>,
}

/// `POST /api/admin/sites/{key}/api-keys`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct NewApiKeyForm {
    pub name: String,
    pub scope: Scope,
}

/// The answer to making a key: the key, shown this once, and how it is listed.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct CreatedApiKey {
    pub key: String,
    pub listed: ApiKeyView,
}

/// `POST /api/v1/visitors/identify`: the site's server says who a user is (trusted:
/// the key proves it). Their chats on any browser that proves the same user id are
/// theirs.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IdentifyUser {
    pub user_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    /// Merged into the user's traits.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub traits: BTreeMap<String, String>,
    /// Replaces the user's context entries when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<BTreeMap<String, ContextEntry>>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IdentifiedUser {
    pub visitor_id: i64,
    pub user_id: String,
}

/// A conversation as the API shows it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiConversation {
    pub id: ConversationId,
    pub status: ConversationStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_id: Option<i64>,
    pub visitor_id: i64,
    pub visitor_name: String,
    /// The site's id for the visitor, once identified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_id: Option<i64>,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<i64>,
    /// The latest message's `seq`.
    pub last_seq: Seq,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_url: Option<String>,
}

/// One page of conversations, newest first; pass `next_cursor` as `cursor` for the
/// next (absent on the last page).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConversationPage {
    pub items: Vec<ApiConversation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Messages in `seq` order; pass `next_after` as `after` for the next page (absent
/// when there are no more now).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessagePage {
    pub items: Vec<ChatMessage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_after: Option<Seq>,
}

/// Who a message posted through the API is from.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PostedBy {
    /// A bot, by `name` (the site's own automation).
    Bot,
    /// The relay's voice: a notice in the chat.
    System,
}

/// `POST /api/v1/conversations/{id}/messages`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PostMessage {
    pub body: String,
    pub author: PostedBy,
    /// The bot's name (required for `bot`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The caller's id for the message: a retry with the same id is stored once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_msg_id: Option<String>,
}

/// The answer to `POST /api/v1/tickets`: the ticket, and the token a page links a chat
/// to it with (`data-ticket="ID" data-ticket-token="…"`).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiTicketCreated {
    pub id: i64,
    pub link_token: String,
}

/// One page of tickets, newest first (see [`ConversationPage`]).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TicketPage {
    pub items: Vec<TicketLine>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// `PATCH /api/v1/tickets/{id}`: what to change.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TicketChange {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// `open` or `closed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// `POST /api/v1/tickets/{id}/notes`: a note on the ticket, under the name given.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewTicketNote {
    pub body: String,
    /// Who wrote it, as agents see it ("Billing system").
    pub author: String,
}
