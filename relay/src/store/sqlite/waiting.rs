//! A waiting chat's timers: wait messages, "are you still there?", abandonment, and the queue times `$WAITTIME` averages. Plain functions over a connection;
//! `mod.rs` runs them on the writer thread or a reader.

use std::collections::BTreeMap;

use async_trait::async_trait;
use porchlight_protocol::api::webhooks::WebhookEvent;
use porchlight_protocol::words::Text;
use porchlight_protocol::{Author, ChatMessage, ConversationId};
use rusqlite::{Connection, params};

use crate::store::model::{Conversation, NewMessage};
use crate::store::{StoreError, WaitingStore, now_ms};

use super::conversations::load_conversation;
use super::messages::insert_message;
use super::tickets::{add_transcript, set_categories};
use super::webhook_events::chat_changed;
use super::{Cached, SqliteStore};
use crate::store::chat_events::{event, said};

pub(super) fn queue_times_since(
    conn: &Connection,
    since: i64,
) -> Result<Vec<(i64, i64)>, StoreError> {
    let mut statement = conn.prepare_cached(
        "SELECT agent_joined_at, queue_ms FROM conversations \
         WHERE agent_joined_at >= ?1 AND queue_ms IS NOT NULL ORDER BY agent_joined_at",
    )?;
    let rows = statement.query_map([since], |row| Ok((row.get(0)?, row.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub(super) fn post_wait_message(
    conn: &Connection,
    id: ConversationId,
    bot_name: String,
    body: String,
    sent_before: u32,
) -> Result<Option<ChatMessage>, StoreError> {
    let counted = conn.cached_execute(
        "UPDATE conversations SET wait_messages_sent = wait_messages_sent + 1 \
         WHERE id = ?1 AND status = 'queued' AND wait_messages_sent = ?2",
        params![id, sent_before],
    )?;
    if counted == 0 {
        return Ok(None);
    }
    let message = NewMessage::text(id, None, Author::Bot, None, Some(bot_name), body);
    Ok(Some(insert_message(conn, &message)?.message))
}

pub(super) fn ask_still_there(
    conn: &Connection,
    id: ConversationId,
    bot_name: String,
    body: String,
) -> Result<Option<ChatMessage>, StoreError> {
    let asked = conn.cached_execute(
        "UPDATE conversations SET still_there_asked_at = ?1 \
         WHERE id = ?2 AND status = 'queued' AND still_there_asked_at IS NULL",
        params![now_ms(), id],
    )?;
    if asked == 0 {
        return Ok(None);
    }
    let message = NewMessage::text(id, None, Author::Bot, None, Some(bot_name), body);
    Ok(Some(insert_message(conn, &message)?.message))
}

pub(super) fn confirm_still_there(
    conn: &Connection,
    id: ConversationId,
) -> Result<bool, StoreError> {
    let confirmed = conn.cached_execute(
        "UPDATE conversations SET still_there_at = ?1, still_there_asked_at = NULL \
         WHERE id = ?2 AND status = 'queued' AND still_there_asked_at IS NOT NULL",
        params![now_ms(), id],
    )?;
    Ok(confirmed > 0)
}

pub(super) fn abandon(
    conn: &Connection,
    id: ConversationId,
    close_ticket: bool,
    categories: BTreeMap<String, String>,
) -> Result<Option<(Conversation, ChatMessage)>, StoreError> {
    let now = now_ms();
    let ended = conn.cached_execute(
        "UPDATE conversations SET status = 'ended', ended_at = ?1, ended_by = 'abandoned', \
         abandoned = 1 WHERE id = ?2 AND status = 'queued'",
        params![now, id],
    )?;
    if ended == 0 {
        return Ok(None);
    }
    chat_changed(conn, id, WebhookEvent::ChatAbandoned, None, now)?;
    let ticket: Option<i64> = conn.cached_row(
        "SELECT ticket_id FROM conversations WHERE id = ?1",
        [id],
        |row| row.get(0),
    )?;
    if let Some(ticket) = ticket {
        if close_ticket {
            conn.cached_execute(
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
    let event = event(id, said(Text::NobodyAnswered, &[]));
    let appended = insert_message(conn, &event)?;
    add_transcript(conn, id)?;
    let conversation = load_conversation(conn, id)?.ok_or(StoreError::NotFound)?;
    Ok(Some((conversation, appended.message)))
}

#[async_trait]
impl WaitingStore for SqliteStore {
    async fn queue_times_since(&self, since: i64) -> Result<Vec<(i64, i64)>, StoreError> {
        self.read(move |conn| queue_times_since(conn, since)).await
    }

    async fn post_wait_message(
        &self,
        id: ConversationId,
        bot_name: String,
        body: String,
        sent_before: u32,
    ) -> Result<Option<ChatMessage>, StoreError> {
        self.write(move |conn| post_wait_message(conn, id, bot_name, body, sent_before))
            .await
    }

    async fn ask_still_there(
        &self,
        id: ConversationId,
        bot_name: String,
        body: String,
    ) -> Result<Option<ChatMessage>, StoreError> {
        self.write(move |conn| ask_still_there(conn, id, bot_name, body))
            .await
    }

    async fn confirm_still_there(&self, id: ConversationId) -> Result<bool, StoreError> {
        self.write(move |conn| confirm_still_there(conn, id)).await
    }

    async fn abandon(
        &self,
        id: ConversationId,
        close_ticket: bool,
        categories: BTreeMap<String, String>,
    ) -> Result<Option<(Conversation, ChatMessage)>, StoreError> {
        self.write(move |conn| abandon(conn, id, close_ticket, categories))
            .await
    }
}
