//! The widget's socket: what it sends ([`VisitorRequest`]) and what the relay sends
//! it ([`VisitorEvent`], read with `type` first: see `tag_first`).

use serde::{Deserialize, Serialize};

use crate::chat::{
    ChatMessage, ConversationState, PageInfo, ProfileView, Prompt, Resume, TicketLink,
};
use crate::{ConversationId, ConversationStatus, IdentityText, ProtocolError, Seq};

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
        /// The browser's languages, most preferred first (`navigator.languages`):
        /// the widget speaks the first it can, unless the profile picks one.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        languages: Vec<String>,
        /// Who the host page says the visitor is (`Porchlight.identify`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        identity: Option<IdentityText>,
    },
    /// The host page identified the visitor, or changed their context, mid-session:
    /// an anonymous chat is upgraded in place. Answered with a new `welcome` when the
    /// visitor turns out to be someone with a chat of their own.
    Identify { identity: IdentityText },
    /// A message, or the answer to the bot's prompt; starts a new conversation when the
    /// visitor has none open.
    Send { client_msg_id: String, body: String },
    /// The visitor ends the conversation.
    EndChat,
    /// The visitor is typing (sent at most every few seconds while they do; never
    /// stored).
    Typing,
    /// The visitor rates their chat after it ended (1 to 5; thumbs are 1 or 5), with
    /// an optional comment. Rating again replaces the rating.
    Rate {
        score: u8,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        comment: Option<String>,
    },
    /// Email the current (or just ended) chat's transcript to `email`. Only where the
    /// profile view says `email_transcript`; an address gets a few such emails a day.
    EmailTranscript { email: String },
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
    /// The agent in the chat is typing: show it for a few seconds, or until their
    /// message arrives.
    Typing(Typing),
    /// The rating is stored.
    Rated(Rated),
    /// The transcript is queued for sending to `email`.
    TranscriptQueued(TranscriptQueued),
    Error(ProtocolError),
}

/// The body of [`VisitorEvent::TranscriptQueued`].
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct TranscriptQueued {
    pub conversation_id: ConversationId,
    pub email: String,
}

/// The body of [`VisitorEvent::Rated`].
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Rated {
    pub conversation_id: ConversationId,
    pub score: u8,
}

/// The body of [`VisitorEvent::Typing`].
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Typing {
    pub conversation_id: ConversationId,
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
