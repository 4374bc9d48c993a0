//! The console's socket: what it sends ([`AgentRequest`]) and what the relay sends it
//! ([`AgentEvent`]).

use serde::{Deserialize, Serialize};

use crate::chat::{AgentInfo, ChatMessage, is_false};
use crate::visitor::Ack;
use crate::{AgentId, ConversationId, ConversationStatus, ProtocolError, Seq};

/// One line of the console's chat list.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ChatSummary {
    pub conversation_id: ConversationId,
    pub status: ConversationStatus,
    /// Who the visitor is to the relay (for an admin's export or erasure of their data).
    pub visitor_id: i64,
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
    /// The ticket the chat is linked to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_id: Option<i64>,
    /// The visitor's rating (1 to 5) and comment, once they gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating_comment: Option<String>,
    /// The visitor's browser language (`de-AT`), for a reply sent in it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visitor_language: Option<String>,
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
    /// A private note in a chat this agent may see: other agents see it, the visitor
    /// never does. Resent with the same `client_msg_id` after a reconnect, stored once.
    Note {
        conversation_id: ConversationId,
        client_msg_id: String,
        body: String,
    },
    /// The agent in the chat is typing (sent at most every few seconds while they do;
    /// never stored).
    Typing {
        conversation_id: ConversationId,
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
    /// A ticket appeared or its chat changed: the Tickets page reloads its list
    /// (which tickets an agent may see is the HTTP API's to say, so none is named).
    TicketsChanged,
    /// This agent won the conversation.
    Joined {
        conversation_id: ConversationId,
    },
    /// The team's automatic assignment gave this agent the conversation: they are in it.
    Assigned {
        conversation_id: ConversationId,
    },
    Ack(Ack),
    Message(ChatMessage),
    /// A private note, stored (the writer's own comes back with its `client_msg_id`).
    Note(Note),
    /// The visitor is typing in this chat: show it for a few seconds, or until their
    /// message arrives.
    Typing {
        conversation_id: ConversationId,
    },
    Error(ProtocolError),
}

/// A private note in a chat: for agents only, never on the visitor's socket, never in
/// a transcript the visitor gets. Notes are not messages: they take no `seq`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub id: i64,
    pub conversation_id: ConversationId,
    pub client_msg_id: String,
    pub author: AgentInfo,
    pub body: String,
    /// Milliseconds since the Unix epoch.
    pub at: i64,
}
