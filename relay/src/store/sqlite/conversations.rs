//! Conversations: starting one, the bot flow's turns, joining, transferring and ending. Plain functions over a connection;
//! `mod.rs` runs them on the writer thread or a reader.

use async_trait::async_trait;
use porchlight_protocol::api::webhooks::WebhookEvent;
use porchlight_protocol::words::Text;
use porchlight_protocol::{
    AgentId, AgentInfo, Author, ChatMessage, ConversationId, ConversationStatus,
};
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::store::model::{
    Conversation, FlowTurn, JoinOutcome, NewConversation, TransferTarget, TurnOutcome, VisitorId,
};
use crate::store::settings::{AttachmentPolicy, ChatRules};
use crate::store::{ConversationStore, StoreError, now_ms};

use super::agents::{agent_load, is_participant};
use super::messages::insert_message;
use super::tickets::add_transcript;
use super::webhook_events::chat_changed;
use super::{Cached, SqliteStore, turns};
use crate::store::chat_events::{ended_event, event, said};

pub(super) const CONVERSATION_COLUMNS: &str = "c.id, c.site_id, c.visitor_id, v.display_name, c.profile_id, \
     c.status, c.current_step, c.agent_id, c.agent_name, c.created_at, c.queued_at, \
     c.agent_joined_at, c.queue_ms, c.ended_at, c.ticket_id, c.last_seq, c.page_url, c.flow_state, \
     c.teams, c.target_agent_id, c.referrer, c.user_agent, c.upload_policy, c.uploads_switchable, \
     c.visitor_uploads, c.wait_messages_sent, c.still_there_asked_at, c.still_there_at, \
     c.ai_failed, c.rating, c.rating_comment, v.language, v.user_id, v.email, v.verified";

pub(super) fn conversation_from_row(row: &Row<'_>) -> rusqlite::Result<Conversation> {
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
        ai_failed: row.get(28)?,
        rating: row.get(29)?,
        rating_comment: row.get(30)?,
        visitor_languages: row.get(31)?,
        visitor_user_id: row.get(32)?,
        visitor_email: row.get(33)?,
        visitor_verified: row.get(34)?,
    })
}

pub(super) fn load_conversation(
    conn: &Connection,
    id: ConversationId,
) -> rusqlite::Result<Option<Conversation>> {
    conn.cached_row(
        &format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations c \
             JOIN visitors v ON v.id = c.visitor_id WHERE c.id = ?1"
        ),
        [id],
        conversation_from_row,
    )
    .optional()
}

pub(super) fn open_or_start_conversation(
    conn: &Connection,
    new: NewConversation,
    status: ConversationStatus,
) -> Result<(Conversation, bool), StoreError> {
    let open: Option<ConversationId> = conn
        .cached_row(
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
            conn.cached_execute(
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
            let id = conn.last_insert_rowid();
            chat_changed(conn, id, WebhookEvent::ChatStarted, None, now)?;
            if status == ConversationStatus::Queued {
                chat_changed(conn, id, WebhookEvent::ChatQueued, None, now)?;
            }
            (id, true)
        }
    };
    let conversation = load_conversation(conn, id)?.ok_or(StoreError::NotFound)?;
    Ok((conversation, started))
}

pub(super) fn conversation(
    conn: &Connection,
    id: ConversationId,
) -> Result<Option<Conversation>, StoreError> {
    Ok(load_conversation(conn, id)?)
}

pub(super) fn latest_conversation(
    conn: &Connection,
    visitor_id: VisitorId,
) -> Result<Option<Conversation>, StoreError> {
    Ok(conn
        .cached_row(
            &format!(
                "SELECT {CONVERSATION_COLUMNS} FROM conversations c \
                 JOIN visitors v ON v.id = c.visitor_id \
                 WHERE c.visitor_id = ?1 ORDER BY c.id DESC LIMIT 1"
            ),
            [visitor_id],
            conversation_from_row,
        )
        .optional()?)
}

/// `status <> 'ended'` in the queries of open chats lets SQLite read them from the
/// index of open chats (`conversations_open`), which it uses only when the query says
/// so in its words; without it, every chat ever held is read.
pub(super) fn open_conversations(conn: &Connection) -> Result<Vec<Conversation>, StoreError> {
    let mut statement = conn.prepare_cached(&format!(
        "SELECT {CONVERSATION_COLUMNS} FROM conversations c \
         JOIN visitors v ON v.id = c.visitor_id \
         WHERE c.status <> 'ended' AND c.status IN ('queued', 'active') ORDER BY c.id"
    ))?;
    let rows = statement.query_map([], conversation_from_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub(super) fn waiting_conversations(conn: &Connection) -> Result<Vec<Conversation>, StoreError> {
    let mut statement = conn.prepare_cached(&format!(
        "SELECT {CONVERSATION_COLUMNS} FROM conversations c \
         JOIN visitors v ON v.id = c.visitor_id \
         WHERE c.status <> 'ended' AND c.status = 'queued' ORDER BY c.id"
    ))?;
    let rows = statement.query_map([], conversation_from_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub(super) fn recent_ended(
    conn: &Connection,
    limit: usize,
) -> Result<Vec<Conversation>, StoreError> {
    let mut statement = conn.prepare_cached(&format!(
        "SELECT {CONVERSATION_COLUMNS} FROM conversations c \
         JOIN visitors v ON v.id = c.visitor_id \
         WHERE c.status = 'ended' AND c.queued_at IS NOT NULL \
         ORDER BY c.ended_at DESC LIMIT ?1"
    ))?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = statement.query_map([limit], conversation_from_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub(super) fn join(
    conn: &Connection,
    id: ConversationId,
    agent: AgentInfo,
    rules: ChatRules,
) -> Result<JoinOutcome, StoreError> {
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
                .cached_row(
                    "SELECT agent_id FROM tickets WHERE id = ?1",
                    [ticket],
                    |row| row.get(0),
                )
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
    if !rules.has_room(active, max_chats) {
        return Ok(JoinOutcome::AtCapacity);
    }
    let now = now_ms();
    if beside_holder {
        conn.cached_execute(
            "INSERT INTO participants (conversation_id, agent_id, joined_at) VALUES (?1, ?2, ?3)",
            params![id, agent.id, now],
        )?;
    } else {
        // The status guard makes the claim atomic even if a second writer appears.
        let claimed = conn.cached_execute(
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
    chat_changed(conn, id, WebhookEvent::ChatJoined, Some(&agent.name), now)?;
    let appended = insert_message(
        conn,
        &event(id, said(Text::Joined, &[("name", &agent.name)])),
    )?;
    let conversation = load_conversation(conn, id)?.ok_or(StoreError::NotFound)?;
    Ok(JoinOutcome::Joined(Box::new((
        conversation,
        appended.message,
    ))))
}

pub(super) fn transfer(
    conn: &Connection,
    id: ConversationId,
    by: AgentInfo,
    by_admin: bool,
    to: TransferTarget,
) -> Result<(Conversation, ChatMessage), StoreError> {
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
        TransferTarget::Agent(agent) => (current.teams.clone(), Some(agent.id), agent.name.clone()),
    };
    conn.cached_execute(
        "UPDATE conversations SET status = 'queued', agent_id = NULL, agent_name = NULL, \
         teams = ?1, target_agent_id = ?2 WHERE id = ?3",
        params![
            serde_json::to_string(&teams).unwrap_or_else(|_| "[]".into()),
            target,
            id
        ],
    )?;
    conn.cached_execute("DELETE FROM participants WHERE conversation_id = ?1", [id])?;
    chat_changed(conn, id, WebhookEvent::ChatQueued, None, now_ms())?;
    let appended = insert_message(
        conn,
        &event(
            id,
            said(Text::Transferred, &[("name", &by.name), ("to", &to_name)]),
        ),
    )?;
    let conversation = load_conversation(conn, id)?.ok_or(StoreError::NotFound)?;
    Ok((conversation, appended.message))
}

pub(super) fn end(
    conn: &Connection,
    id: ConversationId,
    by: Author,
    by_name: Option<String>,
) -> Result<Option<(Conversation, ChatMessage)>, StoreError> {
    let now = now_ms();
    let ended = conn.cached_execute(
        "UPDATE conversations SET status = 'ended', ended_at = ?1, ended_by = ?2 \
         WHERE id = ?3 AND status <> 'ended'",
        params![now, by.as_str(), id],
    )?;
    if ended == 0 {
        return Ok(None);
    }
    chat_changed(conn, id, WebhookEvent::ChatEnded, None, now)?;
    let appended = insert_message(conn, &ended_event(id, by, by_name))?;
    add_transcript(conn, id)?;
    let conversation = load_conversation(conn, id)?.ok_or(StoreError::NotFound)?;
    Ok(Some((conversation, appended.message)))
}

pub(super) fn set_visitor_uploads(
    conn: &Connection,
    id: ConversationId,
    allowed: Option<bool>,
) -> Result<Conversation, StoreError> {
    let updated = conn.cached_execute(
        "UPDATE conversations SET visitor_uploads = ?1 WHERE id = ?2 AND status <> 'ended'",
        params![allowed, id],
    )?;
    if updated == 0 {
        return Err(StoreError::ConversationEnded);
    }
    load_conversation(conn, id)?.ok_or(StoreError::NotFound)
}

#[async_trait]
impl ConversationStore for SqliteStore {
    async fn open_or_start_conversation(
        &self,
        new: NewConversation,
        status: ConversationStatus,
    ) -> Result<(Conversation, bool), StoreError> {
        self.write(move |conn| open_or_start_conversation(conn, new, status))
            .await
    }

    async fn conversation(&self, id: ConversationId) -> Result<Option<Conversation>, StoreError> {
        self.read(move |conn| conversation(conn, id)).await
    }

    async fn latest_conversation(
        &self,
        visitor_id: VisitorId,
    ) -> Result<Option<Conversation>, StoreError> {
        self.read(move |conn| latest_conversation(conn, visitor_id))
            .await
    }

    async fn open_conversations(&self) -> Result<Vec<Conversation>, StoreError> {
        self.read(open_conversations).await
    }

    async fn waiting_conversations(&self) -> Result<Vec<Conversation>, StoreError> {
        self.read(waiting_conversations).await
    }

    async fn recent_ended(&self, limit: usize) -> Result<Vec<Conversation>, StoreError> {
        self.read(move |conn| recent_ended(conn, limit)).await
    }

    async fn flow_turn(
        &self,
        id: ConversationId,
        turn: FlowTurn,
    ) -> Result<TurnOutcome, StoreError> {
        self.write(move |conn| turns::apply_turn(conn, id, &turn))
            .await
    }

    async fn join(
        &self,
        id: ConversationId,
        agent: AgentInfo,
        rules: ChatRules,
    ) -> Result<JoinOutcome, StoreError> {
        self.write(move |conn| join(conn, id, agent, rules)).await
    }

    async fn transfer(
        &self,
        id: ConversationId,
        by: AgentInfo,
        by_admin: bool,
        to: TransferTarget,
    ) -> Result<(Conversation, ChatMessage), StoreError> {
        self.write(move |conn| transfer(conn, id, by, by_admin, to))
            .await
    }

    async fn end(
        &self,
        id: ConversationId,
        by: Author,
        by_name: Option<String>,
    ) -> Result<Option<(Conversation, ChatMessage)>, StoreError> {
        self.write(move |conn| end(conn, id, by, by_name)).await
    }

    async fn set_visitor_uploads(
        &self,
        id: ConversationId,
        allowed: Option<bool>,
    ) -> Result<Conversation, StoreError> {
        self.write(move |conn| set_visitor_uploads(conn, id, allowed))
            .await
    }
}
