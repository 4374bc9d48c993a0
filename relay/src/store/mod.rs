//! Durable state behind one narrow trait, so that a second backend (Postgres, for
//! several relays) can come later without touching the handlers.

use std::collections::BTreeMap;

use async_trait::async_trait;

use crate::flow::AttachmentPolicy;
use crate::knowledge::{DocumentInfo, Hit, NewDocument, PutOutcome};
use crate::routing::{AccessLevel, ChatFacts, ChatRules};
use crate::timers::AbandonRules;
use porchlight_protocol::{
    AgentId, AgentInfo, AttachmentInfo, Author, CannedText, ChatMessage, ChatSummary,
    ConversationId, ConversationStatus, Seq, Source, TicketCategory, TicketChat, TicketLine,
    TicketNote,
};

mod knowledge;
mod schema;
pub use schema::SCHEMA_VERSION;
mod sqlite;

pub use sqlite::SqliteStore;

/// When an acknowledged message is safe.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Durability {
    /// Survives power loss: every commit is fsynced (`synchronous=FULL`).
    #[default]
    Full,
    /// Survives a crashed or killed relay, not a power cut (`synchronous=NORMAL`):
    /// lower tail latency on slow disks.
    Normal,
}

impl std::str::FromStr for Durability {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "full" => Ok(Self::Full),
            "normal" => Ok(Self::Normal),
            other => Err(format!("\"{other}\" is not a durability (full, normal)")),
        }
    }
}

pub type SiteId = i64;
pub type VisitorId = i64;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the conversation does not exist")]
    NotFound,
    #[error("the conversation has ended")]
    ConversationEnded,
    #[error("the agent has not joined this conversation")]
    NotJoined,
    #[error("that name or email is already taken")]
    Duplicate,
    #[error("that would leave no admin")]
    LastAdmin,
    #[error("the conversation changed while this was being worked out")]
    Conflict,
    #[error("the write batch failed: {0}")]
    Batch(String),
    #[error("the store is closed")]
    Closed,
    #[error("cannot open the data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
}

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
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visitor {
    pub id: VisitorId,
    pub site_id: SiteId,
    pub display_name: String,
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

    fn parse(text: &str) -> Self {
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
}

impl Agent {
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
}

impl Conversation {
    /// The visitor may send files now: only in live chat, by the agent's override or
    /// else the policy. (No visitor is identified until the identify API exists.)
    pub fn uploads_allowed(&self) -> bool {
        let live = matches!(
            self.status,
            ConversationStatus::Queued | ConversationStatus::Active
        );
        live && self
            .visitor_uploads
            .unwrap_or(self.upload_policy == AttachmentPolicy::Allow)
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

    pub fn summary(&self) -> ChatSummary {
        ChatSummary {
            conversation_id: self.id,
            status: self.status,
            visitor_name: self.visitor_name.clone(),
            agent: self.agent.clone(),
            queued_at: self.queued_at.unwrap_or(self.created_at),
            last_seq: self.last_seq,
            page_url: self.page_url.clone(),
            referrer: self
                .referrer
                .clone()
                .filter(|referrer| !referrer.is_empty()),
            browser: self
                .user_agent
                .as_deref()
                .map(crate::context::describe_browser),
            teams: self.teams.clone(),
            visitor_uploads: self.uploads_allowed(),
            uploads_switchable: self.uploads_switchable,
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
    /// Create a ticket with this subject and link it.
    pub ticket_subject: Option<String>,
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
}

/// One chat as reports and the CSV export see it. Times are Unix milliseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatRecord {
    pub id: ConversationId,
    pub created_at: i64,
    pub status: ConversationStatus,
    pub visitor_name: String,
    pub agent_name: Option<String>,
    pub teams: Vec<String>,
    pub queued_at: Option<i64>,
    pub agent_joined_at: Option<i64>,
    pub queue_ms: Option<i64>,
    pub ended_at: Option<i64>,
    /// `visitor`, `agent`, `bot`…
    pub ended_by: Option<String>,
    /// The first agent message.
    pub first_response_at: Option<i64>,
    pub messages: i64,
    pub page_url: Option<String>,
    pub ticket_id: Option<i64>,
}

/// One message for the CSV export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRecord {
    pub conversation_id: ConversationId,
    pub seq: i64,
    pub created_at: i64,
    pub author: String,
    pub author_name: Option<String>,
    pub kind: String,
    pub body: String,
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

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Creates the seed when the store has no site yet; says whether it did.
    async fn seed_if_empty(&self, seed: Seed) -> Result<bool, StoreError>;

    async fn site_by_key(&self, key: &str) -> Result<Option<Site>, StoreError>;
    async fn sites(&self) -> Result<Vec<Site>, StoreError>;

    async fn create_visitor(
        &self,
        site_id: SiteId,
        token_hash: String,
    ) -> Result<Visitor, StoreError>;
    async fn visitor_by_token(
        &self,
        site_id: SiteId,
        token_hash: &str,
    ) -> Result<Option<Visitor>, StoreError>;

    /// The visitor's open conversation if there is one, else a new one in `status`
    /// (`Bot` or `Queued`). Atomic, so two tabs at once share one conversation.
    async fn open_or_start_conversation(
        &self,
        new: NewConversation,
        status: ConversationStatus,
    ) -> Result<(Conversation, bool), StoreError>;
    /// Writes one turn of the bot flow atomically.
    async fn flow_turn(
        &self,
        id: ConversationId,
        turn: FlowTurn,
    ) -> Result<TurnOutcome, StoreError>;

    async fn profile(&self, id: i64) -> Result<Option<StoredProfile>, StoreError>;
    async fn all_profiles(&self) -> Result<Vec<StoredProfile>, StoreError>;
    /// Replaces profile `id`'s name and definition; `Duplicate` if the site already
    /// has another profile of that name, `NotFound` if there is no such profile.
    async fn update_profile(
        &self,
        id: i64,
        name: &str,
        definition: String,
    ) -> Result<StoredProfile, StoreError>;
    /// Makes profile `id` (of `site_id`) the site's chat profile.
    async fn set_default_profile(&self, site_id: SiteId, id: i64) -> Result<(), StoreError>;
    /// Creates or replaces the site's profile named `name`; optionally makes it the
    /// site's default.
    async fn save_profile(
        &self,
        site_id: SiteId,
        name: &str,
        definition: String,
        make_default: bool,
    ) -> Result<StoredProfile, StoreError>;
    async fn conversation(&self, id: ConversationId) -> Result<Option<Conversation>, StoreError>;
    async fn latest_conversation(
        &self,
        visitor_id: VisitorId,
    ) -> Result<Option<Conversation>, StoreError>;
    /// The most recently ended conversations, newest first.
    async fn recent_ended(&self, limit: usize) -> Result<Vec<Conversation>, StoreError>;
    /// Queued and active conversations (not those still with the bot), oldest first.
    async fn open_conversations(&self) -> Result<Vec<Conversation>, StoreError>;
    /// The chats waiting for an agent (the queue), oldest id first.
    async fn waiting_conversations(&self) -> Result<Vec<Conversation>, StoreError>;

    /// Stores a message with the conversation's next `seq`, once per `client_msg_id`
    /// (for a visitor: once across all their chats, so an outbox resent after a chat
    /// ended is answered with the original). Returns only after COMMIT.
    async fn append_message(&self, message: NewMessage) -> Result<Appended, StoreError>;
    /// Messages with `seq > after`, in order, at most `limit`.
    async fn messages_after(
        &self,
        id: ConversationId,
        after: Seq,
        limit: usize,
    ) -> Result<Vec<ChatMessage>, StoreError>;

    /// Gives a queued conversation to the agent, unless another agent got it first or
    /// the rules leave the agent no room. With `prevent_multiple_agents` off, an agent
    /// may also join an active chat beside its holder.
    async fn join(
        &self,
        id: ConversationId,
        agent: AgentInfo,
        rules: ChatRules,
    ) -> Result<JoinOutcome, StoreError>;

    /// Hands an active chat back to the queue for a team or one agent, with an event
    /// message; `NotJoined` unless `by` is in the chat (or `by_admin`).
    async fn transfer(
        &self,
        id: ConversationId,
        by: AgentInfo,
        by_admin: bool,
        to: TransferTarget,
    ) -> Result<(Conversation, ChatMessage), StoreError>;
    /// Every team's name.
    async fn team_names(&self) -> Result<Vec<String>, StoreError>;
    async fn statuses(&self) -> Result<Vec<Status>, StoreError>;
    async fn set_agent_access(&self, agent: AgentId, access: AccessLevel)
    -> Result<(), StoreError>;
    /// Puts the agent in exactly these teams (created if new).
    async fn set_agent_teams(&self, agent: AgentId, teams: Vec<String>) -> Result<(), StoreError>;
    /// Sets an agent's own limit of concurrent chats (`None`: no limit).
    async fn set_agent_capacity(
        &self,
        agent: AgentId,
        max_chats: Option<usize>,
    ) -> Result<(), StoreError>;
    async fn set_agent_status(&self, agent: AgentId, status: i64) -> Result<Status, StoreError>;
    async fn agent_snapshots(&self) -> Result<Vec<AgentSnapshot>, StoreError>;
    async fn chat_rules(&self) -> Result<ChatRules, StoreError>;
    async fn set_chat_rules(&self, rules: ChatRules) -> Result<(), StoreError>;
    /// Ends an open conversation and records who did; `None` if it had already ended.
    async fn end(
        &self,
        id: ConversationId,
        by: Author,
        by_name: Option<String>,
    ) -> Result<Option<(Conversation, ChatMessage)>, StoreError>;

    /// Agents who belong to any of the named teams.
    async fn agents_in_teams(&self, teams: Vec<String>) -> Result<Vec<AgentId>, StoreError>;

    async fn create_agent(
        &self,
        email: &str,
        name: &str,
        role: Role,
        password_hash: String,
    ) -> Result<Agent, StoreError>;
    async fn agent_by_email(&self, email: &str) -> Result<Option<Agent>, StoreError>;
    async fn create_session(
        &self,
        agent_id: AgentId,
        token_hash: String,
        expires_at: i64,
    ) -> Result<(), StoreError>;
    async fn agent_by_session(
        &self,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<Agent>, StoreError>;
    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError>;

    /// Every agent, by name.
    async fn agent_accounts(&self) -> Result<Vec<AgentAccount>, StoreError>;
    /// Saves an agent's name, role, teams (which must exist), access level and
    /// capacity in one transaction; `NotFound` for no such agent or team, `LastAdmin`
    /// when it would leave no admin.
    async fn update_agent(&self, account: AgentAccount) -> Result<(), StoreError>;
    /// `Duplicate` when the team exists.
    async fn create_team(&self, name: String) -> Result<(), StoreError>;
    /// Creates (`id` 0) or changes a status; `Duplicate` for a name in use.
    async fn save_status(&self, status: Status) -> Result<Status, StoreError>;

    /// Records a stored file and posts it as `message` (whose `attachment` describes
    /// it), in one transaction.
    async fn add_attachment(
        &self,
        file: StoredAttachment,
        message: NewMessage,
    ) -> Result<Appended, StoreError>;
    async fn attachment(&self, storage_key: &str) -> Result<Option<StoredAttachment>, StoreError>;
    /// Sets an agent's override of visitor uploads for the chat (`None`: the policy).
    async fn set_visitor_uploads(
        &self,
        id: ConversationId,
        allowed: Option<bool>,
    ) -> Result<Conversation, StoreError>;

    /// The latest tickets (or just ticket `only`), newest first, with their requester,
    /// agent and latest chat.
    async fn tickets(&self, only: Option<i64>, limit: usize)
    -> Result<Vec<TicketLine>, StoreError>;
    /// The ticket category fields, by name.
    async fn ticket_categories(&self) -> Result<Vec<TicketCategory>, StoreError>;
    /// Adds a category field; `Duplicate` for a name in use.
    async fn create_ticket_category(&self, category: TicketCategory) -> Result<(), StoreError>;
    /// A ticket's category values, by category name.
    async fn ticket_category_values(&self, id: i64)
    -> Result<BTreeMap<String, String>, StoreError>;
    /// Sets category values on a ticket; `NotFound` for an unknown category or a value
    /// it does not have.
    async fn set_ticket_categories(
        &self,
        id: i64,
        values: BTreeMap<String, String>,
    ) -> Result<(), StoreError>;
    /// Opens a ticket (`requester` none: made by an agent).
    async fn create_ticket(
        &self,
        site_id: SiteId,
        subject: String,
        team: Option<String>,
        agent: Option<AgentId>,
    ) -> Result<i64, StoreError>;
    /// `open` or `closed`; `NotFound` for no such ticket.
    async fn set_ticket_status(&self, id: i64, status: &'static str) -> Result<(), StoreError>;
    /// The site a ticket belongs to.
    async fn ticket_site(&self, id: i64) -> Result<Option<SiteId>, StoreError>;
    /// A ticket's notes and linked chats (oldest first).
    async fn ticket_notes_and_chats(
        &self,
        id: i64,
    ) -> Result<(Vec<TicketNote>, Vec<TicketChat>), StoreError>;
    /// Assigns the ticket to `agent` (or no one); a ticket without a team takes the
    /// agent's default team. `NotFound` for no such ticket.
    async fn assign_ticket(&self, id: i64, agent: Option<AgentId>) -> Result<(), StoreError>;

    /// `(agent_joined_at, queue_ms)` of the chats agents joined since `since`.
    async fn queue_times_since(&self, since: i64) -> Result<Vec<(i64, i64)>, StoreError>;

    /// Chats started in `[from, to)` (Unix ms), oldest first.
    async fn chat_records(&self, from: i64, to: i64) -> Result<Vec<ChatRecord>, StoreError>;
    /// The messages of the chats started in `[from, to)`, by chat and seq.
    async fn message_records(&self, from: i64, to: i64) -> Result<Vec<MessageRecord>, StoreError>;

    /// Posts a wait message (as the bot) if the chat still waits and has posted
    /// `sent_before` of them.
    async fn post_wait_message(
        &self,
        id: ConversationId,
        bot_name: String,
        body: String,
        sent_before: u32,
    ) -> Result<Option<ChatMessage>, StoreError>;
    /// Asks "are you still there?" (as the bot) if the chat still waits unasked.
    async fn ask_still_there(
        &self,
        id: ConversationId,
        bot_name: String,
        body: String,
    ) -> Result<Option<ChatMessage>, StoreError>;
    /// The visitor answered "I'm still here": says whether they had been asked.
    async fn confirm_still_there(&self, id: ConversationId) -> Result<bool, StoreError>;
    /// Ends a chat that still waits as abandoned; optionally closes its ticket and sets
    /// category values on it.
    async fn abandon(
        &self,
        id: ConversationId,
        close_ticket: bool,
        categories: BTreeMap<String, String>,
    ) -> Result<Option<(Conversation, ChatMessage)>, StoreError>;
    async fn abandon_rules(&self) -> Result<AbandonRules, StoreError>;
    async fn set_abandon_rules(&self, rules: AbandonRules) -> Result<(), StoreError>;

    /// Canned texts by group, then title.
    async fn canned_texts(&self) -> Result<Vec<CannedText>, StoreError>;
    /// Creates (`id` 0) or replaces a canned text; `Duplicate` when its group already
    /// has one of that title, `NotFound` when `id` does not exist.
    async fn save_canned(&self, text: CannedText) -> Result<CannedText, StoreError>;
    /// `NotFound` when there is no such canned text.
    async fn delete_canned(&self, id: i64) -> Result<(), StoreError>;

    /// Waits until every write sent before it is committed.
    // Knowledge (see `crate::knowledge`).
    /// Stores a document, replacing the one from the same source.
    async fn kb_put(&self, site: SiteId, document: NewDocument) -> Result<PutOutcome, StoreError>;
    async fn kb_documents(&self, site: SiteId) -> Result<Vec<DocumentInfo>, StoreError>;
    /// False when the site has no such document.
    async fn kb_delete(&self, site: SiteId, id: i64) -> Result<bool, StoreError>;
    /// bm25 ranking for an FTS5 query, best first.
    async fn kb_keyword(
        &self,
        site: SiteId,
        fts: String,
        limit: usize,
    ) -> Result<Vec<Hit>, StoreError>;
    /// Passage ids nearest the vector, among those embedded with `model`.
    async fn kb_nearest(
        &self,
        site: SiteId,
        model: String,
        vector: Vec<f32>,
        limit: usize,
    ) -> Result<Vec<i64>, StoreError>;
    async fn kb_hits(&self, ids: Vec<i64>) -> Result<Vec<Hit>, StoreError>;
    /// Passages (id, heading and text) with no vector from `model`.
    async fn kb_unembedded(
        &self,
        model: String,
        limit: usize,
    ) -> Result<Vec<(i64, String)>, StoreError>;
    async fn kb_set_embeddings(
        &self,
        model: String,
        vectors: Vec<(i64, Vec<f32>)>,
    ) -> Result<(), StoreError>;

    /// A stored setting (JSON, by key), such as the AI provider set in the console.
    async fn setting(&self, key: &'static str) -> Result<Option<String>, StoreError>;
    async fn set_setting(&self, key: &'static str, value: String) -> Result<(), StoreError>;

    async fn flush(&self) -> Result<(), StoreError>;
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
