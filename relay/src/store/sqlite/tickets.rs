//! Tickets, their categories and notes (a chat's transcript is one). Plain functions over a connection;
//! `mod.rs` runs them on the writer thread or a reader.

use std::collections::BTreeMap;

use async_trait::async_trait;
use porchlight_protocol::api::tickets::{TicketCategory, TicketChat, TicketLine, TicketNote};
use porchlight_protocol::{AgentId, AgentInfo, ConversationId, ConversationStatus};
use rusqlite::{Connection, OptionalExtension, params};

use crate::store::listing::TicketFilter;
use crate::store::model::SiteId;
use crate::store::tickets::transcript_line;
use crate::store::{StoreError, TicketStore, now_ms};

use super::webhook_events::ticket_created;
use super::{Cached, SqliteStore};

/// Adds the chat's transcript to its linked ticket, if it has one: "[14:05] Ana: …"
/// lines, in order (UTC times).
pub(super) fn add_transcript(conn: &Connection, id: ConversationId) -> rusqlite::Result<()> {
    let ticket: Option<i64> = conn.cached_row(
        "SELECT ticket_id FROM conversations WHERE id = ?1",
        [id],
        |row| row.get(0),
    )?;
    let Some(ticket) = ticket else {
        return Ok(());
    };
    let mut statement = conn.prepare_cached(
        "SELECT created_at, author_kind, author_name, body FROM messages \
         WHERE conversation_id = ?1 ORDER BY seq",
    )?;
    let lines = statement.query_map([id], |row| {
        Ok(transcript_line(
            row.get(0)?,
            &row.get::<_, String>(1)?,
            row.get(2)?,
            &row.get::<_, String>(3)?,
        ))
    })?;
    let transcript = lines.collect::<rusqlite::Result<Vec<_>>>()?.join("\n");
    conn.cached_execute(
        "INSERT INTO ticket_notes (ticket_id, conversation_id, kind, body, created_at) \
         VALUES (?1, ?2, 'transcript', ?3, ?4)",
        params![ticket, id, transcript, now_ms()],
    )?;
    Ok(())
}

/// Sets category values on a ticket; each category must exist and have the value.
pub(super) fn set_categories(
    conn: &Connection,
    ticket: i64,
    values: &BTreeMap<String, String>,
) -> Result<(), StoreError> {
    for (name, value) in values {
        let category: Option<(i64, String)> = conn
            .cached_row(
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
        conn.cached_execute(
            "INSERT INTO ticket_category_values (ticket_id, category_id, value) VALUES (?1, ?2, ?3) \
             ON CONFLICT (ticket_id, category_id) DO UPDATE SET value = excluded.value",
            params![ticket, category, value],
        )?;
    }
    Ok(())
}

pub(super) fn tickets(
    conn: &Connection,
    only: Option<i64>,
    limit: usize,
) -> Result<Vec<TicketLine>, StoreError> {
    ticket_lines(
        conn,
        &TicketFilter {
            only,
            limit,
            ..TicketFilter::default()
        },
    )
}

/// Tickets as listed, newest first. The ids bound the rowid range read, so one ticket or
/// a later page starts where it is rather than at the newest ticket.
pub(super) fn ticket_lines(
    conn: &Connection,
    filter: &TicketFilter,
) -> Result<Vec<TicketLine>, StoreError> {
    let mut statement = conn.prepare_cached(
        "SELECT t.id, t.subject, t.status, COALESCE(v.display_name, ''), t.team, \
         t.agent_id, a.name, t.created_at, c.id, c.status \
         FROM tickets t \
         LEFT JOIN visitors v ON v.id = t.visitor_id \
         LEFT JOIN agents a ON a.id = t.agent_id \
         LEFT JOIN conversations c ON c.id = \
             (SELECT MAX(id) FROM conversations WHERE ticket_id = t.id) \
         WHERE t.id < COALESCE(?5, 9223372036854775807) \
         AND t.id <= COALESCE(?2, 9223372036854775807) AND (?2 IS NULL OR t.id = ?2) \
         AND (?3 IS NULL OR t.site_id = ?3) AND (?4 IS NULL OR t.status = ?4) \
         ORDER BY t.id DESC LIMIT ?1",
    )?;
    let limit = i64::try_from(filter.limit).unwrap_or(i64::MAX);
    let arguments = params![
        limit,
        filter.only,
        filter.site_id,
        filter.status,
        filter.before_id
    ];
    let rows = statement.query_map(arguments, |row| {
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
                    status: ConversationStatus::parse(&status).unwrap_or(ConversationStatus::Ended),
                }),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub(super) fn ticket_categories(conn: &Connection) -> Result<Vec<TicketCategory>, StoreError> {
    let mut statement =
        conn.prepare_cached("SELECT name, choices FROM ticket_categories ORDER BY name")?;
    let rows = statement.query_map([], |row| {
        Ok(TicketCategory {
            name: row.get(0)?,
            values: serde_json::from_str(&row.get::<_, String>(1)?).unwrap_or_default(),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub(super) fn create_ticket_category(
    conn: &Connection,
    category: TicketCategory,
) -> Result<(), StoreError> {
    let added = conn.cached_execute(
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
}

pub(super) fn ticket_category_values(
    conn: &Connection,
    id: i64,
) -> Result<BTreeMap<String, String>, StoreError> {
    let mut statement = conn.prepare_cached(
        "SELECT c.name, v.value FROM ticket_category_values v \
         JOIN ticket_categories c ON c.id = v.category_id WHERE v.ticket_id = ?1",
    )?;
    let rows = statement.query_map([id], |row| Ok((row.get(0)?, row.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<BTreeMap<_, _>>>()?)
}

pub(super) fn create_ticket(
    conn: &Connection,
    site_id: SiteId,
    subject: String,
    team: Option<String>,
    agent: Option<AgentId>,
) -> Result<i64, StoreError> {
    let now = now_ms();
    conn.cached_execute(
        "INSERT INTO tickets (site_id, subject, team, agent_id, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![site_id, subject, team, agent, now],
    )?;
    let id = conn.last_insert_rowid();
    ticket_created(conn, id, None, now)?;
    Ok(id)
}

pub(super) fn set_ticket_status(
    conn: &Connection,
    id: i64,
    status: &'static str,
) -> Result<(), StoreError> {
    match conn.cached_execute(
        "UPDATE tickets SET status = ?1 WHERE id = ?2",
        params![status, id],
    )? {
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}

pub(super) fn ticket_site(conn: &Connection, id: i64) -> Result<Option<SiteId>, StoreError> {
    Ok(conn
        .cached_row("SELECT site_id FROM tickets WHERE id = ?1", [id], |row| {
            row.get(0)
        })
        .optional()?)
}

/// A ticket's notes, oldest first.
fn reply_on_ticket(
    conn: &Connection,
    id: i64,
    agent: AgentId,
    body: &str,
    to: Option<&str>,
    chat: Option<ConversationId>,
) -> Result<TicketNote, StoreError> {
    let now = now_ms();
    let added = conn.cached_execute(
        "INSERT INTO ticket_notes (ticket_id, kind, body, agent_id, created_at) \
         SELECT id, 'reply', ?2, ?3, ?4 FROM tickets WHERE id = ?1",
        params![id, body, agent, now],
    )?;
    if added == 0 {
        return Err(StoreError::NotFound);
    }
    let note = conn.last_insert_rowid();
    if let Some(to) = to {
        conn.cached_execute(
            "INSERT INTO emails (kind, ticket_id, conversation_id, to_addr, body, next_at, \
             created_at) VALUES ('ticket_reply', ?1, ?2, ?3, ?4, ?5, ?5)",
            params![id, chat, to, body, now],
        )?;
    }
    conn.prepare_cached(&format!("{NOTES} WHERE n.id = ?1"))?
        .query_row([note], note_of)
        .map_err(Into::into)
}

/// Ticket notes with their authors' names.
const NOTES: &str = "SELECT n.kind, n.body, n.created_at, n.conversation_id, \
     coalesce(a.name, n.author_name) \
     FROM ticket_notes n LEFT JOIN agents a ON a.id = n.agent_id";

fn note_of(row: &rusqlite::Row<'_>) -> rusqlite::Result<TicketNote> {
    Ok(TicketNote {
        kind: row.get(0)?,
        body: row.get(1)?,
        created_at: row.get(2)?,
        conversation_id: row.get(3)?,
        author: row.get(4)?,
    })
}

pub(super) fn ticket_notes(conn: &Connection, id: i64) -> Result<Vec<TicketNote>, StoreError> {
    let mut notes =
        conn.prepare_cached(&format!("{NOTES} WHERE n.ticket_id = ?1 ORDER BY n.id"))?;
    let notes = notes
        .query_map([id], note_of)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(notes)
}

pub(super) fn ticket_notes_and_chats(
    conn: &Connection,
    id: i64,
) -> Result<(Vec<TicketNote>, Vec<TicketChat>), StoreError> {
    let notes = ticket_notes(conn, id)?;
    let mut chats = conn
        .prepare_cached("SELECT id, status FROM conversations WHERE ticket_id = ?1 ORDER BY id")?;
    let chats = chats
        .query_map([id], |row| {
            let status: String = row.get(1)?;
            Ok(TicketChat {
                conversation_id: row.get(0)?,
                status: ConversationStatus::parse(&status).unwrap_or(ConversationStatus::Ended),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((notes, chats))
}

pub(super) fn assign_ticket(
    conn: &Connection,
    id: i64,
    agent: Option<AgentId>,
) -> Result<(), StoreError> {
    let updated = conn.cached_execute(
        "UPDATE tickets SET agent_id = ?1, \
         team = COALESCE(team, (SELECT default_team FROM agents WHERE id = ?1)) \
         WHERE id = ?2",
        params![agent, id],
    )?;
    match updated {
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}

#[async_trait]
impl TicketStore for SqliteStore {
    async fn tickets(
        &self,
        only: Option<i64>,
        limit: usize,
    ) -> Result<Vec<TicketLine>, StoreError> {
        self.read(move |conn| tickets(conn, only, limit)).await
    }

    async fn ticket_categories(&self) -> Result<Vec<TicketCategory>, StoreError> {
        self.read(ticket_categories).await
    }

    async fn create_ticket_category(&self, category: TicketCategory) -> Result<(), StoreError> {
        self.write(move |conn| create_ticket_category(conn, category))
            .await
    }

    async fn ticket_category_values(
        &self,
        id: i64,
    ) -> Result<BTreeMap<String, String>, StoreError> {
        self.read(move |conn| ticket_category_values(conn, id))
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
        requester_email: Option<String>,
    ) -> Result<i64, StoreError> {
        self.write(move |conn| {
            let id = create_ticket(conn, site_id, subject, team, agent)?;
            conn.cached_execute(
                "UPDATE tickets SET requester_email = ?1 WHERE id = ?2",
                params![requester_email, id],
            )?;
            Ok(id)
        })
        .await
    }

    async fn ticket_requester_email(&self, id: i64) -> Result<Option<String>, StoreError> {
        self.read(move |conn| {
            Ok(conn
                .prepare_cached("SELECT requester_email FROM tickets WHERE id = ?1")?
                .query_row([id], |row| row.get(0))
                .optional()?
                .flatten())
        })
        .await
    }

    async fn reply_on_ticket(
        &self,
        id: i64,
        agent: AgentId,
        body: String,
        to: Option<String>,
        chat: Option<ConversationId>,
    ) -> Result<TicketNote, StoreError> {
        self.write(move |conn| reply_on_ticket(conn, id, agent, &body, to.as_deref(), chat))
            .await
    }

    async fn add_ticket_note(
        &self,
        id: i64,
        body: String,
        author: String,
    ) -> Result<TicketNote, StoreError> {
        self.write(move |conn| {
            let added = conn.cached_execute(
                "INSERT INTO ticket_notes (ticket_id, kind, body, created_at, author_name) \
                 SELECT id, 'note', ?2, ?3, ?4 FROM tickets WHERE id = ?1",
                params![id, body, now_ms(), author],
            )?;
            if added == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(conn.cached_row(
                &format!("{NOTES} WHERE n.id = ?1"),
                [conn.last_insert_rowid()],
                note_of,
            )?)
        })
        .await
    }

    async fn set_ticket_subject(&self, id: i64, subject: String) -> Result<(), StoreError> {
        self.write(move |conn| {
            match conn.cached_execute(
                "UPDATE tickets SET subject = ?1 WHERE id = ?2",
                params![subject, id],
            )? {
                0 => Err(StoreError::NotFound),
                _ => Ok(()),
            }
        })
        .await
    }

    async fn set_ticket_status(&self, id: i64, status: &'static str) -> Result<(), StoreError> {
        self.write(move |conn| set_ticket_status(conn, id, status))
            .await
    }

    async fn ticket_site(&self, id: i64) -> Result<Option<SiteId>, StoreError> {
        self.read(move |conn| ticket_site(conn, id)).await
    }

    async fn ticket_notes_and_chats(
        &self,
        id: i64,
    ) -> Result<(Vec<TicketNote>, Vec<TicketChat>), StoreError> {
        self.read(move |conn| ticket_notes_and_chats(conn, id))
            .await
    }

    async fn assign_ticket(&self, id: i64, agent: Option<AgentId>) -> Result<(), StoreError> {
        self.write(move |conn| assign_ticket(conn, id, agent)).await
    }
}
