//! What the store reads and writes: the rows of each table as Rust values. Plain
//! data; the rules that use it live with the chat.

use porchlight_protocol::{
    AgentId, AgentInfo, AttachmentInfo, Author, ChatMessage, ConversationId, ConversationStatus,
    Seq, Source,
};

use crate::store::settings::{AccessLevel, AttachmentPolicy};

pub type SiteId = i64;
pub type VisitorId = i64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    pub id: SiteId,
    pub key: String,
    pub name: String,
    /// Origins allowed to embed the widget, besides the relay's own.
    pub allowed_origins: Vec<String>,
    pub default_profile_id: Option<i64>,
    /// Signs links to tickets (`data-ticket-token`); known to the site's server only.
    pub secret: String,
    /// Days after which ended chats and their files are deleted; `None` keeps them.
    pub retention_days: Option<u32>,
    /// A visitor's user id counts only with a token made with `secret`.
    pub require_verified_identity: bool,
}

/// A site an admin adds, with its first chat profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSiteRow {
    pub key: String,
    pub name: String,
    pub allowed_origins: Vec<String>,
    pub profile_name: String,
    pub profile_definition: String,
}

/// What an admin may change on a site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteChange {
    pub name: String,
    pub allowed_origins: Vec<String>,
    /// Must be one of the site's own profiles.
    pub default_profile_id: Option<i64>,
    pub retention_days: Option<u32>,
    pub require_verified_identity: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visitor {
    pub id: VisitorId,
    pub site_id: SiteId,
    pub display_name: String,
    /// Their browser's languages (BCP 47 tags, comma-separated, most preferred first),
    /// as the widget last said.
    pub language: Option<String>,
    /// The site's id for the person, once identified.
    pub user_id: Option<String>,
    /// `user_id` was proven with the site's secret: this visitor's chats are theirs
    /// on any browser, and shown only with a proof.
    pub verified: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Admin,
    Agent,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Agent => "agent",
        }
    }

    pub fn parse(text: &str) -> Self {
        if text == "admin" {
            Self::Admin
        } else {
            Self::Agent
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    pub id: AgentId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub password_hash: String,
    /// Which chats they may list, open and join.
    pub access: AccessLevel,
    /// May switch visitor uploads per chat (where the profile allows it).
    pub can_toggle_uploads: bool,
    /// Logged in with a one-time password: must choose their own before anything else.
    pub must_change_password: bool,
    /// A one-time password is refused after this (Unix ms).
    pub password_expires_at: Option<i64>,
    /// A deactivated agent cannot log in; their sessions are gone.
    pub active: bool,
}

impl Agent {
    /// An account just created: active, seeing every chat, with nothing else set.
    pub fn created(
        id: AgentId,
        email: &str,
        name: &str,
        role: Role,
        password_hash: String,
    ) -> Self {
        Self {
            access: AccessLevel::All,
            id,
            email: email.to_owned(),
            name: name.to_owned(),
            role,
            password_hash,
            can_toggle_uploads: false,
            must_change_password: false,
            password_expires_at: None,
            active: true,
        }
    }

    pub fn info(&self) -> AgentInfo {
        AgentInfo {
            id: self.id,
            name: self.name.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    pub id: ConversationId,
    pub site_id: SiteId,
    pub visitor_id: VisitorId,
    pub visitor_name: String,
    pub profile_id: Option<i64>,
    pub status: ConversationStatus,
    pub current_step: Option<String>,
    pub agent: Option<AgentInfo>,
    pub created_at: i64,
    pub queued_at: Option<i64>,
    pub agent_joined_at: Option<i64>,
    pub queue_ms: Option<i64>,
    pub ended_at: Option<i64>,
    pub ticket_id: Option<i64>,
    pub last_seq: Seq,
    pub page_url: Option<String>,
    pub referrer: Option<String>,
    /// The widget's `User-Agent` header.
    pub user_agent: Option<String>,
    /// Visitor uploads as the flow's start_live_chat step set them.
    pub upload_policy: AttachmentPolicy,
    /// The profile lets agents with the permission override `upload_policy`.
    pub uploads_switchable: bool,
    /// An agent's override for this chat; `None` follows the policy.
    pub visitor_uploads: Option<bool>,
    /// Waiting: wait messages posted, and the "are you still there?" question.
    pub wait_messages_sent: u32,
    pub still_there_asked_at: Option<i64>,
    pub still_there_at: Option<i64>,
    /// The teams the chat is routed to (from the flow's start_live_chat or a transfer).
    pub teams: Vec<String>,
    /// A transfer to one agent: only they are rung.
    pub target_agent: Option<AgentId>,
    /// The bot flow's state (JSON of `flow::FlowState`); `None` before the flow ran.
    pub flow_state: Option<String>,
    /// The AI agent's answers below its confidence threshold in this chat.
    pub ai_failed: u32,
    /// The visitor's rating once the chat ended (1 to 5), and their comment.
    pub rating: Option<u8>,
    pub rating_comment: Option<String>,
    /// The visitor's browser languages, most preferred first, comma-separated
    /// (`pt-BR,es`): for replies in the first, and the transcript in the widget's.
    pub visitor_languages: Option<String>,
    /// The site's id for the visitor, once identified (proven or, where the site
    /// allows it, not).
    pub visitor_user_id: Option<String>,
    /// The address the site gave for the visitor.
    pub visitor_email: Option<String>,
    /// `visitor_user_id` was proven with the site's secret: the chat is shown, and
    /// takes files, only with a live proof.
    pub visitor_verified: bool,
}

/// What the AI agent has answered, counted as an answer starts (see
/// [`crate::store::AiUsageStore::record_ai_answer`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AiUsage {
    /// Answers in this chat, this one included: it numbers the answer.
    pub chat: u32,
    /// Answers to this visitor today (UTC), in any chat.
    pub visitor_today: u32,
    /// Model calls for this site today (UTC).
    pub site_today: u32,
}

impl Conversation {
    /// The visitor may send files now: only in live chat, by the agent's override or
    /// else the policy (`identified`: once the site has said who they are).
    pub fn uploads_allowed(&self) -> bool {
        let live = matches!(
            self.status,
            ConversationStatus::Queued | ConversationStatus::Active
        );
        live && self.visitor_uploads.unwrap_or(match self.upload_policy {
            AttachmentPolicy::Allow => true,
            AttachmentPolicy::Identified => self.visitor_user_id.is_some(),
            AttachmentPolicy::Prevent => false,
        })
    }

    /// What visibility needs to know about the chat.
    pub fn facts(&self) -> ChatFacts<'_> {
        ChatFacts {
            holder: self.agent.as_ref().map(|agent| agent.id),
            target_agent: self.target_agent,
            teams: &self.teams,
            waiting: self.status == ConversationStatus::Queued,
        }
    }
}

/// What a message is, beyond who wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    /// Typed by a person (or the bot's text).
    Text,
    /// A change of state: joined, ended.
    Event,
}

impl MessageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Event => "event",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    pub conversation_id: ConversationId,
    pub client_msg_id: Option<String>,
    pub author: Author,
    /// The visitor's or agent's id. An agent's message is refused unless that agent
    /// holds the conversation.
    pub author_id: Option<i64>,
    pub author_name: Option<String>,
    pub kind: MessageKind,
    pub body: String,
    /// An answer's typed value (an input step's normalised answer, a choice's label).
    pub value: Option<String>,
    /// The flow step the message answers or belongs to.
    pub step_id: Option<String>,
    /// A file sent as this message.
    pub attachment: Option<AttachmentInfo>,
    /// An AI answer's citations.
    pub sources: Vec<Source>,
}

impl NewMessage {
    /// Plain text from the visitor or an agent.
    pub fn text(
        conversation_id: ConversationId,
        client_msg_id: Option<String>,
        author: Author,
        author_id: Option<i64>,
        author_name: Option<String>,
        body: String,
    ) -> Self {
        Self {
            conversation_id,
            client_msg_id,
            author,
            author_id,
            author_name,
            kind: MessageKind::Text,
            body,
            value: None,
            step_id: None,
            attachment: None,
            sources: Vec::new(),
        }
    }
}

/// A stored chat profile (its definition is the JSON of `flow::Profile`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredProfile {
    pub id: i64,
    pub site_id: SiteId,
    pub name: String,
    pub definition: String,
    pub updated_at: i64,
}

/// One turn of a conversation's bot flow, written in one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowTurn {
    /// The flow state the turn was computed from; if another turn changed it first,
    /// nothing is written and the outcome is [`TurnOutcome::Conflict`].
    pub expected_state: Option<String>,
    /// The visitor's message (an answer), stored first.
    pub visitor_message: Option<NewMessage>,
    pub bot_name: String,
    pub bot_messages: Vec<String>,
    pub flow_state: String,
    pub current_step: Option<String>,
    /// Hand the conversation to the live-chat queue...
    pub queue: bool,
    /// ...routed to these teams (empty: any available agent)...
    pub queue_teams: Vec<String>,
    /// ...with this visitor-upload policy, which agents may override if `true`.
    pub upload_policy: (AttachmentPolicy, bool),
    /// End the conversation.
    pub end: bool,
    /// Create a ticket with this subject and link it...
    pub ticket_subject: Option<String>,
    /// ...and email the visitor (address, text; `$TICKETID` filled when sent).
    pub ticket_acknowledgement: Option<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TurnOutcome {
    /// Written; `messages` in seq order (the visitor's first, if any).
    Applied {
        conversation: Box<Conversation>,
        messages: Vec<ChatMessage>,
    },
    /// The visitor's message was already stored: this is it, nothing else changed.
    Duplicate(ChatMessage),
    /// The conversation moved on (another tab answered, or it left the bot).
    Conflict,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    pub message: ChatMessage,
    /// The `client_msg_id` was already stored: this is the original, nothing new was written.
    pub duplicate: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JoinOutcome {
    /// This agent now holds the conversation; the event message says so.
    Joined(Box<(Conversation, ChatMessage)>),
    /// Someone else holds it.
    Taken,
    /// It is still with the bot, not waiting for an agent.
    NotQueued,
    /// The agent may not take another chat now (one-chat rule or their capacity).
    AtCapacity,
    /// Through tickets, only the linked ticket's assigned agent may join.
    NotTicketAgent,
    Ended,
    NotFound,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewConversation {
    pub site_id: SiteId,
    pub visitor_id: VisitorId,
    pub profile_id: Option<i64>,
    pub page_url: Option<String>,
    pub referrer: Option<String>,
    pub user_agent: Option<String>,
    /// The ticket the chat is about (from a signed page link).
    pub ticket_id: Option<i64>,
}

impl NewConversation {
    /// A chat of `visitor_id` on `site_id`, with nothing known of where it started.
    pub fn of_visitor(site_id: SiteId, visitor_id: VisitorId) -> Self {
        Self {
            site_id,
            visitor_id,
            profile_id: None,
            page_url: None,
            referrer: None,
            user_agent: None,
            ticket_id: None,
        }
    }
}

/// Where a transferred chat goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferTarget {
    Team(String),
    Agent(AgentInfo),
}

/// An agent status; `counts_online` makes chats ring for agents in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub id: i64,
    pub name: String,
    pub counts_online: bool,
}

/// An agent's routing facts, read in one query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentSnapshot {
    pub id: AgentId,
    pub name: String,
    /// Team names.
    pub teams: Vec<String>,
    pub status_id: Option<i64>,
    /// Their status counts as online for live chat.
    pub status_online: bool,
    /// Live chats they are in now.
    pub active_chats: usize,
    pub max_chats: Option<usize>,
}

/// An agent as the admin pages show and change them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentAccount {
    pub id: AgentId,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// Team names.
    pub teams: Vec<String>,
    pub access: AccessLevel,
    pub max_chats: Option<usize>,
    pub can_toggle_uploads: bool,
    /// One of `teams`: where a ticket they take without a team goes.
    pub default_team: Option<String>,
    /// Deactivated agents cannot log in.
    pub active: bool,
}

/// A file stored under `DATA/attachments/<storage_key>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAttachment {
    pub conversation_id: ConversationId,
    pub storage_key: String,
    pub name: String,
    pub content_type: String,
    pub size: u64,
}

/// What first start creates: a demo site, its profile, a team and an admin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seed {
    pub site_key: String,
    pub site_name: String,
    pub profile_name: String,
    pub profile_definition: String,
    pub team_name: String,
    pub admin_email: String,
    pub admin_name: String,
    pub admin_password_hash: String,
}

/// A chat as visibility sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChatFacts<'a> {
    pub holder: Option<AgentId>,
    pub target_agent: Option<AgentId>,
    pub teams: &'a [String],
    pub waiting: bool,
}

/// A JSON column as its value; empty when unset (or not the JSON it should be).
pub(crate) fn json_or_default<T: serde::de::DeserializeOwned + Default>(text: Option<String>) -> T {
    text.as_deref()
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or_default()
}
