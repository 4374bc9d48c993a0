//! A waiting chat's timers on PostgreSQL: wait messages, "are you still there?",
//! abandonment, and the queue times `$WAITTIME` averages. Each timer's write is an
//! update conditional on the chat's state, so when several nodes' timers fire for one
//! chat, the first to commit posts and the others find the condition gone (a
//! statement that waited for the row's lock checks it again on the row as committed).

use std::collections::BTreeMap;

use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use porchlight_protocol::api::webhooks::WebhookEvent;
use porchlight_protocol::words::Text;
use porchlight_protocol::{Author, ChatMessage, ConversationId};

use super::PgStore;
use super::conversations::reload;
use super::messages::insert_message;
use super::tickets::{add_transcript, set_categories};
use super::webhook_events::chat_changed;
use crate::store::chat_events::{event, said};
use crate::store::model::{Conversation, NewMessage};
use crate::store::{StoreError, WaitingStore, now_ms};

/// Runs `update` (one row's conditional update, `$1` the chat) and, if it changed the
/// row, posts the bot's `body` in the same transaction.
async fn post_if(
    store: &PgStore,
    id: ConversationId,
    update: &str,
    values: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    bot: (String, String),
) -> Result<Option<ChatMessage>, StoreError> {
    store
        .noting_queued(async {
            let mut client = store.client().await?;
            let tx = client.transaction().await?;
            if tx.execute(update, values).await? == 0 {
                return Ok(None);
            }
            let (bot_name, body) = bot;
            let message = NewMessage::text(id, None, Author::Bot, None, Some(bot_name), body);
            let posted = insert_message(&tx, &message).await?.message;
            tx.commit().await?;
            Ok(Some(posted))
        })
        .await
}

async fn abandon(
    tx: &impl GenericClient,
    id: ConversationId,
    close_ticket: bool,
    categories: &BTreeMap<String, String>,
) -> Result<Option<(Conversation, ChatMessage)>, StoreError> {
    let now = now_ms();
    let Some(ended) = tx
        .query_opt(
            "UPDATE conversations SET status = 'ended', ended_at = $1, ended_by = 'abandoned', \
             abandoned = 1 WHERE id = $2 AND status = 'queued' RETURNING ticket_id",
            &[&now, &id],
        )
        .await?
    else {
        return Ok(None);
    };
    chat_changed(tx, id, WebhookEvent::ChatAbandoned, None, now).await?;
    if let Some(ticket) = ended.get::<_, Option<i64>>(0) {
        if close_ticket {
            tx.execute(
                "UPDATE tickets SET status = 'closed' WHERE id = $1",
                &[&ticket],
            )
            .await?;
        }
        // Values no longer defined are skipped rather than failing the end.
        for (name, value) in categories {
            let one = BTreeMap::from([(name.clone(), value.clone())]);
            match set_categories(tx, ticket, &one).await {
                Ok(()) | Err(StoreError::NotFound) => {}
                Err(err) => return Err(err),
            }
        }
    }
    let appended = insert_message(tx, &event(id, said(Text::NobodyAnswered, &[]))).await?;
    add_transcript(tx, id).await?;
    Ok(Some((reload(tx, id).await?, appended.message)))
}

#[async_trait]
impl WaitingStore for PgStore {
    async fn queue_times_since(&self, since: i64) -> Result<Vec<(i64, i64)>, StoreError> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT agent_joined_at, queue_ms FROM conversations \
                 WHERE agent_joined_at >= $1 AND queue_ms IS NOT NULL ORDER BY agent_joined_at",
                &[&since],
            )
            .await?;
        Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
    }

    async fn post_wait_message(
        &self,
        id: ConversationId,
        bot_name: String,
        body: String,
        sent_before: u32,
    ) -> Result<Option<ChatMessage>, StoreError> {
        post_if(
            self,
            id,
            "UPDATE conversations SET wait_messages_sent = wait_messages_sent + 1 \
             WHERE id = $1 AND status = 'queued' AND wait_messages_sent = $2",
            &[&id, &i64::from(sent_before)],
            (bot_name, body),
        )
        .await
    }

    async fn ask_still_there(
        &self,
        id: ConversationId,
        bot_name: String,
        body: String,
    ) -> Result<Option<ChatMessage>, StoreError> {
        post_if(
            self,
            id,
            "UPDATE conversations SET still_there_asked_at = $2 \
             WHERE id = $1 AND status = 'queued' AND still_there_asked_at IS NULL",
            &[&id, &now_ms()],
            (bot_name, body),
        )
        .await
    }

    async fn confirm_still_there(&self, id: ConversationId) -> Result<bool, StoreError> {
        let confirmed = self
            .client()
            .await?
            .execute(
                "UPDATE conversations SET still_there_at = $1, still_there_asked_at = NULL \
                 WHERE id = $2 AND status = 'queued' AND still_there_asked_at IS NOT NULL",
                &[&now_ms(), &id],
            )
            .await?;
        Ok(confirmed > 0)
    }

    async fn abandon(
        &self,
        id: ConversationId,
        close_ticket: bool,
        categories: BTreeMap<String, String>,
    ) -> Result<Option<(Conversation, ChatMessage)>, StoreError> {
        self.noting_queued(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            let abandoned = abandon(&tx, id, close_ticket, &categories).await?;
            tx.commit().await?;
            Ok(abandoned)
        })
        .await
    }
}
