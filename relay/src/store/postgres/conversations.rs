//! Conversations on PostgreSQL: starting one, reading them, and the per-chat upload
//! switch; `joins.rs` holds who has the chat (joining, transferring, ending) and
//! `turns.rs` the bot flow's turns. One open conversation per visitor is the partial
//! unique index `conversations_one_open`: two nodes opening at once both try, one
//! inserts and the other reads the winner's.

use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use porchlight_protocol::api::webhooks::WebhookEvent;
use porchlight_protocol::{AgentInfo, Author, ChatMessage, ConversationId, ConversationStatus};
use tokio_postgres::Row;
use tokio_postgres::error::SqlState;

use super::PgStore;
use super::webhook_events::chat_changed;
use super::{joins, turns};
use crate::store::model::{
    FlowTurn, JoinOutcome, NewConversation, TransferTarget, TurnOutcome, VisitorId,
};
use crate::store::settings::{AttachmentPolicy, ChatRules};
use crate::store::{Conversation, ConversationStore, StoreError, now_ms};

pub(super) const CONVERSATION_COLUMNS: &str = "c.id, c.site_id, c.visitor_id, v.display_name, c.profile_id, \
     c.status, c.current_step, c.agent_id, c.agent_name, c.created_at, c.queued_at, \
     c.agent_joined_at, c.queue_ms, c.ended_at, c.ticket_id, c.last_seq, c.page_url, c.flow_state, \
     c.teams, c.target_agent_id, c.referrer, c.user_agent, c.upload_policy, c.uploads_switchable, \
     c.visitor_uploads, c.wait_messages_sent, c.still_there_asked_at, c.still_there_at, \
     c.ai_failed, c.rating, c.rating_comment, v.language, v.user_id, v.email, v.verified";

/// A count as the model holds it.
fn count(row: &Row, column: usize) -> u32 {
    u32::try_from(row.get::<_, i64>(column)).unwrap_or(u32::MAX)
}

fn flag(row: &Row, column: usize) -> bool {
    row.get::<_, i64>(column) != 0
}

pub(super) fn conversation_from_row(row: &Row) -> Conversation {
    let agent_id: Option<i64> = row.get(7);
    let agent_name: Option<String> = row.get(8);
    Conversation {
        id: row.get(0),
        site_id: row.get(1),
        visitor_id: row.get(2),
        visitor_name: row.get(3),
        profile_id: row.get(4),
        status: ConversationStatus::parse(row.get(5)).unwrap_or(ConversationStatus::Ended),
        current_step: row.get(6),
        agent: agent_id.map(|id| AgentInfo {
            id,
            name: agent_name.unwrap_or_default(),
        }),
        created_at: row.get(9),
        queued_at: row.get(10),
        agent_joined_at: row.get(11),
        queue_ms: row.get(12),
        ended_at: row.get(13),
        ticket_id: row.get(14),
        last_seq: row.get::<_, i64>(15).try_into().unwrap_or(0),
        page_url: row.get(16),
        flow_state: row.get(17),
        teams: serde_json::from_str(row.get(18)).unwrap_or_default(),
        target_agent: row.get(19),
        referrer: row.get(20),
        user_agent: row.get(21),
        upload_policy: AttachmentPolicy::parse(row.get(22)).unwrap_or(AttachmentPolicy::Prevent),
        uploads_switchable: flag(row, 23),
        visitor_uploads: row.get::<_, Option<i64>>(24).map(|allowed| allowed != 0),
        wait_messages_sent: count(row, 25),
        still_there_asked_at: row.get(26),
        still_there_at: row.get(27),
        ai_failed: count(row, 28),
        rating: row
            .get::<_, Option<i64>>(29)
            .and_then(|rating| u8::try_from(rating).ok()),
        rating_comment: row.get(30),
        visitor_languages: row.get(31),
        visitor_user_id: row.get(32),
        visitor_email: row.get(33),
        visitor_verified: flag(row, 34),
    }
}

pub(super) async fn load_conversation(
    client: &impl GenericClient,
    id: ConversationId,
) -> Result<Option<Conversation>, StoreError> {
    let found = conversations_where(client, "c.id = $1", &[&id]).await?;
    Ok(found.into_iter().next())
}

/// The conversation, which the caller knows exists (it has just written it).
pub(super) async fn reload(
    client: &impl GenericClient,
    id: ConversationId,
) -> Result<Conversation, StoreError> {
    load_conversation(client, id)
        .await?
        .ok_or(StoreError::NotFound)
}

/// Conversations matching `filter` (a `WHERE` over `c`), in `order`.
async fn conversations_where(
    client: &impl GenericClient,
    filter: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<Vec<Conversation>, StoreError> {
    let statement = client
        .prepare_cached(&format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations c \
             JOIN visitors v ON v.id = c.visitor_id WHERE {filter}"
        ))
        .await?;
    let rows = client.query(&statement, params).await?;
    Ok(rows.iter().map(conversation_from_row).collect())
}

async fn open_conversation_of(
    client: &impl GenericClient,
    visitor: VisitorId,
) -> Result<Option<ConversationId>, StoreError> {
    let row = client
        .query_opt(
            "SELECT id FROM conversations WHERE visitor_id = $1 AND status <> 'ended'",
            &[&visitor],
        )
        .await?;
    Ok(row.map(|row| row.get(0)))
}

/// Inserts the visitor's conversation with its webhook events, in one transaction;
/// `None` if another node opened one for them first.
async fn start_conversation(
    client: &mut deadpool_postgres::Client,
    new: &NewConversation,
    status: ConversationStatus,
) -> Result<Option<ConversationId>, StoreError> {
    let tx = client.transaction().await?;
    let now = now_ms();
    let queued_at = (status == ConversationStatus::Queued).then_some(now);
    let inserted = tx
        .query_one(
            "INSERT INTO conversations (site_id, visitor_id, profile_id, status, created_at, \
             queued_at, page_url, referrer, user_agent, ticket_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
            &[
                &new.site_id,
                &new.visitor_id,
                &new.profile_id,
                &status.as_str(),
                &now,
                &queued_at,
                &new.page_url,
                &new.referrer,
                &new.user_agent,
                &new.ticket_id,
            ],
        )
        .await;
    let id: ConversationId = match inserted {
        Ok(row) => row.get(0),
        Err(err) if err.code() == Some(&SqlState::UNIQUE_VIOLATION) => return Ok(None),
        Err(err) => return Err(err.into()),
    };
    chat_changed(&tx, id, WebhookEvent::ChatStarted, None, now).await?;
    if status == ConversationStatus::Queued {
        chat_changed(&tx, id, WebhookEvent::ChatQueued, None, now).await?;
    }
    tx.commit().await?;
    Ok(Some(id))
}

#[async_trait]
impl ConversationStore for PgStore {
    async fn open_or_start_conversation(
        &self,
        new: NewConversation,
        status: ConversationStatus,
    ) -> Result<(Conversation, bool), StoreError> {
        self.noting_queued(async {
            let mut client = self.client().await?;
            // Open, or lost the race to another node (then its conversation is there):
            // twice is enough, since a chat ending in between leaves room to start one.
            for _ in 0..2 {
                if let Some(id) = open_conversation_of(&client, new.visitor_id).await? {
                    return Ok((reload(&client, id).await?, false));
                }
                if let Some(id) = start_conversation(&mut client, &new, status).await? {
                    return Ok((reload(&client, id).await?, true));
                }
            }
            Err(StoreError::Conflict)
        })
        .await
    }

    async fn conversation(&self, id: ConversationId) -> Result<Option<Conversation>, StoreError> {
        load_conversation(&self.client().await?, id).await
    }

    async fn latest_conversation(
        &self,
        visitor_id: VisitorId,
    ) -> Result<Option<Conversation>, StoreError> {
        let client = self.client().await?;
        let latest = conversations_where(
            &client,
            "c.visitor_id = $1 ORDER BY c.id DESC LIMIT 1",
            &[&visitor_id],
        )
        .await?;
        Ok(latest.into_iter().next())
    }

    async fn open_conversations(&self) -> Result<Vec<Conversation>, StoreError> {
        let client = self.client().await?;
        conversations_where(
            &client,
            "c.status <> 'ended' AND c.status IN ('queued', 'active') ORDER BY c.id",
            &[],
        )
        .await
    }

    async fn waiting_conversations(&self) -> Result<Vec<Conversation>, StoreError> {
        let client = self.client().await?;
        conversations_where(
            &client,
            "c.status <> 'ended' AND c.status = 'queued' ORDER BY c.id",
            &[],
        )
        .await
    }

    async fn recent_ended(&self, limit: usize) -> Result<Vec<Conversation>, StoreError> {
        let client = self.client().await?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        conversations_where(
            &client,
            "c.status = 'ended' AND c.queued_at IS NOT NULL ORDER BY c.ended_at DESC LIMIT $1",
            &[&limit],
        )
        .await
    }

    async fn flow_turn(
        &self,
        id: ConversationId,
        turn: FlowTurn,
    ) -> Result<TurnOutcome, StoreError> {
        self.noting_queued(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            let outcome = turns::apply_turn(&tx, id, &turn).await?;
            tx.commit().await?;
            Ok(outcome)
        })
        .await
    }

    async fn join(
        &self,
        id: ConversationId,
        agent: AgentInfo,
        rules: ChatRules,
    ) -> Result<JoinOutcome, StoreError> {
        self.noting_queued(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            let outcome = joins::join(&tx, id, agent, rules).await?;
            if matches!(outcome, JoinOutcome::Joined(_)) {
                tx.commit().await?;
            }
            Ok(outcome)
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
        self.noting_queued(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            let transferred = joins::transfer(&tx, id, by, by_admin, to).await?;
            tx.commit().await?;
            Ok(transferred)
        })
        .await
    }

    async fn end(
        &self,
        id: ConversationId,
        by: Author,
        by_name: Option<String>,
    ) -> Result<Option<(Conversation, ChatMessage)>, StoreError> {
        self.noting_queued(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            let ended = joins::end(&tx, id, by, by_name).await?;
            tx.commit().await?;
            Ok(ended)
        })
        .await
    }

    async fn set_visitor_uploads(
        &self,
        id: ConversationId,
        allowed: Option<bool>,
    ) -> Result<Conversation, StoreError> {
        let client = self.client().await?;
        let updated = client
            .execute(
                "UPDATE conversations SET visitor_uploads = $1 WHERE id = $2 AND status <> 'ended'",
                &[&allowed.map(i64::from), &id],
            )
            .await?;
        if updated == 0 {
            return Err(StoreError::ConversationEnded);
        }
        reload(&client, id).await
    }
}
