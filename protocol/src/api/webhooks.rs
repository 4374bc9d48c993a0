//! Webhooks from chat: the endpoints a site's admin sets up (in the console or through
//! `/api/v1/webhooks`), their deliveries, and the events the relay posts to them,
//! signed per the Standard Webhooks specification.

use serde::{Deserialize, Serialize};

/// What happened. Each event is one bit of an endpoint's subscription.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum WebhookEvent {
    /// A message was added to a chat (filtered by message type and profile).
    #[serde(rename = "chat.message")]
    ChatMessage,
    #[serde(rename = "chat.started")]
    ChatStarted,
    /// The chat is waiting for an agent (again, after a transfer).
    #[serde(rename = "chat.queued")]
    ChatQueued,
    #[serde(rename = "chat.joined")]
    ChatJoined,
    /// Ended by the visitor, an agent, the bot or the relay; not abandoned.
    #[serde(rename = "chat.ended")]
    ChatEnded,
    /// Ended because the visitor left the queue unanswered.
    #[serde(rename = "chat.abandoned")]
    ChatAbandoned,
    #[serde(rename = "ticket.created")]
    TicketCreated,
}

impl WebhookEvent {
    pub const ALL: [Self; 7] = [
        Self::ChatMessage,
        Self::ChatStarted,
        Self::ChatQueued,
        Self::ChatJoined,
        Self::ChatEnded,
        Self::ChatAbandoned,
        Self::TicketCreated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ChatMessage => "chat.message",
            Self::ChatStarted => "chat.started",
            Self::ChatQueued => "chat.queued",
            Self::ChatJoined => "chat.joined",
            Self::ChatEnded => "chat.ended",
            Self::ChatAbandoned => "chat.abandoned",
            Self::TicketCreated => "ticket.created",
        }
    }

    /// The event's bit in a subscription.
    pub fn bit(self) -> i64 {
        1 << (self as i64)
    }

    /// The bits of `events`.
    pub fn mask(events: &[Self]) -> i64 {
        events.iter().fold(0, |mask, event| mask | event.bit())
    }

    /// The events whose bits `mask` has.
    pub fn from_mask(mask: i64) -> Vec<Self> {
        Self::ALL
            .into_iter()
            .filter(|event| mask & event.bit() != 0)
            .collect()
    }
}

/// Which messages a `chat.message` subscription sends (the seed's "message types to
/// send").
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MessageTypes {
    /// Every message.
    #[default]
    All,
    /// The visitor's messages once the chat is live (queued for or with an agent).
    VisitorLive,
    /// The visitor's messages, in live chat and in the bot's part alike.
    Visitor,
    /// Agents' messages.
    Agent,
    /// What no person typed: the bot's, the AI agent's, and the relay's notices.
    System,
}

impl MessageTypes {
    pub const ALL: [Self; 5] = [
        Self::All,
        Self::VisitorLive,
        Self::Visitor,
        Self::Agent,
        Self::System,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::VisitorLive => "visitor_live",
            Self::Visitor => "visitor",
            Self::Agent => "agent",
            Self::System => "system",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|types| types.as_str() == text)
    }
}

/// An extra header sent with every request (e.g. `Authorization: Bearer …`).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuthHeader {
    /// Empty removes the header (on `PUT`).
    pub name: String,
    #[serde(default)]
    pub value: String,
}

/// What an admin sets for an endpoint (`POST` makes one, `PUT` replaces its settings).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WebhookForm {
    pub name: String,
    /// Where the relay posts (http or https; a private address only when the relay's
    /// `outbound_allow` names it).
    pub url: String,
    /// At least one.
    pub events: Vec<WebhookEvent>,
    #[serde(default)]
    pub message_types: MessageTypes,
    /// Only this profile's chats; every profile when absent.
    #[serde(default)]
    pub profile_id: Option<i64>,
    /// Events per request: 1 sends each event on its own (1 to 100).
    #[serde(default = "one")]
    pub batch_max: u32,
    /// With `batch_max` over 1: the longest an event waits for others (0 to 300 s).
    #[serde(default)]
    pub batch_seconds: u32,
    /// Kept when absent on `PUT`; `{"name": ""}` removes it.
    #[serde(default)]
    pub auth_header: Option<AuthHeader>,
    /// Turning an endpoint back on clears why it was turned off.
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn one() -> u32 {
    1
}

fn yes() -> bool {
    true
}

/// An endpoint as listed; its secret is shown only when made or rotated, the auth
/// header's value never.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookView {
    pub id: i64,
    pub name: String,
    pub url: String,
    pub events: Vec<WebhookEvent>,
    pub message_types: MessageTypes,
    #[serde(default)]
    pub profile_id: Option<i64>,
    pub batch_max: u32,
    pub batch_seconds: u32,
    /// The extra header's name, when one is set.
    #[serde(default)]
    pub auth_header_name: Option<String>,
    pub enabled: bool,
    /// Why the relay turned it off (a 410, or a day of failures).
    #[serde(default)]
    pub disabled_reason: Option<String>,
    /// Since when every try has failed.
    #[serde(default)]
    pub failing_since: Option<i64>,
    pub created_at: i64,
}

/// A new endpoint, or a rotated secret: the only time the secret is shown.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookSecret {
    pub webhook: WebhookView,
    /// `whsec_…`: the key receivers verify `webhook-signature` with. After a rotation
    /// the previous secret keeps signing too, for a day.
    pub secret: String,
}

/// One request (one event, or a batch) and what became of its latest try.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeliveryView {
    pub id: i64,
    /// The `webhook-id` header: the same on every retry.
    pub webhook_id: String,
    /// The event, or `batch` for several.
    pub event: String,
    pub events: u32,
    /// `pending` (sent or to be retried), `delivered`, or `failed` (given up).
    pub status: String,
    pub attempts: u32,
    pub created_at: i64,
    #[serde(default)]
    pub last_attempt_at: Option<i64>,
    /// When it is tried next, while pending.
    #[serde(default)]
    pub next_at: Option<i64>,
    #[serde(default)]
    pub response_code: Option<u16>,
    #[serde(default)]
    pub duration_ms: Option<u32>,
    /// The start of the response's body.
    #[serde(default)]
    pub response_excerpt: Option<String>,
    /// Why the latest try failed, when no response says it.
    #[serde(default)]
    pub error: Option<String>,
    /// The request's body, as sent.
    pub body: String,
}

/// What every request's body holds: one event, or (`type: "batch"`) several in
/// `data.events`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventBody {
    /// `evt_…`: the same event in a retry or a redelivery has the same id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
    /// RFC 3339.
    pub timestamp: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub data: serde_json::Value,
}

/// `data` of a `chat.message` event.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessageData {
    pub conversation_id: i64,
    pub site: String,
    #[serde(default)]
    pub profile_id: Option<i64>,
    pub visitor_id: i64,
    pub seq: u64,
    /// `visitor`, `agent`, `bot` or `system`.
    pub author: String,
    #[serde(default)]
    pub author_name: Option<String>,
    pub text: String,
    /// The chat was live (queued for or with an agent) when it was said.
    pub live: bool,
    pub at: i64,
}

/// `data` of the `chat.*` events other than `chat.message`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChatData {
    pub conversation_id: i64,
    pub site: String,
    #[serde(default)]
    pub profile_id: Option<i64>,
    pub visitor_id: i64,
    /// `bot`, `queued`, `active` or `ended`.
    pub status: String,
    /// `chat.joined`: who joined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_name: Option<String>,
    /// `chat.ended`: `visitor`, `agent`, `bot` or `system`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_id: Option<i64>,
    pub at: i64,
}

/// `data` of `ticket.created`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TicketData {
    pub ticket_id: i64,
    pub site: String,
    pub subject: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<i64>,
    pub at: i64,
}

/// One page of an endpoint's deliveries, newest first; `next_cursor` asks for the next.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeliveryPage {
    pub items: Vec<DeliveryView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}
