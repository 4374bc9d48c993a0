//! Durable state behind one backend-neutral trait: the handlers and the chat runtime
//! call [`Store`]; `sqlite/` is the embedded backend (one file per table group, plain
//! functions over a connection). Nothing SQLite-specific crosses the trait: errors are
//! [`StoreError`], rows are the plain data of [`model`] and [`knowledge`].

use std::collections::BTreeMap;

use async_trait::async_trait;
use porchlight_protocol::api::canned::CannedText;
use porchlight_protocol::api::people::{Assignment, TeamAssignment};
use porchlight_protocol::{
    AgentId, AgentInfo, Author, ChatMessage, ConversationId, ConversationStatus, Seq,
};

pub mod api_keys;
mod chat_events;
pub mod clock;
mod durability;
pub mod emails;
pub mod erasure;
mod error;
pub mod knowledge;
pub mod listing;
pub mod model;
pub mod notes;
mod postgres;
pub mod ratings;
mod reports;
pub mod search;
pub mod settings;
mod sqlite;
mod tickets;
mod vectors;
pub mod visitors;
mod webhook_events;
pub mod webhooks;

pub use clock::now_ms;
pub use durability::Durability;
pub use error::StoreError;
use knowledge::{DocumentInfo, Hit, NewDocument, PutOutcome};
pub use model::*;
pub use postgres::{FilesKept, PgStore};
pub use reports::*;
pub use settings::*;
pub use sqlite::backup::{CopyCounts, check_copy, snapshot};
pub use sqlite::{CommitStats, DB_FILE, SqliteStore};
pub use tickets::TicketStore;
pub use visitors::{ContactRow, IdentityUpdate};

/// Sites and the first start's seed.
#[async_trait]
pub trait SiteStore: Send + Sync {
    /// Creates the seed when the store has no site yet; says whether it did.
    async fn seed_if_empty(&self, seed: Seed) -> Result<bool, StoreError>;

    async fn site_by_key(&self, key: &str) -> Result<Option<Site>, StoreError>;

    async fn site(&self, id: SiteId) -> Result<Option<Site>, StoreError>;

    async fn sites(&self) -> Result<Vec<Site>, StoreError>;

    /// Adds a site with its first profile as its default; `Duplicate` if the key is taken.
    async fn create_site(&self, new: NewSiteRow) -> Result<Site, StoreError>;

    /// `NotFound` if the site does not exist or the profile is not the site's.
    async fn update_site(&self, id: SiteId, change: SiteChange) -> Result<Site, StoreError>;
}

/// Conversations: starting one, the bot flow's turns, joining, transferring, ending.
#[async_trait]
pub trait ConversationStore: Send + Sync {
    /// The visitor's open conversation if there is one, else a new one in `status`
    /// (`Bot` or `Queued`). Atomic, so two tabs at once share one conversation.
    async fn open_or_start_conversation(
        &self,
        new: NewConversation,
        status: ConversationStatus,
    ) -> Result<(Conversation, bool), StoreError>;

    async fn conversation(&self, id: ConversationId) -> Result<Option<Conversation>, StoreError>;

    async fn latest_conversation(
        &self,
        visitor_id: VisitorId,
    ) -> Result<Option<Conversation>, StoreError>;

    /// Queued and active conversations (not those still with the bot), oldest first.
    async fn open_conversations(&self) -> Result<Vec<Conversation>, StoreError>;

    /// The chats waiting for an agent (the queue), oldest id first.
    async fn waiting_conversations(&self) -> Result<Vec<Conversation>, StoreError>;

    /// The most recently ended conversations, newest first.
    async fn recent_ended(&self, limit: usize) -> Result<Vec<Conversation>, StoreError>;

    /// Writes one turn of the bot flow atomically.
    async fn flow_turn(
        &self,
        id: ConversationId,
        turn: FlowTurn,
    ) -> Result<TurnOutcome, StoreError>;

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

    /// Ends an open conversation and records who did; `None` if it had already ended.
    async fn end(
        &self,
        id: ConversationId,
        by: Author,
        by_name: Option<String>,
    ) -> Result<Option<(Conversation, ChatMessage)>, StoreError>;

    /// Sets an agent's override of visitor uploads for the chat (`None`: the policy).
    async fn set_visitor_uploads(
        &self,
        id: ConversationId,
        allowed: Option<bool>,
    ) -> Result<Conversation, StoreError>;
}

/// Messages, each with its conversation's next `seq`, and the files sent as messages.
#[async_trait]
pub trait MessageStore: Send + Sync {
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

    /// Records a stored file and posts it as `message` (whose `attachment` describes
    /// it), in one transaction; `content`, the file's bytes, is kept with the row by a
    /// store that [keeps files](MessageStore::keeps_files).
    async fn add_attachment(
        &self,
        file: StoredAttachment,
        content: Option<Vec<u8>>,
        message: NewMessage,
    ) -> Result<Appended, StoreError>;

    async fn attachment(&self, storage_key: &str) -> Result<Option<StoredAttachment>, StoreError>;

    /// The last seq of each conversation of `ids` that exists, in one read (a cluster
    /// node checks what it follows against the store so).
    async fn last_seqs(
        &self,
        ids: Vec<ConversationId>,
    ) -> Result<Vec<(ConversationId, Seq)>, StoreError>;

    /// Whether the store keeps the files' bytes (PostgreSQL, so that every node of a
    /// cluster serves every file); SQLite's are in the data folder only.
    fn keeps_files(&self) -> bool;

    /// A file's bytes, when the store keeps them.
    async fn file_content(&self, storage_key: &str) -> Result<Option<Vec<u8>>, StoreError>;
}

/// Chat profiles, and which one each site uses.
#[async_trait]
pub trait ProfileStore: Send + Sync {
    async fn profile(&self, id: i64) -> Result<Option<StoredProfile>, StoreError>;

    async fn all_profiles(&self) -> Result<Vec<StoredProfile>, StoreError>;

    /// Makes profile `id` (of `site_id`) the site's chat profile.
    async fn set_default_profile(&self, site_id: SiteId, id: i64) -> Result<(), StoreError>;

    /// Replaces profile `id`'s name and definition; `Duplicate` if the site already
    /// has another profile of that name, `NotFound` if there is no such profile.
    async fn update_profile(
        &self,
        id: i64,
        name: &str,
        definition: String,
    ) -> Result<StoredProfile, StoreError>;

    /// Creates or replaces the site's profile named `name`; optionally makes it the
    /// site's default.
    async fn save_profile(
        &self,
        site_id: SiteId,
        name: &str,
        definition: String,
        make_default: bool,
    ) -> Result<StoredProfile, StoreError>;
}

/// Agents, their teams, statuses, access levels and load.
#[async_trait]
pub trait AgentStore: Send + Sync {
    /// Every agent, by name.
    async fn agent_accounts(&self) -> Result<Vec<AgentAccount>, StoreError>;

    async fn agent(&self, id: AgentId) -> Result<Option<Agent>, StoreError>;

    /// A new password (a one-time one when `one_time_until` says until when); every
    /// session of the agent ends.
    async fn set_password(
        &self,
        agent: AgentId,
        hash: String,
        one_time_until: Option<i64>,
    ) -> Result<(), StoreError>;

    /// Saves an agent's name, role, teams (which must exist), access level and
    /// capacity in one transaction; `NotFound` for no such agent or team, `LastAdmin`
    /// when it would leave no admin.
    async fn update_agent(&self, account: AgentAccount) -> Result<(), StoreError>;

    async fn create_agent(
        &self,
        email: &str,
        name: &str,
        role: Role,
        password_hash: String,
    ) -> Result<Agent, StoreError>;

    async fn agent_by_email(&self, email: &str) -> Result<Option<Agent>, StoreError>;

    /// Every team's name.
    async fn team_names(&self) -> Result<Vec<String>, StoreError>;

    /// `Duplicate` when the team exists.
    async fn create_team(&self, name: String) -> Result<(), StoreError>;

    /// Every team with how its chats are assigned.
    async fn team_assignments(&self) -> Result<Vec<TeamAssignment>, StoreError>;

    /// `NotFound` for no such team.
    async fn set_team_assignment(
        &self,
        team: String,
        assignment: Assignment,
    ) -> Result<(), StoreError>;

    /// Agents who belong to any of the named teams.
    async fn agents_in_teams(&self, teams: Vec<String>) -> Result<Vec<AgentId>, StoreError>;

    async fn statuses(&self) -> Result<Vec<Status>, StoreError>;

    /// Creates (`id` 0) or changes a status; `Duplicate` for a name in use.
    async fn save_status(&self, status: Status) -> Result<Status, StoreError>;

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
}

/// Console sessions, stored as token hashes.
#[async_trait]
pub trait SessionStore: Send + Sync {
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

    /// Every session of the agent ends.
    async fn end_sessions(&self, agent: AgentId) -> Result<(), StoreError>;
}

/// What happens to a chat while it waits for an agent.
#[async_trait]
pub trait WaitingStore: Send + Sync {
    /// `(agent_joined_at, queue_ms)` of the chats agents joined since `since`.
    async fn queue_times_since(&self, since: i64) -> Result<Vec<(i64, i64)>, StoreError>;

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
}

/// Relay-wide settings.
#[async_trait]
pub trait SettingStore: Send + Sync {
    async fn chat_rules(&self) -> Result<ChatRules, StoreError>;

    async fn set_chat_rules(&self, rules: ChatRules) -> Result<(), StoreError>;

    async fn abandon_rules(&self) -> Result<AbandonRules, StoreError>;

    async fn set_abandon_rules(&self, rules: AbandonRules) -> Result<(), StoreError>;

    /// A stored setting (JSON, by key), such as the AI provider set in the console.
    async fn setting(&self, key: &'static str) -> Result<Option<String>, StoreError>;

    async fn set_setting(&self, key: &'static str, value: String) -> Result<(), StoreError>;
}

/// Canned texts.
#[async_trait]
pub trait CannedStore: Send + Sync {
    /// Canned texts by group, then title.
    async fn canned_texts(&self) -> Result<Vec<CannedText>, StoreError>;

    /// Creates (`id` 0) or replaces a canned text; `Duplicate` when its group already
    /// has one of that title, `NotFound` when `id` does not exist.
    async fn save_canned(&self, text: CannedText) -> Result<CannedText, StoreError>;

    /// `NotFound` when there is no such canned text.
    async fn delete_canned(&self, id: i64) -> Result<(), StoreError>;
}

/// The site's knowledge: documents, passages, vectors (see `crate::knowledge`).
#[async_trait]
pub trait KnowledgeStore: Send + Sync {
    /// Stores a document, replacing the one from the same source.
    async fn kb_put(&self, site: SiteId, document: NewDocument) -> Result<PutOutcome, StoreError>;

    async fn kb_documents(&self, site: SiteId) -> Result<Vec<DocumentInfo>, StoreError>;

    /// False when the site has no such document.
    async fn kb_delete(&self, site: SiteId, id: i64) -> Result<bool, StoreError>;

    /// Passages matching any of `terms` (lower-case words), best first.
    async fn kb_keyword(
        &self,
        site: SiteId,
        terms: Vec<String>,
        limit: usize,
    ) -> Result<Vec<Hit>, StoreError>;

    /// Passage ids nearest the vector, among those embedded with `model`, each with
    /// its cosine similarity, nearest first; none while some passage of the site has no
    /// vector from `model` yet (the search is then by keywords alone).
    async fn kb_nearest(
        &self,
        site: SiteId,
        model: String,
        vector: Vec<f32>,
        limit: usize,
    ) -> Result<Vec<(i64, f32)>, StoreError>;

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
}

/// What the AI agent has answered: caps that a restart must not reset.
#[async_trait]
pub trait AiUsageStore: Send + Sync {
    /// Counts an answer starting in chat `id` on UTC day `day` (a model call for the
    /// site when `model_call`), and returns the counts with it.
    async fn record_ai_answer(
        &self,
        id: ConversationId,
        day: i64,
        model_call: bool,
    ) -> Result<AiUsage, StoreError>;
    /// Counts a low-confidence answer in chat `id`; returns the chat's count.
    async fn record_ai_failure(&self, id: ConversationId) -> Result<u32, StoreError>;
}

/// Everything the relay keeps, in one value: `Arc<dyn Store>` is what the handlers and
/// the chat runtime hold. Each group of tables is its own trait (callable through
/// `dyn Store` without importing it); a backend implements them all.
#[async_trait]
pub trait Store:
    SiteStore
    + ConversationStore
    + MessageStore
    + ProfileStore
    + AgentStore
    + SessionStore
    + TicketStore
    + WaitingStore
    + ReportStore
    + SettingStore
    + CannedStore
    + KnowledgeStore
    + AiUsageStore
    + emails::EmailStore
    + erasure::ErasureStore
    + notes::NoteStore
    + ratings::RatingStore
    + search::SearchStore
    + visitors::VisitorStore
    + api_keys::ApiKeyStore
    + listing::ListingStore
    + webhooks::WebhookStore
    + Send
    + Sync
    + 'static
{
    async fn flush(&self) -> Result<(), StoreError>;
}
