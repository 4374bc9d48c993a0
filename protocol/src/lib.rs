//! Porchlight's wire protocol: JSON text frames, each `{"type": "...", ...}`.
//!
//! Four directions, four enums: visitor→relay ([`VisitorRequest`]), relay→visitor
//! ([`VisitorEvent`]), agent→relay ([`AgentRequest`]) and relay→agent ([`AgentEvent`]).
//! The first frame of every socket is `hello` and carries [`PROTOCOL_VERSION`].
//!
//! Delivery: a sender names each message with a `client_msg_id`; the relay stores it
//! once, gives it the conversation's next `seq` and acknowledges after commit. A client
//! that reconnects says the last `seq` it saw and gets every later message, in order.

use serde::{Deserialize, Serialize};

pub mod api;
mod error;
pub mod report;
pub mod sync;
mod tag_first;
pub use error::{ErrorCode, ProtocolError};

/// Bumped on any change to the frames that an older peer could not read.
pub const PROTOCOL_VERSION: u32 = 1;
/// The largest text frame the relay parses; larger ones get `frame_too_large`.
pub const MAX_FRAME_BYTES: usize = 16 * 1024;
/// The longest message body, in characters.
pub const MAX_BODY_CHARS: usize = 4000;
/// The longest `client_msg_id`, in bytes.
pub const MAX_CLIENT_MSG_ID_BYTES: usize = 64;

pub type ConversationId = i64;
pub type Seq = u64;
pub type AgentId = i64;

/// Where the conversation stands.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
pub struct Source {
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// A file in a chat. `url` is unguessable; the relay serves it as a download (images
/// may show inline, sandboxed).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
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
}

fn is_false(value: &bool) -> bool {
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
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ProfileView {
    pub title: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub greeting: String,
    /// `#rrggbb`.
    pub colour: String,
    /// Inside working hours (always, when the profile has none).
    pub online: bool,
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

/// Frames the widget sends to the relay.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum VisitorRequest {
    /// The first frame. `token` is absent on a visitor's first visit.
    Hello {
        v: u32,
        site: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resume: Option<Resume>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        page: Option<PageInfo>,
        /// Start a new chat at this step of the profile (it must allow it).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        start_step: Option<String>,
        /// Run this chat profile instead of the site's ("Try it" in the console; only
        /// honoured for a logged-in admin).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        preview_profile: Option<i64>,
        /// A new chat is about this ticket (the page's `data-ticket`, signed by the
        /// site's server).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ticket: Option<TicketLink>,
    },
    /// A message, or the answer to the bot's prompt; starts a new conversation when the
    /// visitor has none open.
    Send { client_msg_id: String, body: String },
    /// The visitor ends the conversation.
    EndChat,
}

/// Frames the relay sends to the widget.
///
/// Deserialised by hand (see `tag_first`): the relay always writes `type` first, and
/// reading it first keeps serde's buffering machinery out of the widget's wasm.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum VisitorEvent {
    /// Answer to `hello`: the token to keep and the visitor's latest conversation.
    /// Missed messages follow as `message` frames.
    Welcome(Welcome),
    /// The message is stored; `seq` is its place in the conversation.
    Ack(Ack),
    Message(ChatMessage),
    /// The bot now waits for this answer (`None`: for nothing; the composer is free).
    Prompt(PromptChange),
    /// The conversation changed state (an agent joined, it ended).
    Status(StatusChange),
    /// The visitor may now (or may no longer) send files: show or hide the paperclip.
    Uploads(UploadsChange),
    /// Where a waiting visitor stands: their place in line and the estimated wait,
    /// as the profile chooses to show them. Sent again whenever the queue moves.
    Queue(QueueInfo),
    /// The AI agent's answer as it is written: append `text` to answer `id` (a new
    /// `id` starts a new answer). The stored answer follows as a `message`; `done`
    /// clears what was shown.
    Stream(StreamDelta),
    Error(ProtocolError),
}

/// The body of [`VisitorEvent::Stream`].
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct StreamDelta {
    pub conversation_id: ConversationId,
    pub id: u32,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub done: bool,
}

/// The body of [`VisitorEvent::Queue`].
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct QueueInfo {
    pub conversation_id: ConversationId,
    /// 1 = next.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<u32>,
    /// Whole minutes, or `< 1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait: Option<String>,
}

/// The body of [`VisitorEvent::Uploads`].
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct UploadsChange {
    pub conversation_id: ConversationId,
    pub allowed: bool,
}

/// The body of [`VisitorEvent::Welcome`].
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Welcome {
    pub v: u32,
    pub token: String,
    pub profile: ProfileView,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation: Option<ConversationState>,
    /// What the bot is waiting for, if anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<Prompt>,
}

/// The body of [`VisitorEvent::Ack`] and [`AgentEvent::Ack`]: the message is stored.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    pub conversation_id: ConversationId,
    pub client_msg_id: String,
    pub seq: Seq,
    /// When it was stored (milliseconds since the Unix epoch), so the sender's bubble
    /// shows its time at once instead of waiting for a reload.
    pub at: i64,
}

/// The body of [`VisitorEvent::Prompt`].
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct PromptChange {
    pub conversation_id: ConversationId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<Prompt>,
}

/// The body of [`VisitorEvent::Status`].
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    pub conversation_id: ConversationId,
    pub status: ConversationStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_name: Option<String>,
}

/// An agent as the console shows them.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct AgentInfo {
    pub id: AgentId,
    pub name: String,
}

/// One line of the console's chat list.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ChatSummary {
    pub conversation_id: ConversationId,
    pub status: ConversationStatus,
    pub visitor_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<AgentInfo>,
    /// Milliseconds since the Unix epoch.
    pub queued_at: i64,
    pub last_seq: Seq,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referrer: Option<String>,
    /// The visitor's browser and system, e.g. "Firefox 128 on Windows".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub browser: Option<String>,
    /// The teams the chat is routed to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub teams: Vec<String>,
    /// The visitor may send files in this chat now.
    #[serde(default, skip_serializing_if = "is_false")]
    pub visitor_uploads: bool,
    /// The chat's profile lets agents (with the permission) switch visitor uploads.
    #[serde(default, skip_serializing_if = "is_false")]
    pub uploads_switchable: bool,
}

/// A ticket as `GET /api/tickets` lists it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
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
pub struct TicketDetail {
    pub ticket: TicketLine,
    /// Category name → the ticket's value.
    #[serde(default)]
    pub categories: std::collections::BTreeMap<String, String>,
    pub notes: Vec<TicketNote>,
    /// The chats linked to the ticket, oldest first.
    pub chats: Vec<TicketChat>,
}

/// A note on a ticket; `transcript` notes are a linked chat's messages.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct TicketNote {
    pub kind: String,
    pub body: String,
    pub created_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<ConversationId>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct TicketChat {
    pub conversation_id: ConversationId,
    pub status: ConversationStatus,
}

/// A canned text, as `GET /api/canned` lists it. `$NAME` (the visitor) and `$AGENT`
/// (the agent posting it) are filled when it is posted.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct CannedText {
    pub id: i64,
    pub group: String,
    pub title: String,
    pub body: String,
}

/// An agent status; chats ring only for agents whose status is `online`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct StatusInfo {
    pub id: i64,
    pub name: String,
    pub online: bool,
}

/// Frames the console sends to the relay.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AgentRequest {
    Hello {
        v: u32,
    },
    /// Show a conversation: the relay sends messages after `last_seq`, then live ones.
    Open {
        conversation_id: ConversationId,
        #[serde(default)]
        last_seq: Seq,
    },
    /// Take a queued conversation. When agents race, exactly one wins.
    Join {
        conversation_id: ConversationId,
    },
    Send {
        conversation_id: ConversationId,
        client_msg_id: String,
        body: String,
    },
    EndChat {
        conversation_id: ConversationId,
    },
    /// Change one's own status.
    SetStatus {
        status_id: i64,
    },
    /// Let the visitor send files in this chat, or stop them (needs the permission and
    /// a profile that lets agents override its policy).
    SetVisitorUploads {
        conversation_id: ConversationId,
        allowed: bool,
    },
    /// Hand a chat one holds to a team or an agent: it rings again there.
    Transfer {
        conversation_id: ConversationId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to_team: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to_agent: Option<AgentId>,
    },
}

/// Frames the relay sends to the console.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AgentEvent {
    /// Answer to `hello`: who is logged in and every open chat.
    Welcome {
        v: u32,
        agent: AgentInfo,
        chats: Vec<ChatSummary>,
        statuses: Vec<StatusInfo>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status_id: Option<i64>,
        /// Where chats can be transferred: every team and agent.
        #[serde(default)]
        teams: Vec<String>,
        #[serde(default)]
        agents: Vec<AgentInfo>,
        /// This agent's own teams (for the "my teams" filter).
        #[serde(default)]
        my_teams: Vec<String>,
        /// This agent may switch visitor uploads per chat.
        #[serde(default, skip_serializing_if = "is_false")]
        can_toggle_uploads: bool,
    },
    /// A waiting chat rings for this agent: sound, visual ring, notification.
    Ring(ChatSummary),
    /// Stop ringing: someone joined, it ended, or this agent has no room now.
    RingStop {
        conversation_id: ConversationId,
    },
    /// This agent's status is now `status_id`.
    MyStatus {
        status_id: i64,
    },
    /// A chat appeared or changed; replaces the line with the same id.
    Chat(ChatSummary),
    /// This agent won the conversation.
    Joined {
        conversation_id: ConversationId,
    },
    Ack(Ack),
    Message(ChatMessage),
    Error(ProtocolError),
}

/// Parses one text frame from the widget.
pub fn parse_visitor_request(text: &str) -> Result<VisitorRequest, ProtocolError> {
    parse_frame(text, &["hello", "send", "end_chat"])
}

/// Parses one text frame from the console.
pub fn parse_agent_request(text: &str) -> Result<AgentRequest, ProtocolError> {
    parse_frame(
        text,
        &[
            "hello",
            "open",
            "join",
            "send",
            "end_chat",
            "set_status",
            "set_visitor_uploads",
            "transfer",
        ],
    )
}

/// Parses a frame in two steps so that an unknown `type` and a malformed known one
/// get different codes.
fn parse_frame<T: serde::de::DeserializeOwned>(
    text: &str,
    known_types: &[&str],
) -> Result<T, ProtocolError> {
    if text.len() > MAX_FRAME_BYTES {
        return Err(ProtocolError::new(
            ErrorCode::FrameTooLarge,
            format!("Frames are limited to {MAX_FRAME_BYTES} bytes."),
        ));
    }
    let value: serde_json::Value = serde_json::from_str(text).map_err(|err| {
        ProtocolError::new(
            ErrorCode::BadFrame,
            format!("The frame is not JSON: {err}."),
        )
    })?;
    let Some(kind) = value.get("type").and_then(serde_json::Value::as_str) else {
        return Err(ProtocolError::new(
            ErrorCode::BadFrame,
            "The frame must be a JSON object with a string \"type\".",
        ));
    };
    if !known_types.contains(&kind) {
        return Err(ProtocolError::new(
            ErrorCode::UnknownType,
            format!("Unknown frame type \"{kind}\"."),
        ));
    }
    let kind = kind.to_owned();
    serde_json::from_value(value).map_err(|err| {
        ProtocolError::new(
            ErrorCode::BadFrame,
            format!("The \"{kind}\" frame is malformed: {err}."),
        )
    })
}

/// Checks a message before it is stored: a non-blank body within the limits and a
/// usable `client_msg_id`.
pub fn validate_outgoing(client_msg_id: &str, body: &str) -> Result<(), ProtocolError> {
    if client_msg_id.is_empty() || client_msg_id.len() > MAX_CLIENT_MSG_ID_BYTES {
        return Err(ProtocolError::new(
            ErrorCode::BadFrame,
            format!("client_msg_id must be 1 to {MAX_CLIENT_MSG_ID_BYTES} bytes."),
        ));
    }
    if body.trim().is_empty() {
        return Err(ProtocolError::new(
            ErrorCode::EmptyMessage,
            "A message needs some text.",
        ));
    }
    if body.chars().count() > MAX_BODY_CHARS {
        return Err(ProtocolError::new(
            ErrorCode::MessageTooLong,
            format!("Messages are limited to {MAX_BODY_CHARS} characters."),
        ));
    }
    Ok(())
}

/// Serialises a frame. Our frame types cannot fail to serialise.
pub fn to_text<T: Serialize>(frame: &T) -> String {
    serde_json::to_string(frame).unwrap_or_else(|_| {
        r#"{"type":"error","code":"internal","message":"The relay could not encode a frame."}"#
            .to_owned()
    })
}

#[cfg(test)]
mod tests;
