//! The conversation's vocabulary, shared by both sockets: who wrote what, where a
//! conversation stands, files and citations, and what the bot asks.

use serde::{Deserialize, Serialize};

use crate::words::Language;
use crate::{AgentId, ConversationId, Seq};

/// Where the conversation stands.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConversationStatus {
    /// Talking with the profile's bot flow.
    Bot,
    /// Waiting in the live-chat queue for an agent.
    Queued,
    /// An agent has joined.
    Active,
    /// Either side ended it.
    Ended,
}

impl ConversationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bot => "bot",
            Self::Queued => "queued",
            Self::Active => "active",
            Self::Ended => "ended",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "bot" => Some(Self::Bot),
            "queued" => Some(Self::Queued),
            "active" => Some(Self::Active),
            "ended" => Some(Self::Ended),
            _ => None,
        }
    }
}

/// Who wrote a message.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Author {
    Visitor,
    Agent,
    Bot,
    /// The relay itself: "Ana joined the chat", "Chat ended".
    System,
}

impl Author {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Visitor => "visitor",
            Self::Agent => "agent",
            Self::Bot => "bot",
            Self::System => "system",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "visitor" => Some(Self::Visitor),
            "agent" => Some(Self::Agent),
            "bot" => Some(Self::Bot),
            "system" => Some(Self::System),
            _ => None,
        }
    }
}

/// One stored message, as both sides see it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChatMessage {
    pub conversation_id: ConversationId,
    pub seq: Seq,
    pub author: Author,
    /// Display name of the agent or bot; absent for the visitor and the system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_name: Option<String>,
    pub body: String,
    /// The sender's id for the message, so its other tabs can match it to their outbox.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_msg_id: Option<String>,
    /// Milliseconds since the Unix epoch, when the relay stored it.
    pub at: i64,
    /// A file sent as this message (its body is the file name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<AttachmentInfo>,
    /// What an AI answer is grounded in, to show as citations.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<Source>,
}

/// A knowledge passage an answer cites. `url` is only ever http(s); a document
/// imported from a file has none.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Source {
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// A file in a chat. `url` is unguessable; the relay serves it as a download (images
/// may show inline, sandboxed).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AttachmentInfo {
    pub name: String,
    pub content_type: String,
    pub size: u64,
    pub url: String,
}

impl AttachmentInfo {
    /// Shown inline as a picture (PNG, JPEG, GIF, WebP); everything else is a link.
    pub fn is_image(&self) -> bool {
        self.content_type.starts_with("image/")
    }
}

/// The visitor's conversation as the relay sees it when the socket opens.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ConversationState {
    pub id: ConversationId,
    pub status: ConversationStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_name: Option<String>,
    pub last_seq: Seq,
    /// The visitor may send files now.
    #[serde(default, skip_serializing_if = "is_false")]
    pub uploads: bool,
    /// The visitor's rating of the chat, once they gave one (1 to 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<u8>,
}

/// How visitors rate a chat once it has ended (a profile's `rating`).
#[derive(Serialize, Deserialize, Debug, Clone, Copy, Default, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RatingScale {
    /// No rating is asked for.
    #[default]
    Off,
    /// One to five stars.
    Stars,
    /// Thumbs up (stored as 5) or down (stored as 1).
    Thumbs,
}

impl RatingScale {
    pub fn is_off(&self) -> bool {
        *self == RatingScale::Off
    }

    /// Whether `score` is one this scale gives.
    pub fn allows(self, score: u8) -> bool {
        match self {
            RatingScale::Off => false,
            RatingScale::Stars => (1..=5).contains(&score),
            RatingScale::Thumbs => score == 1 || score == 5,
        }
    }
}

pub(crate) fn is_false(value: &bool) -> bool {
    !value
}

/// Where a reconnecting client left off.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resume {
    pub conversation_id: ConversationId,
    pub last_seq: Seq,
}

/// The host page the widget is on, for the agent's context panel.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq, Eq)]
pub struct PageInfo {
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub referrer: String,
}

/// How the widget looks and whether the chat is open, from the site's chat profile.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileView {
    pub title: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub greeting: String,
    /// `#rrggbb`.
    pub colour: String,
    /// Inside working hours (always, when the profile has none).
    pub online: bool,
    /// How the visitor may rate a chat once it has ended.
    #[serde(default, skip_serializing_if = "RatingScale::is_off")]
    pub rating: RatingScale,
    /// The widget's language: the profile's, else the first of the hello's
    /// `languages` the widget speaks; none: English.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<Language>,
    /// Every line of the widget in `language`, with the profile's own, in the order of
    /// `words::Text`; empty: the English built into the widget.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<String>,
    /// The visitor may ask for the chat's transcript by email (email is set up).
    #[serde(default, skip_serializing_if = "is_false")]
    pub email_transcript: bool,
}

/// The kind of answer an `input` step wants; the widget picks the HTML input type.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum InputKind {
    Text,
    Email,
    Number,
    Date,
    YesNo,
    Choice,
}

/// What the bot is waiting for: a click on one of `choices` (a question), or a typed
/// value of kind `input` (with `choices` as its options when it is `choice`).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub step_id: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<InputKind>,
}

/// A page's link to a ticket: its id and the site server's HMAC token for it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct TicketLink {
    pub id: i64,
    pub token: String,
}

/// An agent as the console shows them.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentInfo {
    pub id: AgentId,
    pub name: String,
}
