//! The embedded backend. One thread owns the write connection and commits jobs in
//! batches (group commit): every job in a batch runs in its own savepoint inside one
//! `BEGIN IMMEDIATE` transaction, and no job is answered before the COMMIT. Reads go
//! to a small pool of read-only connections on tokio's blocking threads.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use porchlight_protocol::{
    AgentId, AgentInfo, Author, CannedText, ChatMessage, ConversationId, ConversationStatus, Seq,
    TicketCategory, TicketChat, TicketLine, TicketNote,
};
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, params};
use tokio::sync::{mpsc, oneshot};

use crate::flow::AttachmentPolicy;
use crate::knowledge::{DocumentInfo, Hit, NewDocument, PutOutcome};
use crate::routing::{AccessLevel, ChatRules};
use crate::timers::AbandonRules;

use super::{
    Agent, AgentAccount, AgentSnapshot, Appended, ChatRecord, Conversation, Durability, FlowTurn,
    JoinOutcome, MessageKind, MessageRecord, NewConversation, NewMessage, Role, Seed, Site, SiteId,
    Status, Store, StoreError, StoredAttachment, StoredProfile, TransferTarget, TurnOutcome,
    Visitor, VisitorId, knowledge, now_ms, schema,
};

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

const CONVERSATION_COLUMNS: &str = "c.id, c.site_id, c.visitor_id, v.display_name, c.profile_id, \
     c.status, c.current_step, c.agent_id, c.agent_name, c.created_at, c.queued_at, \
     c.agent_joined_at, c.queue_ms, c.ended_at, c.ticket_id, c.last_seq, c.page_url, c.flow_state, \
     c.teams, c.target_agent_id, c.referrer, c.user_agent, c.upload_policy, c.uploads_switchable, \
     c.visitor_uploads, c.wait_messages_sent, c.still_there_asked_at, c.still_there_at";

fn conversation_from_row(row: &Row<'_>) -> rusqlite::Result<Conversation> {
    let status: String = row.get(5)?;
    let agent_id: Option<AgentId> = row.get(7)?;
    let agent_name: Option<String> = row.get(8)?;
    Ok(Conversation {
        id: row.get(0)?,
        site_id: row.get(1)?,
        visitor_id: row.get(2)?,
        visitor_name: row.get(3)?,
        profile_id: row.get(4)?,
        status: ConversationStatus::parse(&status).unwrap_or(ConversationStatus::Ended),
        current_step: row.get(6)?,
        agent: agent_id.map(|id| AgentInfo {
            id,
            name: agent_name.unwrap_or_default(),
        }),
        created_at: row.get(9)?,
        queued_at: row.get(10)?,
        agent_joined_at: row.get(11)?,
        queue_ms: row.get(12)?,
        ended_at: row.get(13)?,
        ticket_id: row.get(14)?,
        last_seq: row.get::<_, i64>(15)?.try_into().unwrap_or(0),
        page_url: row.get(16)?,
        flow_state: row.get(17)?,
        teams: serde_json::from_str(&row.get::<_, String>(18)?).unwrap_or_default(),
        target_agent: row.get(19)?,
        referrer: row.get(20)?,
        user_agent: row.get(21)?,
        upload_policy: AttachmentPolicy::parse(&row.get::<_, String>(22)?)
            .unwrap_or(AttachmentPolicy::Prevent),
        uploads_switchable: row.get(23)?,
        visitor_uploads: row.get(24)?,
        wait_messages_sent: row.get(25)?,
        still_there_asked_at: row.get(26)?,
        still_there_at: row.get(27)?,
    })
}

fn load_conversation(
    conn: &Connection,
    id: ConversationId,
) -> rusqlite::Result<Option<Conversation>> {
    conn.query_row(
        &format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations c \
             JOIN visitors v ON v.id = c.visitor_id WHERE c.id = ?1"
        ),
        [id],
        conversation_from_row,
    )
    .optional()
}

const MESSAGE_COLUMNS: &str = "conversation_id, seq, author_kind, author_name, body, client_msg_id, created_at, attachment, sources";

fn message_from_row(row: &Row<'_>) -> rusqlite::Result<ChatMessage> {
    let author: String = row.get(2)?;
    Ok(ChatMessage {
        conversation_id: row.get(0)?,
        seq: row.get::<_, i64>(1)?.try_into().unwrap_or(0),
        author: Author::parse(&author).unwrap_or(Author::System),
        author_name: row.get(3)?,
        body: row.get(4)?,
        client_msg_id: row.get(5)?,
        at: row.get(6)?,
        attachment: row
            .get::<_, Option<String>>(7)?
            .and_then(|json| serde_json::from_str(&json).ok()),
        sources: row
            .get::<_, Option<String>>(8)?
            .and_then(|json| serde_json::from_str(&json).ok())
            .unwrap_or_default(),
    })
}

fn agent_from_row(row: &Row<'_>) -> rusqlite::Result<Agent> {
    let role: String = row.get(3)?;
    let access: String = row.get(5)?;
    Ok(Agent {
        access: AccessLevel::parse(&access).unwrap_or(AccessLevel::Own),
        id: row.get(0)?,
        email: row.get(1)?,
        name: row.get(2)?,
        role: Role::parse(&role),
        password_hash: row.get(4)?,
        can_toggle_uploads: row.get(6)?,
    })
}

/// Inserts a message with the conversation's next seq. Runs on the writer thread, so
/// the read-increment-insert cannot interleave with another writer: seqs have no gaps.
fn insert_message(conn: &Connection, message: &NewMessage) -> Result<Appended, StoreError> {
    if let Some(original) = existing_message(conn, message)? {
        return Ok(Appended {
            message: original,
            duplicate: true,
        });
    }
    let state: Option<(String, Option<AgentId>)> = conn
        .query_row(
            "SELECT status, agent_id FROM conversations WHERE id = ?1",
            [message.conversation_id],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    let Some((status, holder)) = state else {
        return Err(StoreError::NotFound);
    };
    if status == "ended" && message.kind != MessageKind::Event {
        return Err(StoreError::ConversationEnded);
    }
    if message.author == Author::Agent {
        let joined = holder == message.author_id
            || match message.author_id {
                Some(agent) => is_participant(conn, message.conversation_id, agent)?,
                None => false,
            };
        if status != "active" || !joined {
            return Err(StoreError::NotJoined);
        }
    }
    let now = now_ms();
    let seq: i64 = conn.query_row(
        "UPDATE conversations SET last_seq = last_seq + 1 WHERE id = ?1 RETURNING last_seq",
        [message.conversation_id],
        |row| row.get(0),
    )?;
    conn.execute(
        "INSERT INTO messages (conversation_id, seq, author_kind, author_id, author_name, kind, \
         body, value, step_id, client_msg_id, created_at, attachment, sources) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        params![
            message.conversation_id,
            seq,
            message.author.as_str(),
            message.author_id,
            message.author_name,
            message.kind.as_str(),
            message.body,
            message.value,
            message.step_id,
            message.client_msg_id,
            now,
            message
                .attachment
                .as_ref()
                .and_then(|attachment| serde_json::to_string(attachment).ok()),
            (!message.sources.is_empty())
                .then(|| serde_json::to_string(&message.sources).ok())
                .flatten(),
        ],
    )?;
    Ok(Appended {
        message: ChatMessage {
            conversation_id: message.conversation_id,
            seq: seq.try_into().unwrap_or(0),
            author: message.author,
            author_name: message.author_name.clone(),
            body: message.body.clone(),
            client_msg_id: message.client_msg_id.clone(),
            at: now,
            attachment: message.attachment.clone(),
            sources: message.sources.clone(),
        },
        duplicate: false,
    })
}

fn event(conversation_id: ConversationId, body: String) -> NewMessage {
    NewMessage {
        kind: MessageKind::Event,
        ..NewMessage::text(conversation_id, None, Author::System, None, None, body)
    }
}

/// The message this `client_msg_id` already names: in the conversation, or for a
/// visitor's message in any of that visitor's chats.
fn existing_message(
    conn: &Connection,
    message: &NewMessage,
) -> rusqlite::Result<Option<ChatMessage>> {
    let Some(client_msg_id) = &message.client_msg_id else {
        return Ok(None);
    };
    let here = conn
        .query_row(
            &format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages \
                 WHERE conversation_id = ?1 AND client_msg_id = ?2"
            ),
            params![message.conversation_id, client_msg_id],
            message_from_row,
        )
        .optional()?;
    if here.is_some() || message.author != Author::Visitor {
        return Ok(here);
    }
    conn.query_row(
        "SELECT m.conversation_id, m.seq, m.author_kind, m.author_name, m.body, \
         m.client_msg_id, m.created_at, m.attachment, m.sources FROM conversations c \
         JOIN conversations mine ON mine.id = ?1 AND mine.visitor_id = c.visitor_id \
         JOIN messages m ON m.conversation_id = c.id AND m.client_msg_id = ?2 \
         WHERE m.author_kind = 'visitor' LIMIT 1",
        params![message.conversation_id, client_msg_id],
        message_from_row,
    )
    .optional()
}

fn status_from_row(row: &Row<'_>) -> rusqlite::Result<Status> {
    Ok(Status {
        id: row.get(0)?,
        name: row.get(1)?,
        counts_online: row.get(2)?,
    })
}

fn is_participant(conn: &Connection, id: ConversationId, agent: AgentId) -> rusqlite::Result<bool> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM participants WHERE conversation_id = ?1 AND agent_id = ?2",
            params![id, agent],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// The agent's live chats now, and their own limit.
fn agent_load(conn: &Connection, agent: AgentId) -> rusqlite::Result<(usize, Option<usize>)> {
    let active: i64 = conn.query_row(
        "SELECT COUNT(*) FROM conversations c WHERE c.status = 'active' AND (c.agent_id = ?1 \
         OR EXISTS (SELECT 1 FROM participants p WHERE p.conversation_id = c.id AND p.agent_id = ?1))",
        [agent],
        |row| row.get(0),
    )?;
    let max: Option<i64> = conn
        .query_row(
            "SELECT max_chats FROM agents WHERE id = ?1",
            [agent],
            |row| row.get(0),
        )
        .optional()?
        .flatten();
    Ok((
        usize::try_from(active).unwrap_or(0),
        max.and_then(|max| usize::try_from(max).ok()),
    ))
}

fn profile_from_row(row: &Row<'_>) -> rusqlite::Result<StoredProfile> {
    Ok(StoredProfile {
        id: row.get(0)?,
        site_id: row.get(1)?,
        name: row.get(2)?,
        definition: row.get(3)?,
        updated_at: row.get(4)?,
    })
}

const PROFILE_COLUMNS: &str = "id, site_id, name, definition, updated_at";

const SITE_COLUMNS: &str = "id, key, name, allowed_origins, default_profile_id, secret";

fn site_from_row(row: &Row<'_>) -> rusqlite::Result<Site> {
    let origins: String = row.get(3)?;
    Ok(Site {
        id: row.get(0)?,
        key: row.get(1)?,
        name: row.get(2)?,
        allowed_origins: serde_json::from_str(&origins).unwrap_or_default(),
        default_profile_id: row.get(4)?,
        secret: row.get(5)?,
    })
}

fn apply_turn(
    conn: &Connection,
    id: ConversationId,
    turn: &FlowTurn,
) -> Result<TurnOutcome, StoreError> {
    if let Some(visitor_message) = &turn.visitor_message
        && let Some(original) = existing_message(conn, visitor_message)?
    {
        return Ok(TurnOutcome::Duplicate(original));
    }
    let Some(current) = load_conversation(conn, id)? else {
        return Err(StoreError::NotFound);
    };
    match current.status {
        ConversationStatus::Ended => return Err(StoreError::ConversationEnded),
        ConversationStatus::Bot if current.flow_state == turn.expected_state => {}
        _ => return Ok(TurnOutcome::Conflict),
    }
    let mut messages = Vec::new();
    if let Some(visitor_message) = &turn.visitor_message {
        messages.push(insert_message(conn, visitor_message)?.message);
    }
    for body in &turn.bot_messages {
        let bot = NewMessage {
            step_id: turn.current_step.clone(),
            ..NewMessage::text(
                id,
                None,
                Author::Bot,
                None,
                Some(turn.bot_name.clone()),
                body.clone(),
            )
        };
        messages.push(insert_message(conn, &bot)?.message);
    }
    let now = now_ms();
    conn.execute(
        "UPDATE conversations SET flow_state = ?1, current_step = ?2 WHERE id = ?3",
        params![turn.flow_state, turn.current_step, id],
    )?;
    if let Some(subject) = &turn.ticket_subject {
        conn.execute(
            "INSERT INTO tickets (site_id, visitor_id, subject, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![current.site_id, current.visitor_id, subject, now],
        )?;
        conn.execute(
            "UPDATE conversations SET ticket_id = ?1 WHERE id = ?2",
            params![conn.last_insert_rowid(), id],
        )?;
    }
    if turn.queue && current.ticket_id.is_none() && through_tickets(conn)? {
        // Through tickets, every waiting chat has a ticket to join it from.
        let subject = format!("Chat with {}", current.visitor_name);
        let team = turn.queue_teams.first().cloned();
        conn.execute(
            "INSERT INTO tickets (site_id, visitor_id, subject, team, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![current.site_id, current.visitor_id, subject, team, now],
        )?;
        conn.execute(
            "UPDATE conversations SET ticket_id = ?1 WHERE id = ?2",
            params![conn.last_insert_rowid(), id],
        )?;
    }
    if turn.queue {
        let (policy, switchable) = turn.upload_policy;
        conn.execute(
            "UPDATE conversations SET status = 'queued', queued_at = ?1, teams = ?2, \
             upload_policy = ?3, uploads_switchable = ?4 WHERE id = ?5",
            params![
                now,
                serde_json::to_string(&turn.queue_teams).unwrap_or_else(|_| "[]".into()),
                policy.as_str(),
                switchable,
                id
            ],
        )?;
    } else if turn.end {
        conn.execute(
            "UPDATE conversations SET status = 'ended', ended_at = ?1, ended_by = 'bot' WHERE id = ?2",
            params![now, id],
        )?;
        messages.push(insert_message(conn, &event(id, "Chat ended".into()))?.message);
        add_transcript(conn, id)?;
    }
    let conversation = load_conversation(conn, id)?.ok_or(StoreError::NotFound)?;
    Ok(TurnOutcome::Applied {
        conversation: Box::new(conversation),
        messages,
    })
}

/// Adds the chat's transcript to its linked ticket, if it has one: "[14:05] Ana: …"
/// lines, in order (UTC times).
fn add_transcript(conn: &Connection, id: ConversationId) -> rusqlite::Result<()> {
    let ticket: Option<i64> = conn.query_row(
        "SELECT ticket_id FROM conversations WHERE id = ?1",
        [id],
        |row| row.get(0),
    )?;
    let Some(ticket) = ticket else {
        return Ok(());
    };
    let mut statement = conn.prepare(
        "SELECT created_at, author_kind, author_name, body FROM messages \
         WHERE conversation_id = ?1 ORDER BY seq",
    )?;
    let lines = statement.query_map([id], |row| {
        let at: i64 = row.get(0)?;
        let kind: String = row.get(1)?;
        let name: Option<String> = row.get(2)?;
        let body: String = row.get(3)?;
        let minutes = at.div_euclid(60_000);
        let who = match kind.as_str() {
            "visitor" => "Visitor".to_owned(),
            "system" => "—".to_owned(),
            _ => name.unwrap_or(kind),
        };
        Ok(format!(
            "[{:02}:{:02}] {who}: {body}",
            minutes.div_euclid(60).rem_euclid(24),
            minutes.rem_euclid(60)
        ))
    })?;
    let transcript = lines.collect::<rusqlite::Result<Vec<_>>>()?.join("\n");
    conn.execute(
        "INSERT INTO ticket_notes (ticket_id, conversation_id, kind, body, created_at) \
         VALUES (?1, ?2, 'transcript', ?3, ?4)",
        params![ticket, id, transcript, now_ms()],
    )?;
    Ok(())
}

/// Sets category values on a ticket; each category must exist and have the value.
fn set_categories(
    conn: &Connection,
    ticket: i64,
    values: &BTreeMap<String, String>,
) -> Result<(), StoreError> {
    for (name, value) in values {
        let category: Option<(i64, String)> = conn
            .query_row(
                "SELECT id, choices FROM ticket_categories WHERE name = ?1",
                [name],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        let Some((category, choices)) = category else {
            return Err(StoreError::NotFound);
        };
        let choices: Vec<String> = serde_json::from_str(&choices).unwrap_or_default();
        if !choices.contains(value) {
            return Err(StoreError::NotFound);
        }
        conn.execute(
            "INSERT INTO ticket_category_values (ticket_id, category_id, value) VALUES (?1, ?2, ?3) \
             ON CONFLICT (ticket_id, category_id) DO UPDATE SET value = excluded.value",
            params![ticket, category, value],
        )?;
    }
    Ok(())
}

fn through_tickets(conn: &Connection) -> rusqlite::Result<bool> {
    Ok(conn
        .query_row(
            "SELECT value FROM settings WHERE key = 'through_tickets'",
            [],
            |row| row.get::<_, String>(0),
        )
        .optional()?
        .is_some_and(|value| value == "true"))
}

#[async_trait]
impl Store for SqliteStore {
    async fn seed_if_empty(&self, seed: Seed) -> Result<bool, StoreError> {
        self.write(move |conn| {
            let sites: i64 = conn.query_row("SELECT COUNT(*) FROM sites", [], |row| row.get(0))?;
            if sites > 0 {
                return Ok(false);
            }
            let now = now_ms();
            conn.execute(
                "INSERT INTO sites (key, name, created_at, secret) \
                 VALUES (?1, ?2, ?3, lower(hex(randomblob(32))))",
                params![seed.site_key, seed.site_name, now],
            )?;
            let site_id = conn.last_insert_rowid();
            conn.execute(
                "INSERT INTO profiles (site_id, name, definition, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?4)",
                params![site_id, seed.profile_name, seed.profile_definition, now],
            )?;
            let profile_id = conn.last_insert_rowid();
            conn.execute(
                "UPDATE sites SET default_profile_id = ?1 WHERE id = ?2",
                params![profile_id, site_id],
            )?;
            conn.execute(
                "INSERT INTO teams (name, created_at) VALUES (?1, ?2)",
                params![seed.team_name, now],
            )?;
            let team_id = conn.last_insert_rowid();
            conn.execute_batch(
                "INSERT INTO statuses (name, counts_online) VALUES \
                 ('Available', 1), ('Busy', 0), ('Away', 0)",
            )?;
            // The demo shows the whole waiting experience: abandoned chats end by
            // themselves (admins can switch it off on the People page).
            let abandon = AbandonRules {
                enabled: true,
                close_ticket: true,
                ..AbandonRules::default()
            };
            conn.execute(
                "INSERT INTO settings (key, value) VALUES ('abandon', ?1)",
                [serde_json::to_string(&abandon).unwrap_or_default()],
            )?;
            conn.execute(
                "INSERT INTO agents (email, name, role, password_hash, status_id, created_at) \
                 VALUES (?1, ?2, 'admin', ?3, \
                 (SELECT MIN(id) FROM statuses WHERE counts_online = 1), ?4)",
                params![
                    seed.admin_email,
                    seed.admin_name,
                    seed.admin_password_hash,
                    now
                ],
            )?;
            let agent_id = conn.last_insert_rowid();
            conn.execute(
                "INSERT INTO team_members (team_id, agent_id) VALUES (?1, ?2)",
                params![team_id, agent_id],
            )?;
            Ok(true)
        })
        .await
    }

    async fn site_by_key(&self, key: &str) -> Result<Option<Site>, StoreError> {
        let key = key.to_owned();
        self.read(move |conn| {
            Ok(conn
                .query_row(
                    &format!("SELECT {SITE_COLUMNS} FROM sites WHERE key = ?1"),
                    [key],
                    site_from_row,
                )
                .optional()?)
        })
        .await
    }

    async fn sites(&self) -> Result<Vec<Site>, StoreError> {
        self.read(|conn| {
            let mut statement =
                conn.prepare(&format!("SELECT {SITE_COLUMNS} FROM sites ORDER BY id"))?;
            let rows = statement.query_map([], site_from_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn create_visitor(
        &self,
        site_id: SiteId,
        token_hash: String,
    ) -> Result<Visitor, StoreError> {
        self.write(move |conn| {
            let now = now_ms();
            conn.execute(
                "INSERT INTO visitors (site_id, token_hash, display_name, created_at) \
                 VALUES (?1, ?2, '', ?3)",
                params![site_id, token_hash, now],
            )?;
            let id = conn.last_insert_rowid();
            let display_name = format!("Visitor {id}");
            conn.execute(
                "UPDATE visitors SET display_name = ?1 WHERE id = ?2",
                params![display_name, id],
            )?;
            Ok(Visitor {
                id,
                site_id,
                display_name,
            })
        })
        .await
    }

    async fn visitor_by_token(
        &self,
        site_id: SiteId,
        token_hash: &str,
    ) -> Result<Option<Visitor>, StoreError> {
        let token_hash = token_hash.to_owned();
        self.read(move |conn| {
            Ok(conn
                .query_row(
                    "SELECT id, site_id, display_name FROM visitors \
                     WHERE token_hash = ?1 AND site_id = ?2",
                    params![token_hash, site_id],
                    |row| {
                        Ok(Visitor {
                            id: row.get(0)?,
                            site_id: row.get(1)?,
                            display_name: row.get(2)?,
                        })
                    },
                )
                .optional()?)
        })
        .await
    }

    async fn open_or_start_conversation(
        &self,
        new: NewConversation,
        status: ConversationStatus,
    ) -> Result<(Conversation, bool), StoreError> {
        self.write(move |conn| {
            let open: Option<ConversationId> = conn
                .query_row(
                    "SELECT id FROM conversations WHERE visitor_id = ?1 AND status <> 'ended' \
                     ORDER BY id DESC LIMIT 1",
                    [new.visitor_id],
                    |row| row.get(0),
                )
                .optional()?;
            let (id, started) = match open {
                Some(id) => (id, false),
                None => {
                    let now = now_ms();
                    let queued_at = (status == ConversationStatus::Queued).then_some(now);
                    conn.execute(
                        "INSERT INTO conversations (site_id, visitor_id, profile_id, status, \
                         created_at, queued_at, page_url, referrer, user_agent, ticket_id) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                        params![
                            new.site_id,
                            new.visitor_id,
                            new.profile_id,
                            status.as_str(),
                            now,
                            queued_at,
                            new.page_url,
                            new.referrer,
                            new.user_agent,
                            new.ticket_id
                        ],
                    )?;
                    (conn.last_insert_rowid(), true)
                }
            };
            let conversation = load_conversation(conn, id)?.ok_or(StoreError::NotFound)?;
            Ok((conversation, started))
        })
        .await
    }

    async fn conversation(&self, id: ConversationId) -> Result<Option<Conversation>, StoreError> {
        self.read(move |conn| Ok(load_conversation(conn, id)?))
            .await
    }

    async fn latest_conversation(
        &self,
        visitor_id: VisitorId,
    ) -> Result<Option<Conversation>, StoreError> {
        self.read(move |conn| {
            Ok(conn
                .query_row(
                    &format!(
                        "SELECT {CONVERSATION_COLUMNS} FROM conversations c \
                         JOIN visitors v ON v.id = c.visitor_id \
                         WHERE c.visitor_id = ?1 ORDER BY c.id DESC LIMIT 1"
                    ),
                    [visitor_id],
                    conversation_from_row,
                )
                .optional()?)
        })
        .await
    }

    async fn open_conversations(&self) -> Result<Vec<Conversation>, StoreError> {
        self.read(|conn| {
            let mut statement = conn.prepare(&format!(
                "SELECT {CONVERSATION_COLUMNS} FROM conversations c \
                 JOIN visitors v ON v.id = c.visitor_id \
                 WHERE c.status IN ('queued', 'active') ORDER BY c.id"
            ))?;
            let rows = statement.query_map([], conversation_from_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn waiting_conversations(&self) -> Result<Vec<Conversation>, StoreError> {
        self.read(|conn| {
            let mut statement = conn.prepare_cached(&format!(
                "SELECT {CONVERSATION_COLUMNS} FROM conversations c \
                 JOIN visitors v ON v.id = c.visitor_id \
                 WHERE c.status = 'queued' ORDER BY c.id"
            ))?;
            let rows = statement.query_map([], conversation_from_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn flow_turn(
        &self,
        id: ConversationId,
        turn: FlowTurn,
    ) -> Result<TurnOutcome, StoreError> {
        self.write(move |conn| apply_turn(conn, id, &turn)).await
    }

    async fn profile(&self, id: i64) -> Result<Option<StoredProfile>, StoreError> {
        self.read(move |conn| {
            Ok(conn
                .query_row(
                    &format!("SELECT {PROFILE_COLUMNS} FROM profiles WHERE id = ?1"),
                    [id],
                    profile_from_row,
                )
                .optional()?)
        })
        .await
    }

    async fn all_profiles(&self) -> Result<Vec<StoredProfile>, StoreError> {
        self.read(|conn| {
            let mut statement = conn.prepare(&format!(
                "SELECT {PROFILE_COLUMNS} FROM profiles ORDER BY id"
            ))?;
            let rows = statement.query_map([], profile_from_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn set_default_profile(&self, site_id: SiteId, id: i64) -> Result<(), StoreError> {
        self.write(move |conn| {
            let updated = conn.execute(
                "UPDATE sites SET default_profile_id = ?1 WHERE id = ?2 \
                 AND EXISTS (SELECT 1 FROM profiles WHERE id = ?1 AND site_id = ?2)",
                params![id, site_id],
            )?;
            if updated == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
        .await
    }

    async fn update_profile(
        &self,
        id: i64,
        name: &str,
        definition: String,
    ) -> Result<StoredProfile, StoreError> {
        let name = name.to_owned();
        self.write(move |conn| {
            let now = now_ms();
            let updated = conn.execute(
                "UPDATE OR IGNORE profiles SET name = ?1, definition = ?2, updated_at = ?3 \
                 WHERE id = ?4",
                params![name, definition, now, id],
            )?;
            if updated == 0 {
                let exists: bool = conn
                    .query_row("SELECT 1 FROM profiles WHERE id = ?1", [id], |_| Ok(true))
                    .optional()?
                    .unwrap_or(false);
                return Err(if exists {
                    StoreError::Duplicate
                } else {
                    StoreError::NotFound
                });
            }
            Ok(conn.query_row(
                &format!("SELECT {PROFILE_COLUMNS} FROM profiles WHERE id = ?1"),
                [id],
                profile_from_row,
            )?)
        })
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
            let now = now_ms();
            let id: i64 = conn.query_row(
                "INSERT INTO profiles (site_id, name, definition, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?4) \
                 ON CONFLICT (site_id, name) DO UPDATE SET definition = excluded.definition, \
                 updated_at = excluded.updated_at RETURNING id",
                params![site_id, name, definition, now],
                |row| row.get(0),
            )?;
            if make_default {
                conn.execute(
                    "UPDATE sites SET default_profile_id = ?1 WHERE id = ?2",
                    params![id, site_id],
                )?;
            }
            Ok(StoredProfile {
                id,
                site_id,
                name,
                definition,
                updated_at: now,
            })
        })
        .await
    }

    async fn agent_accounts(&self) -> Result<Vec<AgentAccount>, StoreError> {
        self.read(|conn| {
            let mut statement = conn.prepare(
                "SELECT a.id, a.email, a.name, a.role, a.access_level, a.max_chats, a.can_toggle_uploads, \
                 a.default_team, \
                 (SELECT json_group_array(t.name) FROM team_members m \
                  JOIN teams t ON t.id = m.team_id WHERE m.agent_id = a.id) \
                 FROM agents a ORDER BY a.name COLLATE NOCASE, a.id",
            )?;
            let rows = statement.query_map([], |row| {
                let role: String = row.get(3)?;
                let access: String = row.get(4)?;
                let max_chats: Option<i64> = row.get(5)?;
                let teams: String = row.get(8)?;
                let mut teams: Vec<String> = serde_json::from_str(&teams).unwrap_or_default();
                teams.sort();
                Ok(AgentAccount {
                    id: row.get(0)?,
                    email: row.get(1)?,
                    name: row.get(2)?,
                    role: Role::parse(&role),
                    teams,
                    access: AccessLevel::parse(&access).unwrap_or(AccessLevel::All),
                    max_chats: max_chats.and_then(|max| usize::try_from(max).ok()),
                    can_toggle_uploads: row.get(6)?,
                    default_team: row.get(7)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn update_agent(&self, account: AgentAccount) -> Result<(), StoreError> {
        self.write(move |conn| {
            let max = account.max_chats.and_then(|max| i64::try_from(max).ok());
            let updated = conn.execute(
                "UPDATE agents SET name = ?1, role = ?2, access_level = ?3, max_chats = ?4, \
                 can_toggle_uploads = ?5, default_team = ?6 WHERE id = ?7",
                params![
                    account.name,
                    account.role.as_str(),
                    account.access.as_str(),
                    max,
                    account.can_toggle_uploads,
                    account.default_team,
                    account.id
                ],
            )?;
            if updated == 0 {
                return Err(StoreError::NotFound);
            }
            let admins: i64 = conn.query_row(
                "SELECT count(*) FROM agents WHERE role = 'admin'",
                [],
                |row| row.get(0),
            )?;
            if admins == 0 {
                return Err(StoreError::LastAdmin);
            }
            conn.execute("DELETE FROM team_members WHERE agent_id = ?1", [account.id])?;
            for team in &account.teams {
                let added = conn.execute(
                    "INSERT OR IGNORE INTO team_members (team_id, agent_id) \
                     SELECT id, ?2 FROM teams WHERE name = ?1",
                    params![team, account.id],
                )?;
                let exists = conn
                    .query_row("SELECT 1 FROM teams WHERE name = ?1", [team], |_| Ok(()))
                    .optional()?;
                if added == 0 && exists.is_none() {
                    return Err(StoreError::NotFound);
                }
            }
            Ok(())
        })
        .await
    }

    async fn create_team(&self, name: String) -> Result<(), StoreError> {
        self.write(move |conn| {
            let inserted = conn.execute(
                "INSERT INTO teams (name, created_at) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
                params![name, now_ms()],
            )?;
            if inserted == 0 {
                return Err(StoreError::Duplicate);
            }
            Ok(())
        })
        .await
    }

    async fn save_status(&self, status: Status) -> Result<Status, StoreError> {
        self.write(move |conn| {
            let taken = conn
                .query_row(
                    "SELECT 1 FROM statuses WHERE name = ?1 COLLATE NOCASE AND id <> ?2",
                    params![status.name, status.id],
                    |_| Ok(()),
                )
                .optional()?;
            if taken.is_some() {
                return Err(StoreError::Duplicate);
            }
            if status.id == 0 {
                conn.execute(
                    "INSERT INTO statuses (name, counts_online) VALUES (?1, ?2)",
                    params![status.name, status.counts_online],
                )?;
                return Ok(Status {
                    id: conn.last_insert_rowid(),
                    ..status
                });
            }
            let updated = conn.execute(
                "UPDATE statuses SET name = ?1, counts_online = ?2 WHERE id = ?3",
                params![status.name, status.counts_online, status.id],
            )?;
            if updated == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(status)
        })
        .await
    }

    async fn add_attachment(
        &self,
        file: StoredAttachment,
        message: NewMessage,
    ) -> Result<Appended, StoreError> {
        self.write(move |conn| {
            let appended = insert_message(conn, &message)?;
            if !appended.duplicate {
                conn.execute(
                    "INSERT INTO attachments (conversation_id, storage_key, name, content_type, \
                     size, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![
                        file.conversation_id,
                        file.storage_key,
                        file.name,
                        file.content_type,
                        i64::try_from(file.size).unwrap_or(i64::MAX),
                        now_ms()
                    ],
                )?;
            }
            Ok(appended)
        })
        .await
    }

    async fn attachment(&self, storage_key: &str) -> Result<Option<StoredAttachment>, StoreError> {
        let storage_key = storage_key.to_owned();
        self.read(move |conn| {
            Ok(conn
                .query_row(
                    "SELECT conversation_id, storage_key, name, content_type, size \
                     FROM attachments WHERE storage_key = ?1",
                    [storage_key],
                    |row| {
                        Ok(StoredAttachment {
                            conversation_id: row.get(0)?,
                            storage_key: row.get(1)?,
                            name: row.get(2)?,
                            content_type: row.get(3)?,
                            size: row.get::<_, i64>(4)?.try_into().unwrap_or(0),
                        })
                    },
                )
                .optional()?)
        })
        .await
    }

    async fn set_visitor_uploads(
        &self,
        id: ConversationId,
        allowed: Option<bool>,
    ) -> Result<Conversation, StoreError> {
        self.write(move |conn| {
            let updated = conn.execute(
                "UPDATE conversations SET visitor_uploads = ?1 WHERE id = ?2 AND status <> 'ended'",
                params![allowed, id],
            )?;
            if updated == 0 {
                return Err(StoreError::ConversationEnded);
            }
            load_conversation(conn, id)?.ok_or(StoreError::NotFound)
        })
        .await
    }

    async fn tickets(
        &self,
        only: Option<i64>,
        limit: usize,
    ) -> Result<Vec<TicketLine>, StoreError> {
        self.read(move |conn| {
            let mut statement = conn.prepare(
                "SELECT t.id, t.subject, t.status, COALESCE(v.display_name, ''), t.team, \
                 t.agent_id, a.name, t.created_at, c.id, c.status \
                 FROM tickets t \
                 LEFT JOIN visitors v ON v.id = t.visitor_id \
                 LEFT JOIN agents a ON a.id = t.agent_id \
                 LEFT JOIN conversations c ON c.id = \
                     (SELECT MAX(id) FROM conversations WHERE ticket_id = t.id) \
                 WHERE ?2 IS NULL OR t.id = ?2 \
                 ORDER BY t.id DESC LIMIT ?1",
            )?;
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let rows = statement.query_map(params![limit, only], |row| {
                let agent_id: Option<AgentId> = row.get(5)?;
                let agent_name: Option<String> = row.get(6)?;
                let chat_id: Option<ConversationId> = row.get(8)?;
                let chat_status: Option<String> = row.get(9)?;
                Ok(TicketLine {
                    id: row.get(0)?,
                    subject: row.get(1)?,
                    status: row.get(2)?,
                    requester: row.get(3)?,
                    team: row.get(4)?,
                    agent: agent_id.map(|id| AgentInfo {
                        id,
                        name: agent_name.unwrap_or_default(),
                    }),
                    created_at: row.get(7)?,
                    chat: chat_id
                        .zip(chat_status)
                        .map(|(conversation_id, status)| TicketChat {
                            conversation_id,
                            status: ConversationStatus::parse(&status)
                                .unwrap_or(ConversationStatus::Ended),
                        }),
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn ticket_categories(&self) -> Result<Vec<TicketCategory>, StoreError> {
        self.read(|conn| {
            let mut statement =
                conn.prepare("SELECT name, choices FROM ticket_categories ORDER BY name")?;
            let rows = statement.query_map([], |row| {
                Ok(TicketCategory {
                    name: row.get(0)?,
                    values: serde_json::from_str(&row.get::<_, String>(1)?).unwrap_or_default(),
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn create_ticket_category(&self, category: TicketCategory) -> Result<(), StoreError> {
        self.write(move |conn| {
            let added = conn.execute(
                "INSERT INTO ticket_categories (name, choices) VALUES (?1, ?2) \
                 ON CONFLICT (name) DO NOTHING",
                params![
                    category.name,
                    serde_json::to_string(&category.values).unwrap_or_default()
                ],
            )?;
            if added == 0 {
                return Err(StoreError::Duplicate);
            }
            Ok(())
        })
        .await
    }

    async fn ticket_category_values(
        &self,
        id: i64,
    ) -> Result<BTreeMap<String, String>, StoreError> {
        self.read(move |conn| {
            let mut statement = conn.prepare(
                "SELECT c.name, v.value FROM ticket_category_values v \
                 JOIN ticket_categories c ON c.id = v.category_id WHERE v.ticket_id = ?1",
            )?;
            let rows = statement.query_map([id], |row| Ok((row.get(0)?, row.get(1)?)))?;
            Ok(rows.collect::<rusqlite::Result<BTreeMap<_, _>>>()?)
        })
        .await
    }

    async fn set_ticket_categories(
        &self,
        id: i64,
        values: BTreeMap<String, String>,
    ) -> Result<(), StoreError> {
        self.write(move |conn| set_categories(conn, id, &values))
            .await
    }

    async fn create_ticket(
        &self,
        site_id: SiteId,
        subject: String,
        team: Option<String>,
        agent: Option<AgentId>,
    ) -> Result<i64, StoreError> {
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO tickets (site_id, subject, team, agent_id, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![site_id, subject, team, agent, now_ms()],
            )?;
            Ok(conn.last_insert_rowid())
        })
        .await
    }

    async fn set_ticket_status(&self, id: i64, status: &'static str) -> Result<(), StoreError> {
        self.write(move |conn| {
            match conn.execute(
                "UPDATE tickets SET status = ?1 WHERE id = ?2",
                params![status, id],
            )? {
                0 => Err(StoreError::NotFound),
                _ => Ok(()),
            }
        })
        .await
    }

    async fn ticket_site(&self, id: i64) -> Result<Option<SiteId>, StoreError> {
        self.read(move |conn| {
            Ok(conn
                .query_row("SELECT site_id FROM tickets WHERE id = ?1", [id], |row| {
                    row.get(0)
                })
                .optional()?)
        })
        .await
    }

    async fn ticket_notes_and_chats(
        &self,
        id: i64,
    ) -> Result<(Vec<TicketNote>, Vec<TicketChat>), StoreError> {
        self.read(move |conn| {
            let mut notes = conn.prepare(
                "SELECT kind, body, created_at, conversation_id FROM ticket_notes \
                 WHERE ticket_id = ?1 ORDER BY id",
            )?;
            let notes = notes
                .query_map([id], |row| {
                    Ok(TicketNote {
                        kind: row.get(0)?,
                        body: row.get(1)?,
                        created_at: row.get(2)?,
                        conversation_id: row.get(3)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut chats = conn
                .prepare("SELECT id, status FROM conversations WHERE ticket_id = ?1 ORDER BY id")?;
            let chats = chats
                .query_map([id], |row| {
                    let status: String = row.get(1)?;
                    Ok(TicketChat {
                        conversation_id: row.get(0)?,
                        status: ConversationStatus::parse(&status)
                            .unwrap_or(ConversationStatus::Ended),
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok((notes, chats))
        })
        .await
    }

    async fn assign_ticket(&self, id: i64, agent: Option<AgentId>) -> Result<(), StoreError> {
        self.write(move |conn| {
            let updated = conn.execute(
                "UPDATE tickets SET agent_id = ?1, \
                 team = COALESCE(team, (SELECT default_team FROM agents WHERE id = ?1)) \
                 WHERE id = ?2",
                params![agent, id],
            )?;
            match updated {
                0 => Err(StoreError::NotFound),
                _ => Ok(()),
            }
        })
        .await
    }

    async fn queue_times_since(&self, since: i64) -> Result<Vec<(i64, i64)>, StoreError> {
        self.read(move |conn| {
            let mut statement = conn.prepare(
                "SELECT agent_joined_at, queue_ms FROM conversations \
                 WHERE agent_joined_at >= ?1 AND queue_ms IS NOT NULL ORDER BY agent_joined_at",
            )?;
            let rows = statement.query_map([since], |row| Ok((row.get(0)?, row.get(1)?)))?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn chat_records(&self, from: i64, to: i64) -> Result<Vec<ChatRecord>, StoreError> {
        self.read(move |conn| {
            let mut statement = conn.prepare(
                "SELECT c.id, c.created_at, c.status, v.display_name, c.agent_name, c.teams, \
                 c.queued_at, c.agent_joined_at, c.queue_ms, c.ended_at, c.ended_by, \
                 (SELECT MIN(m.created_at) FROM messages m WHERE m.conversation_id = c.id \
                  AND m.author_kind = 'agent' AND m.kind = 'text'), \
                 c.last_seq, c.page_url, c.ticket_id \
                 FROM conversations c JOIN visitors v ON v.id = c.visitor_id \
                 WHERE c.created_at >= ?1 AND c.created_at < ?2 ORDER BY c.created_at, c.id",
            )?;
            let rows = statement.query_map(params![from, to], |row| {
                let status: String = row.get(2)?;
                Ok(ChatRecord {
                    id: row.get(0)?,
                    created_at: row.get(1)?,
                    status: ConversationStatus::parse(&status).unwrap_or(ConversationStatus::Ended),
                    visitor_name: row.get(3)?,
                    agent_name: row.get(4)?,
                    teams: serde_json::from_str(&row.get::<_, String>(5)?).unwrap_or_default(),
                    queued_at: row.get(6)?,
                    agent_joined_at: row.get(7)?,
                    queue_ms: row.get(8)?,
                    ended_at: row.get(9)?,
                    ended_by: row.get(10)?,
                    first_response_at: row.get(11)?,
                    messages: row.get(12)?,
                    page_url: row.get(13)?,
                    ticket_id: row.get(14)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn message_records(&self, from: i64, to: i64) -> Result<Vec<MessageRecord>, StoreError> {
        self.read(move |conn| {
            let mut statement = conn.prepare(
                "SELECT m.conversation_id, m.seq, m.created_at, m.author_kind, m.author_name, \
                 m.kind, m.body FROM messages m \
                 WHERE m.conversation_id IN \
                     (SELECT id FROM conversations WHERE created_at >= ?1 AND created_at < ?2) \
                 ORDER BY m.conversation_id, m.seq",
            )?;
            let rows = statement.query_map(params![from, to], |row| {
                Ok(MessageRecord {
                    conversation_id: row.get(0)?,
                    seq: row.get(1)?,
                    created_at: row.get(2)?,
                    author: row.get(3)?,
                    author_name: row.get(4)?,
                    kind: row.get(5)?,
                    body: row.get(6)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn post_wait_message(
        &self,
        id: ConversationId,
        bot_name: String,
        body: String,
        sent_before: u32,
    ) -> Result<Option<ChatMessage>, StoreError> {
        self.write(move |conn| {
            let counted = conn.execute(
                "UPDATE conversations SET wait_messages_sent = wait_messages_sent + 1 \
                 WHERE id = ?1 AND status = 'queued' AND wait_messages_sent = ?2",
                params![id, sent_before],
            )?;
            if counted == 0 {
                return Ok(None);
            }
            let message = NewMessage::text(id, None, Author::Bot, None, Some(bot_name), body);
            Ok(Some(insert_message(conn, &message)?.message))
        })
        .await
    }

    async fn ask_still_there(
        &self,
        id: ConversationId,
        bot_name: String,
        body: String,
    ) -> Result<Option<ChatMessage>, StoreError> {
        self.write(move |conn| {
            let asked = conn.execute(
                "UPDATE conversations SET still_there_asked_at = ?1 \
                 WHERE id = ?2 AND status = 'queued' AND still_there_asked_at IS NULL",
                params![now_ms(), id],
            )?;
            if asked == 0 {
                return Ok(None);
            }
            let message = NewMessage::text(id, None, Author::Bot, None, Some(bot_name), body);
            Ok(Some(insert_message(conn, &message)?.message))
        })
        .await
    }

    async fn confirm_still_there(&self, id: ConversationId) -> Result<bool, StoreError> {
        self.write(move |conn| {
            let confirmed = conn.execute(
                "UPDATE conversations SET still_there_at = ?1, still_there_asked_at = NULL \
                 WHERE id = ?2 AND status = 'queued' AND still_there_asked_at IS NOT NULL",
                params![now_ms(), id],
            )?;
            Ok(confirmed > 0)
        })
        .await
    }

    async fn abandon(
        &self,
        id: ConversationId,
        close_ticket: bool,
        categories: BTreeMap<String, String>,
    ) -> Result<Option<(Conversation, ChatMessage)>, StoreError> {
        self.write(move |conn| {
            let ended = conn.execute(
                "UPDATE conversations SET status = 'ended', ended_at = ?1, ended_by = 'abandoned', \
                 abandoned = 1 WHERE id = ?2 AND status = 'queued'",
                params![now_ms(), id],
            )?;
            if ended == 0 {
                return Ok(None);
            }
            let ticket: Option<i64> = conn.query_row(
                "SELECT ticket_id FROM conversations WHERE id = ?1",
                [id],
                |row| row.get(0),
            )?;
            if let Some(ticket) = ticket {
                if close_ticket {
                    conn.execute(
                        "UPDATE tickets SET status = 'closed' WHERE id = ?1",
                        [ticket],
                    )?;
                }
                // Values no longer defined are skipped rather than failing the end.
                for (name, value) in &categories {
                    let one = BTreeMap::from([(name.clone(), value.clone())]);
                    match set_categories(conn, ticket, &one) {
                        Ok(()) | Err(StoreError::NotFound) => {}
                        Err(err) => return Err(err),
                    }
                }
            }
            let event = event(id, "The chat ended: nobody was there to answer".to_owned());
            let appended = insert_message(conn, &event)?;
            add_transcript(conn, id)?;
            let conversation = load_conversation(conn, id)?.ok_or(StoreError::NotFound)?;
            Ok(Some((conversation, appended.message)))
        })
        .await
    }

    async fn abandon_rules(&self) -> Result<AbandonRules, StoreError> {
        self.read(|conn| {
            let text: Option<String> = conn
                .query_row(
                    "SELECT value FROM settings WHERE key = 'abandon'",
                    [],
                    |row| row.get(0),
                )
                .optional()?;
            Ok(text
                .and_then(|text| serde_json::from_str(&text).ok())
                .unwrap_or_default())
        })
        .await
    }

    async fn set_abandon_rules(&self, rules: AbandonRules) -> Result<(), StoreError> {
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO settings (key, value) VALUES ('abandon', ?1) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [serde_json::to_string(&rules).unwrap_or_default()],
            )?;
            Ok(())
        })
        .await
    }

    async fn canned_texts(&self) -> Result<Vec<CannedText>, StoreError> {
        self.read(|conn| {
            let mut statement = conn.prepare(
                "SELECT id, group_name, title, body FROM canned_texts \
                 ORDER BY group_name COLLATE NOCASE, title COLLATE NOCASE",
            )?;
            let rows = statement.query_map([], |row| {
                Ok(CannedText {
                    id: row.get(0)?,
                    group: row.get(1)?,
                    title: row.get(2)?,
                    body: row.get(3)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn save_canned(&self, text: CannedText) -> Result<CannedText, StoreError> {
        self.write(move |conn| {
            let now = now_ms();
            let taken = conn
                .query_row(
                    "SELECT 1 FROM canned_texts WHERE group_name = ?1 AND title = ?2 AND id <> ?3",
                    params![text.group, text.title, text.id],
                    |_| Ok(()),
                )
                .optional()?;
            if taken.is_some() {
                return Err(StoreError::Duplicate);
            }
            if text.id == 0 {
                conn.execute(
                    "INSERT INTO canned_texts (group_name, title, body, created_at, updated_at) \
                     VALUES (?1, ?2, ?3, ?4, ?4)",
                    params![text.group, text.title, text.body, now],
                )?;
                return Ok(CannedText {
                    id: conn.last_insert_rowid(),
                    ..text
                });
            }
            let updated = conn.execute(
                "UPDATE canned_texts SET group_name = ?1, title = ?2, body = ?3, updated_at = ?4 \
                 WHERE id = ?5",
                params![text.group, text.title, text.body, now, text.id],
            )?;
            if updated == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(text)
        })
        .await
    }

    async fn delete_canned(&self, id: i64) -> Result<(), StoreError> {
        self.write(move |conn| {
            match conn.execute("DELETE FROM canned_texts WHERE id = ?1", [id])? {
                0 => Err(StoreError::NotFound),
                _ => Ok(()),
            }
        })
        .await
    }

    async fn recent_ended(&self, limit: usize) -> Result<Vec<Conversation>, StoreError> {
        self.read(move |conn| {
            let mut statement = conn.prepare(&format!(
                "SELECT {CONVERSATION_COLUMNS} FROM conversations c \
                 JOIN visitors v ON v.id = c.visitor_id \
                 WHERE c.status = 'ended' AND c.queued_at IS NOT NULL \
                 ORDER BY c.ended_at DESC LIMIT ?1"
            ))?;
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let rows = statement.query_map([limit], conversation_from_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn append_message(&self, message: NewMessage) -> Result<Appended, StoreError> {
        self.write(move |conn| insert_message(conn, &message)).await
    }

    async fn messages_after(
        &self,
        id: ConversationId,
        after: Seq,
        limit: usize,
    ) -> Result<Vec<ChatMessage>, StoreError> {
        self.read(move |conn| {
            let mut statement = conn.prepare_cached(&format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages \
                 WHERE conversation_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3"
            ))?;
            let after = i64::try_from(after).unwrap_or(i64::MAX);
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let rows = statement.query_map(params![id, after, limit], message_from_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn join(
        &self,
        id: ConversationId,
        agent: AgentInfo,
        rules: ChatRules,
    ) -> Result<JoinOutcome, StoreError> {
        self.write(move |conn| {
            let Some(current) = load_conversation(conn, id)? else {
                return Ok(JoinOutcome::NotFound);
            };
            let beside_holder = match current.status {
                ConversationStatus::Ended => return Ok(JoinOutcome::Ended),
                ConversationStatus::Bot => return Ok(JoinOutcome::NotQueued),
                ConversationStatus::Active => {
                    let already = current.agent.as_ref().map(|holder| holder.id) == Some(agent.id)
                        || is_participant(conn, id, agent.id)?;
                    if rules.prevent_multiple_agents || already {
                        return Ok(JoinOutcome::Taken);
                    }
                    true
                }
                ConversationStatus::Queued => false,
            };
            if rules.through_tickets && rules.ticket_agent_only {
                let assigned: Option<AgentId> = match current.ticket_id {
                    Some(ticket) => conn
                        .query_row("SELECT agent_id FROM tickets WHERE id = ?1", [ticket], |row| {
                            row.get(0)
                        })
                        .optional()?
                        .flatten(),
                    None => None,
                };
                if assigned != Some(agent.id) {
                    return Ok(JoinOutcome::NotTicketAgent);
                }
            }
            // The rules are checked here, inside the write, so two joins at once
            // cannot both squeeze under a limit.
            let (active, max_chats) = agent_load(conn, agent.id)?;
            let room = (!rules.one_chat_per_agent || active == 0)
                && max_chats.is_none_or(|max| active < max);
            if !room {
                return Ok(JoinOutcome::AtCapacity);
            }
            let now = now_ms();
            if beside_holder {
                conn.execute(
                    "INSERT INTO participants (conversation_id, agent_id, joined_at) VALUES (?1, ?2, ?3)",
                    params![id, agent.id, now],
                )?;
            } else {
                // The status guard makes the claim atomic even if a second writer appears.
                let claimed = conn.execute(
                    "UPDATE conversations SET status = 'active', agent_id = ?1, agent_name = ?2, \
                     target_agent_id = NULL, agent_joined_at = COALESCE(agent_joined_at, ?3), \
                     queue_ms = COALESCE(queue_ms, ?3 - COALESCE(queued_at, created_at)) \
                     WHERE id = ?4 AND status = 'queued'",
                    params![agent.id, agent.name, now, id],
                )?;
                if claimed == 0 {
                    return Ok(JoinOutcome::Taken);
                }
            }
            let appended = insert_message(
                conn,
                &event(id, format!("{} joined the chat", agent.name)),
            )?;
            let conversation = load_conversation(conn, id)?.ok_or(StoreError::NotFound)?;
            Ok(JoinOutcome::Joined(Box::new((conversation, appended.message))))
        })
        .await
    }

    async fn transfer(
        &self,
        id: ConversationId,
        by: AgentInfo,
        by_admin: bool,
        to: TransferTarget,
    ) -> Result<(Conversation, ChatMessage), StoreError> {
        self.write(move |conn| {
            let current = load_conversation(conn, id)?.ok_or(StoreError::NotFound)?;
            if current.status == ConversationStatus::Ended {
                return Err(StoreError::ConversationEnded);
            }
            let holds = current.agent.as_ref().map(|holder| holder.id) == Some(by.id)
                || is_participant(conn, id, by.id)?;
            if current.status != ConversationStatus::Active || !(holds || by_admin) {
                return Err(StoreError::NotJoined);
            }
            let (teams, target, to_name) = match &to {
                TransferTarget::Team(team) => (vec![team.clone()], None, team.clone()),
                TransferTarget::Agent(agent) => {
                    (current.teams.clone(), Some(agent.id), agent.name.clone())
                }
            };
            conn.execute(
                "UPDATE conversations SET status = 'queued', agent_id = NULL, agent_name = NULL, \
                 teams = ?1, target_agent_id = ?2 WHERE id = ?3",
                params![
                    serde_json::to_string(&teams).unwrap_or_else(|_| "[]".into()),
                    target,
                    id
                ],
            )?;
            conn.execute("DELETE FROM participants WHERE conversation_id = ?1", [id])?;
            let appended = insert_message(
                conn,
                &event(id, format!("{} transferred the chat to {to_name}", by.name)),
            )?;
            let conversation = load_conversation(conn, id)?.ok_or(StoreError::NotFound)?;
            Ok((conversation, appended.message))
        })
        .await
    }

    async fn team_names(&self) -> Result<Vec<String>, StoreError> {
        self.read(|conn| {
            let mut statement = conn.prepare("SELECT name FROM teams ORDER BY name")?;
            let rows = statement.query_map([], |row| row.get(0))?;
            Ok(rows.collect::<rusqlite::Result<Vec<String>>>()?)
        })
        .await
    }

    async fn statuses(&self) -> Result<Vec<Status>, StoreError> {
        self.read(|conn| {
            let mut statement =
                conn.prepare("SELECT id, name, counts_online FROM statuses ORDER BY id")?;
            let rows = statement.query_map([], status_from_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn set_agent_access(
        &self,
        agent: AgentId,
        access: AccessLevel,
    ) -> Result<(), StoreError> {
        self.write(move |conn| {
            let updated = conn.execute(
                "UPDATE agents SET access_level = ?1 WHERE id = ?2",
                params![access.as_str(), agent],
            )?;
            if updated == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
        .await
    }

    async fn set_agent_teams(&self, agent: AgentId, teams: Vec<String>) -> Result<(), StoreError> {
        self.write(move |conn| {
            conn.execute("DELETE FROM team_members WHERE agent_id = ?1", [agent])?;
            for team in &teams {
                conn.execute(
                    "INSERT INTO teams (name, created_at) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
                    params![team, now_ms()],
                )?;
                conn.execute(
                    "INSERT OR IGNORE INTO team_members (team_id, agent_id) \
                     SELECT id, ?2 FROM teams WHERE name = ?1",
                    params![team, agent],
                )?;
            }
            Ok(())
        })
        .await
    }

    async fn set_agent_capacity(
        &self,
        agent: AgentId,
        max_chats: Option<usize>,
    ) -> Result<(), StoreError> {
        self.write(move |conn| {
            let max = max_chats.and_then(|max| i64::try_from(max).ok());
            if conn.execute(
                "UPDATE agents SET max_chats = ?1 WHERE id = ?2",
                params![max, agent],
            )? == 0
            {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
        .await
    }

    async fn set_agent_status(&self, agent: AgentId, status: i64) -> Result<Status, StoreError> {
        self.write(move |conn| {
            let found = conn
                .query_row(
                    "SELECT id, name, counts_online FROM statuses WHERE id = ?1",
                    [status],
                    status_from_row,
                )
                .optional()?
                .ok_or(StoreError::NotFound)?;
            conn.execute(
                "UPDATE agents SET status_id = ?1 WHERE id = ?2",
                params![status, agent],
            )?;
            Ok(found)
        })
        .await
    }

    async fn agent_snapshots(&self) -> Result<Vec<AgentSnapshot>, StoreError> {
        self.read(|conn| {
            let mut statement = conn.prepare(
                "SELECT a.id, a.name, a.status_id, COALESCE(s.counts_online, 1), a.max_chats, \
                 (SELECT COUNT(*) FROM conversations c WHERE c.status = 'active' AND \
                    (c.agent_id = a.id OR EXISTS (SELECT 1 FROM participants p \
                     WHERE p.conversation_id = c.id AND p.agent_id = a.id))), \
                 (SELECT json_group_array(t.name) FROM team_members m JOIN teams t ON t.id = m.team_id \
                    WHERE m.agent_id = a.id) \
                 FROM agents a LEFT JOIN statuses s ON s.id = a.status_id ORDER BY a.id",
            )?;
            let rows = statement.query_map([], |row| {
                let teams: String = row.get(6)?;
                Ok(AgentSnapshot {
                    id: row.get(0)?,
                    name: row.get(1)?,
                    status_id: row.get(2)?,
                    status_online: row.get(3)?,
                    max_chats: row.get::<_, Option<i64>>(4)?.and_then(|max| usize::try_from(max).ok()),
                    active_chats: usize::try_from(row.get::<_, i64>(5)?).unwrap_or(0),
                    teams: serde_json::from_str(&teams).unwrap_or_default(),
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn chat_rules(&self) -> Result<ChatRules, StoreError> {
        self.read(|conn| {
            let setting = |key: &str, default: bool| -> rusqlite::Result<bool> {
                Ok(conn
                    .query_row("SELECT value FROM settings WHERE key = ?1", [key], |row| {
                        row.get::<_, String>(0)
                    })
                    .optional()?
                    .map_or(default, |value| value == "true"))
            };
            let defaults = ChatRules::default();
            Ok(ChatRules {
                prevent_multiple_agents: setting(
                    "prevent_multiple_agents",
                    defaults.prevent_multiple_agents,
                )?,
                one_chat_per_agent: setting("one_chat_per_agent", defaults.one_chat_per_agent)?,
                through_tickets: setting("through_tickets", defaults.through_tickets)?,
                ticket_agent_only: setting("ticket_agent_only", defaults.ticket_agent_only)?,
            })
        })
        .await
    }

    async fn set_chat_rules(&self, rules: ChatRules) -> Result<(), StoreError> {
        self.write(move |conn| {
            for (key, value) in [
                ("prevent_multiple_agents", rules.prevent_multiple_agents),
                ("one_chat_per_agent", rules.one_chat_per_agent),
                ("through_tickets", rules.through_tickets),
                ("ticket_agent_only", rules.ticket_agent_only),
            ] {
                conn.execute(
                    "INSERT INTO settings (key, value) VALUES (?1, ?2) \
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    params![key, value.to_string()],
                )?;
            }
            Ok(())
        })
        .await
    }

    async fn end(
        &self,
        id: ConversationId,
        by: Author,
        by_name: Option<String>,
    ) -> Result<Option<(Conversation, ChatMessage)>, StoreError> {
        self.write(move |conn| {
            let ended = conn.execute(
                "UPDATE conversations SET status = 'ended', ended_at = ?1, ended_by = ?2 \
                 WHERE id = ?3 AND status <> 'ended'",
                params![now_ms(), by.as_str(), id],
            )?;
            if ended == 0 {
                return Ok(None);
            }
            let body = match (by, by_name) {
                (Author::Visitor, _) => "The visitor ended the chat".to_owned(),
                (_, Some(name)) => format!("{name} ended the chat"),
                (_, None) => "Chat ended".to_owned(),
            };
            let appended = insert_message(conn, &event(id, body))?;
            add_transcript(conn, id)?;
            let conversation = load_conversation(conn, id)?.ok_or(StoreError::NotFound)?;
            Ok(Some((conversation, appended.message)))
        })
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
        self.write(move |conn| {
            let inserted = conn.execute(
                "INSERT INTO agents (email, name, role, password_hash, status_id, created_at) \
                 VALUES (?1, ?2, ?3, ?4, (SELECT MIN(id) FROM statuses WHERE counts_online = 1), ?5) \
                 ON CONFLICT (email) DO NOTHING",
                params![email, name, role.as_str(), password_hash, now_ms()],
            )?;
            if inserted == 0 {
                return Err(StoreError::Duplicate);
            }
            Ok(Agent {
                access: AccessLevel::All,
                id: conn.last_insert_rowid(),
                email,
                name,
                role,
                password_hash,
                can_toggle_uploads: false,
            })
        })
        .await
    }

    async fn agents_in_teams(&self, teams: Vec<String>) -> Result<Vec<AgentId>, StoreError> {
        self.read(move |conn| {
            let mut statement = conn.prepare_cached(
                "SELECT DISTINCT m.agent_id FROM team_members m JOIN teams t ON t.id = m.team_id \
                 WHERE t.name = ?1 COLLATE NOCASE",
            )?;
            let mut agents = Vec::new();
            for team in &teams {
                let rows = statement.query_map([team], |row| row.get::<_, AgentId>(0))?;
                for agent in rows {
                    agents.push(agent?);
                }
            }
            agents.sort_unstable();
            agents.dedup();
            Ok(agents)
        })
        .await
    }

    async fn agent_by_email(&self, email: &str) -> Result<Option<Agent>, StoreError> {
        let email = email.to_owned();
        self.read(move |conn| {
            Ok(conn
                .query_row(
                    "SELECT id, email, name, role, password_hash, access_level, can_toggle_uploads \
                     FROM agents WHERE email = ?1",
                    [email],
                    agent_from_row,
                )
                .optional()?)
        })
        .await
    }

    async fn create_session(
        &self,
        agent_id: AgentId,
        token_hash: String,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        self.write(move |conn| {
            let now = now_ms();
            conn.execute("DELETE FROM agent_sessions WHERE expires_at < ?1", [now])?;
            conn.execute(
                "INSERT INTO agent_sessions (token_hash, agent_id, created_at, expires_at) \
                 VALUES (?1, ?2, ?3, ?4)",
                params![token_hash, agent_id, now, expires_at],
            )?;
            Ok(())
        })
        .await
    }

    async fn agent_by_session(
        &self,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<Agent>, StoreError> {
        let token_hash = token_hash.to_owned();
        self.read(move |conn| {
            Ok(conn
                .query_row(
                    "SELECT a.id, a.email, a.name, a.role, a.password_hash, a.access_level, a.can_toggle_uploads \
                     FROM agent_sessions s \
                     JOIN agents a ON a.id = s.agent_id \
                     WHERE s.token_hash = ?1 AND s.expires_at > ?2",
                    params![token_hash, now],
                    agent_from_row,
                )
                .optional()?)
        })
        .await
    }

    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        let token_hash = token_hash.to_owned();
        self.write(move |conn| {
            conn.execute(
                "DELETE FROM agent_sessions WHERE token_hash = ?1",
                [token_hash],
            )?;
            Ok(())
        })
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
        fts: String,
        limit: usize,
    ) -> Result<Vec<Hit>, StoreError> {
        self.read(move |conn| knowledge::keyword(conn, site, &fts, limit))
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

    async fn setting(&self, key: &'static str) -> Result<Option<String>, StoreError> {
        self.read(move |conn| {
            Ok(conn
                .query_row("SELECT value FROM settings WHERE key = ?1", [key], |row| {
                    row.get(0)
                })
                .optional()?)
        })
        .await
    }

    async fn set_setting(&self, key: &'static str, value: String) -> Result<(), StoreError> {
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )?;
            Ok(())
        })
        .await
    }

    async fn flush(&self) -> Result<(), StoreError> {
        self.write(|_| Ok(())).await
    }
}

#[cfg(test)]
mod tests;
