//! A relay's database filled to a given size, for measuring what stays flat as the data
//! grows: ended chats over the past days with their messages, agents, tickets with
//! notes. Written with plain SQL straight into the store the relay made (its migrations
//! and first start ran), in large transactions: a million messages in about a minute,
//! through the same triggers (the search index) as the relay's own writes.
//!
//! `fixture` writes what the measurements open by name, on the small database too: one
//! long conversation a visitor resumes, and a ticket with its notes. `knowledge` adds
//! the example articles or generated ones, through the relay's own import.

use std::path::Path;

use anyhow::Context;
use porchlight_relay::ai::embedder::{Embedder, embed_missing};
use porchlight_relay::knowledge::{self, import};
use porchlight_relay::store::knowledge::DocFormat;
use porchlight_relay::store::{KnowledgeStore, SiteId, SiteStore, SqliteStore, Store};
use rusqlite::{Connection, Transaction, params};

use crate::corpus::{self, Rng, WORDS};

const DAY_MS: i64 = 86_400_000;
/// Conversations written per transaction.
const BATCH: usize = 5_000;

/// What the measurements open.
pub struct Fixture {
    /// The visitor's token and their long conversation.
    pub token: String,
    pub conversation: i64,
    pub ticket: i64,
}

/// The seeded site, its default profile and its admin (the relay's first start).
struct Site {
    id: i64,
    profile: i64,
    admin: i64,
}

fn site(conn: &Connection) -> anyhow::Result<Site> {
    conn.query_row(
        "SELECT s.id, s.default_profile_id, (SELECT min(id) FROM agents) FROM sites s \
         ORDER BY s.id LIMIT 1",
        [],
        |row| {
            Ok(Site {
                id: row.get(0)?,
                profile: row.get(1)?,
                admin: row.get(2)?,
            })
        },
    )
    .context("the relay has not made its database here yet")
}

/// A visitor token of the shape the relay hands out (64 hex digits), numbered.
fn token(number: u64) -> String {
    format!("{number:064x}")
}

fn sentence(rng: &mut Rng) -> String {
    let words = 6 + (rng.next_u64() % 11) as usize;
    (0..words)
        .map(|_| rng.pick(WORDS))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Writes one visitor; returns its id.
fn visitor(
    tx: &Transaction<'_>,
    site: i64,
    token: &str,
    name: &str,
    at: i64,
) -> anyhow::Result<i64> {
    tx.prepare_cached(
        "INSERT INTO visitors (site_id, token_hash, display_name, created_at) \
         VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![
        site,
        porchlight_relay::auth::token_hash(token),
        name,
        at
    ])?;
    Ok(tx.last_insert_rowid())
}

/// One chat an agent took, `messages` long, from `start`; ended unless `open`.
struct Chat<'a> {
    site: &'a Site,
    visitor: i64,
    visitor_name: &'a str,
    agent: (i64, &'a str),
    start: i64,
    messages: usize,
    open: bool,
}

/// Writes the chat, its messages and its participant row; returns its id.
fn chat(tx: &Transaction<'_>, chat: &Chat<'_>, rng: &mut Rng) -> anyhow::Result<i64> {
    let queued = chat.start + 20_000;
    let queue_ms = 5_000 + (rng.next_u64() % 115_000) as i64;
    let joined = queued + queue_ms;
    let ended = joined + 30_000 * chat.messages as i64 + 60_000;
    let rating = rng
        .next_u64()
        .is_multiple_of(5)
        .then(|| 1 + (rng.next_u64() % 5) as i64);
    tx.prepare_cached(
        "INSERT INTO conversations (site_id, visitor_id, profile_id, status, agent_id, \
         agent_name, created_at, queued_at, agent_joined_at, queue_ms, ended_at, ended_by, \
         last_seq, rating, rated_at, first_response_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
    )?
    .execute(params![
        chat.site.id,
        chat.visitor,
        chat.site.profile,
        if chat.open { "active" } else { "ended" },
        chat.agent.0,
        chat.agent.1,
        chat.start,
        queued,
        joined,
        queue_ms,
        (!chat.open).then_some(ended),
        (!chat.open).then_some("agent"),
        chat.messages as i64,
        rating,
        rating.map(|_| ended),
        // The agent writes every second message.
        (chat.messages >= 2).then_some(joined + 60_000),
    ])?;
    let id = tx.last_insert_rowid();
    tx.prepare_cached(
        "INSERT INTO participants (conversation_id, agent_id, joined_at) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![id, chat.agent.0, joined])?;
    let mut message = tx.prepare_cached(
        "INSERT INTO messages (conversation_id, seq, author_kind, author_id, author_name, \
         kind, body, created_at) VALUES (?1, ?2, ?3, ?4, ?5, 'text', ?6, ?7)",
    )?;
    for seq in 1..=chat.messages as i64 {
        let (kind, author, name) = if seq % 2 == 1 {
            ("visitor", None, chat.visitor_name)
        } else {
            ("agent", Some(chat.agent.0), chat.agent.1)
        };
        message.execute(params![
            id,
            seq,
            kind,
            author,
            name,
            sentence(rng),
            joined + 30_000 * seq
        ])?;
    }
    Ok(id)
}

/// A ticket for `conversation`, with `notes` notes; returns its id.
fn ticket(
    tx: &Transaction<'_>,
    site: &Site,
    conversation: i64,
    agent: i64,
    at: i64,
    notes: usize,
    rng: &mut Rng,
) -> anyhow::Result<i64> {
    tx.prepare_cached(
        "INSERT INTO tickets (site_id, visitor_id, subject, status, created_at, agent_id) \
         SELECT ?1, visitor_id, ?2, ?3, ?4, ?5 FROM conversations WHERE id = ?6",
    )?
    .execute(params![
        site.id,
        sentence(rng),
        if rng.next_u64().is_multiple_of(3) {
            "open"
        } else {
            "closed"
        },
        at,
        agent,
        conversation
    ])?;
    let id = tx.last_insert_rowid();
    tx.prepare_cached("UPDATE conversations SET ticket_id = ?1 WHERE id = ?2")?
        .execute(params![id, conversation])?;
    let mut note = tx.prepare_cached(
        "INSERT INTO ticket_notes (ticket_id, conversation_id, kind, body, created_at, agent_id) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for number in 0..notes {
        let kind = if number == 0 { "transcript" } else { "reply" };
        note.execute(params![
            id,
            conversation,
            kind,
            sentence(rng),
            at + number as i64,
            agent
        ])?;
    }
    Ok(id)
}

fn writer(folder: &std::path::Path) -> anyhow::Result<Connection> {
    let conn = Connection::open(folder.join("porchlight.sqlite3"))?;
    // A scratch database being filled: a crash means seeding again.
    conn.pragma_update(None, "synchronous", "OFF")?;
    Ok(conn)
}

/// The long conversation a visitor resumes (open, with its agent) and a ticket with
/// `ticket_notes` notes.
pub fn fixture(
    folder: &std::path::Path,
    history: usize,
    ticket_notes: usize,
    now: i64,
) -> anyhow::Result<Fixture> {
    let mut conn = writer(folder)?;
    let site = site(&conn)?;
    let mut rng = Rng(0x5EED_F1C5);
    let tx = conn.transaction()?;
    let token = token(u64::MAX);
    let start = now - 30_000 * history as i64 - 3_600_000;
    let visitor = visitor(&tx, site.id, &token, "Long-standing visitor", start)?;
    let conversation = chat(
        &tx,
        &Chat {
            site: &site,
            visitor,
            visitor_name: "Long-standing visitor",
            agent: (site.admin, "Admin"),
            start,
            messages: history,
            open: true,
        },
        &mut rng,
    )?;
    let ticket = ticket(
        &tx,
        &site,
        conversation,
        site.admin,
        start,
        ticket_notes,
        &mut rng,
    )?;
    tx.commit()?;
    Ok(Fixture {
        token,
        conversation,
        ticket,
    })
}

/// Adds `count` agents (beside the admin) the chats are shared among.
pub fn agents(folder: &std::path::Path, count: usize, now: i64) -> anyhow::Result<()> {
    let mut conn = writer(folder)?;
    let site = site(&conn)?;
    let tx = conn.transaction()?;
    let hash: String = tx.query_row(
        "SELECT password_hash FROM agents WHERE id = ?1",
        [site.admin],
        |row| row.get(0),
    )?;
    for number in 0..count {
        tx.execute(
            "INSERT INTO agents (email, name, role, password_hash, created_at) \
             VALUES (?1, ?2, 'agent', ?3, ?4)",
            params![
                format!("agent{number}@seeded.example"),
                format!("Agent {number}"),
                hash,
                now
            ],
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// Ended chats spread evenly over the last `days` days up to `now`, oldest first as
/// they came, shared among the agents; a ticket for every so many.
#[derive(Clone, Copy, Debug)]
pub struct Chats {
    /// The first chat's number (numbers make visitors' tokens unique).
    pub first: usize,
    pub count: usize,
    /// Messages over all of them.
    pub messages: usize,
    pub tickets: usize,
    pub days: i64,
}

pub fn chats(folder: &std::path::Path, chats: Chats, now: i64) -> anyhow::Result<()> {
    let mut conn = writer(folder)?;
    let site = site(&conn)?;
    let mut rng = Rng(0xB0_1C5EED ^ chats.first as u64);
    let agents: Vec<(i64, String)> = conn
        .prepare("SELECT id, name FROM agents WHERE role = 'agent' ORDER BY id")?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    anyhow::ensure!(!agents.is_empty(), "add agents before chats");
    let count = chats.count.max(1);
    let per_chat = chats.messages / count;
    let ticket_every = (count / chats.tickets.max(1)).max(1);
    let span = chats.days * DAY_MS;
    for batch in (0..chats.count).step_by(BATCH) {
        let tx = conn.transaction()?;
        for number in batch..(batch + BATCH).min(chats.count) {
            let start = now - span + span * number as i64 / count as i64;
            let numbered = chats.first + number;
            let name = format!("Visitor {numbered}");
            let visitor = visitor(&tx, site.id, &token(numbered as u64), &name, start)?;
            let (agent, agent_name) = &agents[number % agents.len()];
            let id = chat(
                &tx,
                &Chat {
                    site: &site,
                    visitor,
                    visitor_name: &name,
                    agent: (*agent, agent_name),
                    start,
                    messages: per_chat,
                    open: false,
                },
                &mut rng,
            )?;
            if chats.tickets > 0 && number.is_multiple_of(ticket_every) {
                ticket(&tx, &site, id, *agent, start, 3, &mut rng)?;
            }
        }
        tx.commit()?;
    }
    Ok(())
}

/// The demo site the relay made at its first start.
pub async fn demo_site(store: &SqliteStore) -> anyhow::Result<SiteId> {
    Ok(store
        .site_by_key(porchlight_relay::server::DEMO_SITE_KEY)
        .await?
        .context("no demo site")?
        .id)
}

/// Which knowledge to add.
pub enum Knowledge {
    /// `examples/knowledge`, as `make run` imports it.
    Examples,
    /// Generated help articles, ten passages each.
    Generated { articles: usize },
}

/// Imports the knowledge and gives every passage a vector under the built-in model's
/// name: the example articles the model's own, the generated ones random unit vectors
/// of its size (the search costs the same; the model takes about 0.2 s a passage).
pub async fn knowledge(data: &Path, knowledge: Knowledge) -> anyhow::Result<()> {
    let store = SqliteStore::open(data)?;
    let site = demo_site(&store).await?;
    let embedder = Embedder::BuiltIn;
    match knowledge {
        Knowledge::Examples => {
            let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/knowledge");
            import::import_all(&store, site, &import::files(&folder)?, |_, _| {}).await?;
            embed_missing(&store, &embedder, || false).await?;
        }
        Knowledge::Generated { articles } => {
            let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
            for number in 0..articles {
                let text = corpus::document(&mut rng, number);
                let source = format!("seeded/{number}.md");
                let parsed = knowledge::document(&source, DocFormat::Markdown, &text, "doc");
                store.kb_put(site, parsed).await?;
            }
            let dims = embedder
                .embed(vec!["size".into()])
                .await
                .map_err(anyhow::Error::msg)?
                .first()
                .map_or(0, Vec::len);
            corpus::embed_randomly(&store, &embedder.model(), dims, &mut rng).await?;
        }
    }
    store.flush().await?;
    Ok(())
}
