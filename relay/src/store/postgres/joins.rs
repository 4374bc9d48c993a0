//! Who has a chat, on PostgreSQL: joining, transferring and ending. A join locks the
//! agent's row first and the conversation's second, then counts the agent's chats in a
//! statement of its own (one started before the lock was granted would not see a join
//! another node has just committed). Two joins of one chat take turns on the
//! conversation's row, so exactly one finds it waiting; two joins by one agent take
//! turns on the agent's row, so their capacity and the one-chat rule hold across nodes.

use deadpool_postgres::GenericClient;
use porchlight_protocol::ConversationStatus;
use porchlight_protocol::api::webhooks::WebhookEvent;
use porchlight_protocol::words::Text;
use porchlight_protocol::{AgentId, AgentInfo, Author, ChatMessage, ConversationId};

use super::agents::load_of;
use super::conversations::{CONVERSATION_COLUMNS, conversation_from_row, reload};
use super::messages::insert_message;
use super::tickets::add_transcript;
use super::webhook_events::chat_changed;
use crate::store::chat_events::{ended_event, event, said};
use crate::store::model::{Conversation, JoinOutcome, TransferTarget};
use crate::store::settings::ChatRules;
use crate::store::{StoreError, now_ms};

/// The conversation, its row locked until the transaction ends.
async fn lock_conversation(
    tx: &impl GenericClient,
    id: ConversationId,
) -> Result<Option<Conversation>, StoreError> {
    let statement = tx
        .prepare_cached(&format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations c \
             JOIN visitors v ON v.id = c.visitor_id WHERE c.id = $1 FOR UPDATE OF c"
        ))
        .await?;
    let row = tx.query_opt(&statement, &[&id]).await?;
    Ok(row.as_ref().map(conversation_from_row))
}

pub(super) async fn is_participant(
    tx: &impl GenericClient,
    id: ConversationId,
    agent: AgentId,
) -> Result<bool, StoreError> {
    let row = tx
        .query_opt(
            "SELECT 1 FROM participants WHERE conversation_id = $1 AND agent_id = $2",
            &[&id, &agent],
        )
        .await?;
    Ok(row.is_some())
}

/// Locks the agent's row, then counts their live chats (as the holder or beside
/// them): (live chats, their own limit).
async fn lock_agent_load(
    tx: &impl GenericClient,
    agent: AgentId,
) -> Result<(usize, Option<usize>), StoreError> {
    let max: Option<i64> = tx
        .query_opt(
            "SELECT max_chats FROM agents WHERE id = $1 FOR UPDATE",
            &[&agent],
        )
        .await?
        .and_then(|row| row.get(0));
    let load = tx
        .prepare_cached(&format!("SELECT {}", load_of("$1")))
        .await?;
    let active: i64 = tx.query_one(&load, &[&agent]).await?.get(0);
    Ok((
        usize::try_from(active).unwrap_or(0),
        max.and_then(|max| usize::try_from(max).ok()),
    ))
}

/// Whether `agent` is the assigned agent of the chat's linked ticket.
async fn holds_ticket(
    tx: &impl GenericClient,
    ticket: Option<i64>,
    agent: AgentId,
) -> Result<bool, StoreError> {
    let Some(ticket) = ticket else {
        return Ok(false);
    };
    let row = tx
        .query_opt("SELECT agent_id FROM tickets WHERE id = $1", &[&ticket])
        .await?;
    Ok(row.and_then(|row| row.get::<_, Option<AgentId>>(0)) == Some(agent))
}

/// Joins the chat in the caller's transaction; only `Joined` wrote anything.
pub(super) async fn join(
    tx: &impl GenericClient,
    id: ConversationId,
    agent: AgentInfo,
    rules: ChatRules,
) -> Result<JoinOutcome, StoreError> {
    let (active, max_chats) = lock_agent_load(tx, agent.id).await?;
    let Some(current) = lock_conversation(tx, id).await? else {
        return Ok(JoinOutcome::NotFound);
    };
    let beside_holder = match current.status {
        ConversationStatus::Ended => return Ok(JoinOutcome::Ended),
        ConversationStatus::Bot => return Ok(JoinOutcome::NotQueued),
        ConversationStatus::Active => {
            let already = current.agent.as_ref().map(|holder| holder.id) == Some(agent.id)
                || is_participant(tx, id, agent.id).await?;
            if rules.prevent_multiple_agents || already {
                return Ok(JoinOutcome::Taken);
            }
            true
        }
        ConversationStatus::Queued => false,
    };
    if rules.through_tickets
        && rules.ticket_agent_only
        && !holds_ticket(tx, current.ticket_id, agent.id).await?
    {
        return Ok(JoinOutcome::NotTicketAgent);
    }
    if !rules.has_room(active, max_chats) {
        return Ok(JoinOutcome::AtCapacity);
    }
    let now = now_ms();
    if beside_holder {
        tx.execute(
            "INSERT INTO participants (conversation_id, agent_id, joined_at) VALUES ($1, $2, $3)",
            &[&id, &agent.id, &now],
        )
        .await?;
    } else {
        tx.execute(
            "UPDATE conversations SET status = 'active', agent_id = $1, agent_name = $2, \
             target_agent_id = NULL, agent_joined_at = COALESCE(agent_joined_at, $3), \
             queue_ms = COALESCE(queue_ms, $3 - COALESCE(queued_at, created_at)) \
             WHERE id = $4",
            &[&agent.id, &agent.name, &now, &id],
        )
        .await?;
    }
    chat_changed(tx, id, WebhookEvent::ChatJoined, Some(&agent.name), now).await?;
    let appended =
        insert_message(tx, &event(id, said(Text::Joined, &[("name", &agent.name)]))).await?;
    let conversation = reload(tx, id).await?;
    Ok(JoinOutcome::Joined(Box::new((
        conversation,
        appended.message,
    ))))
}

pub(super) async fn transfer(
    tx: &impl GenericClient,
    id: ConversationId,
    by: AgentInfo,
    by_admin: bool,
    to: TransferTarget,
) -> Result<(Conversation, ChatMessage), StoreError> {
    let current = lock_conversation(tx, id)
        .await?
        .ok_or(StoreError::NotFound)?;
    if current.status == ConversationStatus::Ended {
        return Err(StoreError::ConversationEnded);
    }
    let holds = current.agent.as_ref().map(|holder| holder.id) == Some(by.id)
        || is_participant(tx, id, by.id).await?;
    if current.status != ConversationStatus::Active || !(holds || by_admin) {
        return Err(StoreError::NotJoined);
    }
    let (teams, target, to_name) = match &to {
        TransferTarget::Team(team) => (vec![team.clone()], None, team.clone()),
        TransferTarget::Agent(agent) => (current.teams.clone(), Some(agent.id), agent.name.clone()),
    };
    tx.execute(
        "UPDATE conversations SET status = 'queued', agent_id = NULL, agent_name = NULL, \
         teams = $1, target_agent_id = $2 WHERE id = $3",
        &[
            &serde_json::to_string(&teams).unwrap_or_else(|_| "[]".into()),
            &target,
            &id,
        ],
    )
    .await?;
    tx.execute(
        "DELETE FROM participants WHERE conversation_id = $1",
        &[&id],
    )
    .await?;
    chat_changed(tx, id, WebhookEvent::ChatQueued, None, now_ms()).await?;
    let appended = insert_message(
        tx,
        &event(
            id,
            said(Text::Transferred, &[("name", &by.name), ("to", &to_name)]),
        ),
    )
    .await?;
    Ok((reload(tx, id).await?, appended.message))
}

/// Ends the chat; `None` if it had already ended (nothing written).
pub(super) async fn end(
    tx: &impl GenericClient,
    id: ConversationId,
    by: Author,
    by_name: Option<String>,
) -> Result<Option<(Conversation, ChatMessage)>, StoreError> {
    let now = now_ms();
    let ended = tx
        .execute(
            "UPDATE conversations SET status = 'ended', ended_at = $1, ended_by = $2 \
             WHERE id = $3 AND status <> 'ended'",
            &[&now, &by.as_str(), &id],
        )
        .await?;
    if ended == 0 {
        return Ok(None);
    }
    chat_changed(tx, id, WebhookEvent::ChatEnded, None, now).await?;
    let appended = insert_message(tx, &ended_event(id, by, by_name)).await?;
    add_transcript(tx, id).await?;
    Ok(Some((reload(tx, id).await?, appended.message)))
}
