//! The embedded backend. One thread owns the write connection and commits jobs in
//! batches (group commit): every job in a batch runs in its own savepoint inside one
//! `BEGIN IMMEDIATE` transaction, and no job is answered before the COMMIT. Reads go
//! to a small pool of read-only connections on tokio's blocking threads.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use porchlight_protocol::api::canned::CannedText;
use porchlight_protocol::api::tickets::{TicketCategory, TicketChat, TicketLine, TicketNote};
use porchlight_protocol::{
    AgentId, AgentInfo, Author, ChatMessage, ConversationId, ConversationStatus, Seq,
};
use rusqlite::{Connection, OpenFlags};
use tokio::sync::{mpsc, oneshot};

use super::knowledge::{DocumentInfo, Hit, NewDocument, PutOutcome};
use super::model::{
    AbandonRules, AccessLevel, Agent, AgentAccount, AgentSnapshot, Appended, ChatRecord, ChatRules,
    Conversation, FlowTurn, JoinOutcome, MessageRecord, NewConversation, NewMessage, Role, Seed,
    Site, SiteId, Status, StoredAttachment, StoredProfile, TransferTarget, TurnOutcome, Visitor,
    VisitorId,
};
use super::{Durability, Store, StoreError};

mod agents;
mod canned;
mod conversations;
mod knowledge;
mod messages;
mod profiles;
mod reports;
mod schema;
mod sessions;
mod settings;
mod sites;
mod tickets;
mod waiting;

impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> Self {
        Self::Backend(err.to_string())
    }
}

/// Answers a job once its batch is committed (or failed).
type Reply = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
/// Runs on the writer thread inside a savepoint; says whether to keep its changes.
/// Given no connection (its batch could not begin), it only hands back its reply.
type Job = Box<dyn FnOnce(Option<&Connection>) -> (bool, Reply) + Send>;

/// How many queued jobs one transaction takes at most.
const MAX_BATCH: usize = 512;
const READ_POOL_SIZE: usize = 4;
const DB_FILE: &str = "porchlight.sqlite3";

pub struct SqliteStore {
    writer: mpsc::Sender<Job>,
    readers: Arc<Vec<Mutex<Connection>>>,
    next_reader: AtomicUsize,
    path: PathBuf,
}

impl SqliteStore {
    /// Opens (creating if needed) `DIR/porchlight.sqlite3`, migrates it and starts the
    /// writer thread.
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        Self::open_with(data_dir, Durability::Full)
    }

    /// Like [`SqliteStore::open`], choosing when an acknowledged write is safe.
    pub fn open_with(data_dir: &Path, durability: Durability) -> Result<Self, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::DataDir {
            path: data_dir.display().to_string(),
            source,
        })?;
        let path = data_dir.join(DB_FILE);
        let mut write_conn = Connection::open(&path)?;
        configure(&write_conn)?;
        if durability == Durability::Normal {
            write_conn.pragma_update(None, "synchronous", "NORMAL")?;
        }
        write_conn.pragma_update(None, "journal_mode", "WAL")?;
        schema::migrate(&mut write_conn)?;

        let readers = (0..READ_POOL_SIZE)
            .map(|_| {
                let conn = Connection::open_with_flags(
                    &path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                configure(&conn)?;
                Ok(Mutex::new(conn))
            })
            .collect::<Result<Vec<_>, rusqlite::Error>>()?;

        let (writer, jobs) = mpsc::channel::<Job>(4096);
        std::thread::Builder::new()
            .name("porchlight-writer".into())
            .spawn(move || write_loop(write_conn, jobs))
            .map_err(|source| StoreError::DataDir {
                path: path.display().to_string(),
                source,
            })?;
        Ok(Self {
            writer,
            readers: Arc::new(readers),
            next_reader: AtomicUsize::new(0),
            path,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `job` on the writer thread; resolves after its batch commits.
    async fn write<T, F>(&self, job: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let Some(conn) = conn else {
                let reply: Reply = Box::new(move |committed: Result<(), StoreError>| {
                    let _ = tx.send(committed.and(Err(StoreError::Closed)));
                });
                return (false, reply);
            };
            let result = job(conn);
            let keep = result.is_ok();
            let reply: Reply = Box::new(move |committed| {
                let _ = tx.send(committed.and(result));
            });
            (keep, reply)
        });
        self.writer
            .send(job)
            .await
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    /// Runs `query` on a pooled read connection on a blocking thread.
    async fn read<T, F>(&self, query: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let index = self.next_reader.fetch_add(1, Ordering::Relaxed) % self.readers.len();
        let readers = Arc::clone(&self.readers);
        tokio::task::spawn_blocking(move || {
            let conn = readers[index]
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            query(&conn)
        })
        .await
        .map_err(|_| StoreError::Closed)?
    }
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // FULL: an acknowledged message survives power loss, not only a crashed process.
    // Group commit keeps the fsync per batch, not per message.
    conn.pragma_update(None, "synchronous", "FULL")?;
    Ok(())
}

fn write_loop(conn: Connection, mut jobs: mpsc::Receiver<Job>) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = jobs.blocking_recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        run_batch(&conn, &mut batch);
    }
}

fn run_batch(conn: &Connection, batch: &mut Vec<Job>) {
    if let Err(err) = conn.execute_batch("BEGIN IMMEDIATE") {
        tracing::error!(error = %err, "cannot begin a write transaction");
        let reason = err.to_string();
        // Nothing runs outside a transaction: each job is answered without running.
        for job in batch.drain(..) {
            let (_, reply) = job(None);
            reply(Err(StoreError::Batch(reason.clone())));
        }
        return;
    }
    let mut replies = Vec::with_capacity(batch.len());
    for job in batch.drain(..) {
        let savepoint = conn.execute_batch("SAVEPOINT job");
        let (keep, reply) = job(Some(conn));
        if savepoint.is_ok() {
            let end = if keep {
                "RELEASE job"
            } else {
                "ROLLBACK TO job; RELEASE job"
            };
            if let Err(err) = conn.execute_batch(end) {
                tracing::error!(error = %err, "cannot close a savepoint");
            }
        }
        replies.push(reply);
    }
    match conn.execute_batch("COMMIT") {
        Ok(()) => replies.into_iter().for_each(|reply| reply(Ok(()))),
        Err(err) => {
            tracing::error!(error = %err, "commit failed; the batch is rolled back");
            let _ = conn.execute_batch("ROLLBACK");
            let reason = err.to_string();
            for reply in replies {
                reply(Err(StoreError::Batch(reason.clone())));
            }
        }
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn seed_if_empty(&self, seed: Seed) -> Result<bool, StoreError> {
        self.write(move |conn| sites::seed_if_empty(conn, seed))
            .await
    }

    async fn site_by_key(&self, key: &str) -> Result<Option<Site>, StoreError> {
        let key = key.to_owned();
        self.read(move |conn| sites::site_by_key(conn, &key)).await
    }

    async fn sites(&self) -> Result<Vec<Site>, StoreError> {
        self.read(sites::sites).await
    }

    async fn create_visitor(
        &self,
        site_id: SiteId,
        token_hash: String,
    ) -> Result<Visitor, StoreError> {
        self.write(move |conn| sites::create_visitor(conn, site_id, token_hash))
            .await
    }

    async fn visitor_by_token(
        &self,
        site_id: SiteId,
        token_hash: &str,
    ) -> Result<Option<Visitor>, StoreError> {
        let token_hash = token_hash.to_owned();
        self.read(move |conn| sites::visitor_by_token(conn, site_id, &token_hash))
            .await
    }

    async fn open_or_start_conversation(
        &self,
        new: NewConversation,
        status: ConversationStatus,
    ) -> Result<(Conversation, bool), StoreError> {
        self.write(move |conn| conversations::open_or_start_conversation(conn, new, status))
            .await
    }

    async fn conversation(&self, id: ConversationId) -> Result<Option<Conversation>, StoreError> {
        self.read(move |conn| conversations::conversation(conn, id))
            .await
    }

    async fn latest_conversation(
        &self,
        visitor_id: VisitorId,
    ) -> Result<Option<Conversation>, StoreError> {
        self.read(move |conn| conversations::latest_conversation(conn, visitor_id))
            .await
    }

    async fn open_conversations(&self) -> Result<Vec<Conversation>, StoreError> {
        self.read(conversations::open_conversations).await
    }

    async fn waiting_conversations(&self) -> Result<Vec<Conversation>, StoreError> {
        self.read(conversations::waiting_conversations).await
    }

    async fn recent_ended(&self, limit: usize) -> Result<Vec<Conversation>, StoreError> {
        self.read(move |conn| conversations::recent_ended(conn, limit))
            .await
    }

    async fn flow_turn(
        &self,
        id: ConversationId,
        turn: FlowTurn,
    ) -> Result<TurnOutcome, StoreError> {
        self.write(move |conn| conversations::apply_turn(conn, id, &turn))
            .await
    }

    async fn join(
        &self,
        id: ConversationId,
        agent: AgentInfo,
        rules: ChatRules,
    ) -> Result<JoinOutcome, StoreError> {
        self.write(move |conn| conversations::join(conn, id, agent, rules))
            .await
    }

    async fn transfer(
        &self,
        id: ConversationId,
        by: AgentInfo,
        by_admin: bool,
        to: TransferTarget,
    ) -> Result<(Conversation, ChatMessage), StoreError> {
        self.write(move |conn| conversations::transfer(conn, id, by, by_admin, to))
            .await
    }

    async fn end(
        &self,
        id: ConversationId,
        by: Author,
        by_name: Option<String>,
    ) -> Result<Option<(Conversation, ChatMessage)>, StoreError> {
        self.write(move |conn| conversations::end(conn, id, by, by_name))
            .await
    }

    async fn set_visitor_uploads(
        &self,
        id: ConversationId,
        allowed: Option<bool>,
    ) -> Result<Conversation, StoreError> {
        self.write(move |conn| conversations::set_visitor_uploads(conn, id, allowed))
            .await
    }

    async fn append_message(&self, message: NewMessage) -> Result<Appended, StoreError> {
        self.write(move |conn| messages::insert_message(conn, &message))
            .await
    }

    async fn messages_after(
        &self,
        id: ConversationId,
        after: Seq,
        limit: usize,
    ) -> Result<Vec<ChatMessage>, StoreError> {
        self.read(move |conn| messages::messages_after(conn, id, after, limit))
            .await
    }

    async fn add_attachment(
        &self,
        file: StoredAttachment,
        message: NewMessage,
    ) -> Result<Appended, StoreError> {
        self.write(move |conn| messages::add_attachment(conn, file, message))
            .await
    }

    async fn attachment(&self, storage_key: &str) -> Result<Option<StoredAttachment>, StoreError> {
        let storage_key = storage_key.to_owned();
        self.read(move |conn| messages::attachment(conn, &storage_key))
            .await
    }

    async fn profile(&self, id: i64) -> Result<Option<StoredProfile>, StoreError> {
        self.read(move |conn| profiles::profile(conn, id)).await
    }

    async fn all_profiles(&self) -> Result<Vec<StoredProfile>, StoreError> {
        self.read(profiles::all_profiles).await
    }

    async fn set_default_profile(&self, site_id: SiteId, id: i64) -> Result<(), StoreError> {
        self.write(move |conn| profiles::set_default_profile(conn, site_id, id))
            .await
    }

    async fn update_profile(
        &self,
        id: i64,
        name: &str,
        definition: String,
    ) -> Result<StoredProfile, StoreError> {
        let name = name.to_owned();
        self.write(move |conn| profiles::update_profile(conn, id, &name, definition))
            .await
    }

    async fn save_profile(
        &self,
        site_id: SiteId,
        name: &str,
        definition: String,
        make_default: bool,
    ) -> Result<StoredProfile, StoreError> {
        let name = name.to_owned();
        self.write(move |conn| {
            profiles::save_profile(conn, site_id, &name, definition, make_default)
        })
        .await
    }

    async fn agent_accounts(&self) -> Result<Vec<AgentAccount>, StoreError> {
        self.read(agents::agent_accounts).await
    }

    async fn update_agent(&self, account: AgentAccount) -> Result<(), StoreError> {
        self.write(move |conn| agents::update_agent(conn, account))
            .await
    }

    async fn create_agent(
        &self,
        email: &str,
        name: &str,
        role: Role,
        password_hash: String,
    ) -> Result<Agent, StoreError> {
        let (email, name) = (email.to_owned(), name.to_owned());
        self.write(move |conn| agents::create_agent(conn, &email, &name, role, password_hash))
            .await
    }

    async fn agent_by_email(&self, email: &str) -> Result<Option<Agent>, StoreError> {
        let email = email.to_owned();
        self.read(move |conn| agents::agent_by_email(conn, &email))
            .await
    }

    async fn team_names(&self) -> Result<Vec<String>, StoreError> {
        self.read(agents::team_names).await
    }

    async fn create_team(&self, name: String) -> Result<(), StoreError> {
        self.write(move |conn| agents::create_team(conn, name))
            .await
    }

    async fn agents_in_teams(&self, teams: Vec<String>) -> Result<Vec<AgentId>, StoreError> {
        self.read(move |conn| agents::agents_in_teams(conn, teams))
            .await
    }

    async fn statuses(&self) -> Result<Vec<Status>, StoreError> {
        self.read(agents::statuses).await
    }

    async fn save_status(&self, status: Status) -> Result<Status, StoreError> {
        self.write(move |conn| agents::save_status(conn, status))
            .await
    }

    async fn set_agent_access(
        &self,
        agent: AgentId,
        access: AccessLevel,
    ) -> Result<(), StoreError> {
        self.write(move |conn| agents::set_agent_access(conn, agent, access))
            .await
    }

    async fn set_agent_teams(&self, agent: AgentId, teams: Vec<String>) -> Result<(), StoreError> {
        self.write(move |conn| agents::set_agent_teams(conn, agent, teams))
            .await
    }

    async fn set_agent_capacity(
        &self,
        agent: AgentId,
        max_chats: Option<usize>,
    ) -> Result<(), StoreError> {
        self.write(move |conn| agents::set_agent_capacity(conn, agent, max_chats))
            .await
    }

    async fn set_agent_status(&self, agent: AgentId, status: i64) -> Result<Status, StoreError> {
        self.write(move |conn| agents::set_agent_status(conn, agent, status))
            .await
    }

    async fn agent_snapshots(&self) -> Result<Vec<AgentSnapshot>, StoreError> {
        self.read(agents::agent_snapshots).await
    }

    async fn create_session(
        &self,
        agent_id: AgentId,
        token_hash: String,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        self.write(move |conn| sessions::create_session(conn, agent_id, token_hash, expires_at))
            .await
    }

    async fn agent_by_session(
        &self,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<Agent>, StoreError> {
        let token_hash = token_hash.to_owned();
        self.read(move |conn| sessions::agent_by_session(conn, &token_hash, now))
            .await
    }

    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        let token_hash = token_hash.to_owned();
        self.write(move |conn| sessions::delete_session(conn, &token_hash))
            .await
    }

    async fn tickets(
        &self,
        only: Option<i64>,
        limit: usize,
    ) -> Result<Vec<TicketLine>, StoreError> {
        self.read(move |conn| tickets::tickets(conn, only, limit))
            .await
    }

    async fn ticket_categories(&self) -> Result<Vec<TicketCategory>, StoreError> {
        self.read(tickets::ticket_categories).await
    }

    async fn create_ticket_category(&self, category: TicketCategory) -> Result<(), StoreError> {
        self.write(move |conn| tickets::create_ticket_category(conn, category))
            .await
    }

    async fn ticket_category_values(
        &self,
        id: i64,
    ) -> Result<BTreeMap<String, String>, StoreError> {
        self.read(move |conn| tickets::ticket_category_values(conn, id))
            .await
    }

    async fn set_ticket_categories(
        &self,
        id: i64,
        values: BTreeMap<String, String>,
    ) -> Result<(), StoreError> {
        self.write(move |conn| tickets::set_categories(conn, id, &values))
            .await
    }

    async fn create_ticket(
        &self,
        site_id: SiteId,
        subject: String,
        team: Option<String>,
        agent: Option<AgentId>,
    ) -> Result<i64, StoreError> {
        self.write(move |conn| tickets::create_ticket(conn, site_id, subject, team, agent))
            .await
    }

    async fn set_ticket_status(&self, id: i64, status: &'static str) -> Result<(), StoreError> {
        self.write(move |conn| tickets::set_ticket_status(conn, id, status))
            .await
    }

    async fn ticket_site(&self, id: i64) -> Result<Option<SiteId>, StoreError> {
        self.read(move |conn| tickets::ticket_site(conn, id)).await
    }

    async fn ticket_notes_and_chats(
        &self,
        id: i64,
    ) -> Result<(Vec<TicketNote>, Vec<TicketChat>), StoreError> {
        self.read(move |conn| tickets::ticket_notes_and_chats(conn, id))
            .await
    }

    async fn assign_ticket(&self, id: i64, agent: Option<AgentId>) -> Result<(), StoreError> {
        self.write(move |conn| tickets::assign_ticket(conn, id, agent))
            .await
    }

    async fn queue_times_since(&self, since: i64) -> Result<Vec<(i64, i64)>, StoreError> {
        self.read(move |conn| waiting::queue_times_since(conn, since))
            .await
    }

    async fn post_wait_message(
        &self,
        id: ConversationId,
        bot_name: String,
        body: String,
        sent_before: u32,
    ) -> Result<Option<ChatMessage>, StoreError> {
        self.write(move |conn| waiting::post_wait_message(conn, id, bot_name, body, sent_before))
            .await
    }

    async fn ask_still_there(
        &self,
        id: ConversationId,
        bot_name: String,
        body: String,
    ) -> Result<Option<ChatMessage>, StoreError> {
        self.write(move |conn| waiting::ask_still_there(conn, id, bot_name, body))
            .await
    }

    async fn confirm_still_there(&self, id: ConversationId) -> Result<bool, StoreError> {
        self.write(move |conn| waiting::confirm_still_there(conn, id))
            .await
    }

    async fn abandon(
        &self,
        id: ConversationId,
        close_ticket: bool,
        categories: BTreeMap<String, String>,
    ) -> Result<Option<(Conversation, ChatMessage)>, StoreError> {
        self.write(move |conn| waiting::abandon(conn, id, close_ticket, categories))
            .await
    }

    async fn chat_records(&self, from: i64, to: i64) -> Result<Vec<ChatRecord>, StoreError> {
        self.read(move |conn| reports::chat_records(conn, from, to))
            .await
    }

    async fn message_records(&self, from: i64, to: i64) -> Result<Vec<MessageRecord>, StoreError> {
        self.read(move |conn| reports::message_records(conn, from, to))
            .await
    }

    async fn chat_rules(&self) -> Result<ChatRules, StoreError> {
        self.read(settings::chat_rules).await
    }

    async fn set_chat_rules(&self, rules: ChatRules) -> Result<(), StoreError> {
        self.write(move |conn| settings::set_chat_rules(conn, rules))
            .await
    }

    async fn abandon_rules(&self) -> Result<AbandonRules, StoreError> {
        self.read(settings::abandon_rules).await
    }

    async fn set_abandon_rules(&self, rules: AbandonRules) -> Result<(), StoreError> {
        self.write(move |conn| settings::set_abandon_rules(conn, rules))
            .await
    }

    async fn setting(&self, key: &'static str) -> Result<Option<String>, StoreError> {
        self.read(move |conn| settings::setting(conn, key)).await
    }

    async fn set_setting(&self, key: &'static str, value: String) -> Result<(), StoreError> {
        self.write(move |conn| settings::set_setting(conn, key, value))
            .await
    }

    async fn canned_texts(&self) -> Result<Vec<CannedText>, StoreError> {
        self.read(canned::canned_texts).await
    }

    async fn save_canned(&self, text: CannedText) -> Result<CannedText, StoreError> {
        self.write(move |conn| canned::save_canned(conn, text))
            .await
    }

    async fn delete_canned(&self, id: i64) -> Result<(), StoreError> {
        self.write(move |conn| canned::delete_canned(conn, id))
            .await
    }

    async fn kb_put(&self, site: SiteId, document: NewDocument) -> Result<PutOutcome, StoreError> {
        self.write(move |conn| knowledge::put(conn, site, &document))
            .await
    }

    async fn kb_documents(&self, site: SiteId) -> Result<Vec<DocumentInfo>, StoreError> {
        self.read(move |conn| knowledge::documents(conn, site))
            .await
    }

    async fn kb_delete(&self, site: SiteId, id: i64) -> Result<bool, StoreError> {
        self.write(move |conn| knowledge::delete(conn, site, id))
            .await
    }

    async fn kb_keyword(
        &self,
        site: SiteId,
        terms: Vec<String>,
        limit: usize,
    ) -> Result<Vec<Hit>, StoreError> {
        self.read(move |conn| knowledge::keyword(conn, site, &terms, limit))
            .await
    }

    async fn kb_nearest(
        &self,
        site: SiteId,
        model: String,
        vector: Vec<f32>,
        limit: usize,
    ) -> Result<Vec<i64>, StoreError> {
        self.read(move |conn| knowledge::nearest(conn, site, &model, &vector, limit))
            .await
    }

    async fn kb_hits(&self, ids: Vec<i64>) -> Result<Vec<Hit>, StoreError> {
        self.read(move |conn| knowledge::hits(conn, &ids)).await
    }

    async fn kb_unembedded(
        &self,
        model: String,
        limit: usize,
    ) -> Result<Vec<(i64, String)>, StoreError> {
        self.read(move |conn| knowledge::unembedded(conn, &model, limit))
            .await
    }

    async fn kb_set_embeddings(
        &self,
        model: String,
        vectors: Vec<(i64, Vec<f32>)>,
    ) -> Result<(), StoreError> {
        self.write(move |conn| knowledge::set_embeddings(conn, &model, &vectors))
            .await
    }

    async fn flush(&self) -> Result<(), StoreError> {
        self.write(|_| Ok(())).await
    }
}

#[cfg(test)]
mod tests;
