//! Queuing webhook events inside the transaction that makes them: a message added, a
//! chat's status changed, a ticket opened. Plain functions over a connection, called
//! by the store's own writes; `webhook_outbox.rs` turns them into deliveries.

use std::cell::Cell;

use porchlight_protocol::api::webhooks::WebhookEvent;
use porchlight_protocol::{ChatMessage, ConversationId};
use rusqlite::{Connection, OptionalExtension, params};

use crate::store::SiteId;
use crate::store::webhook_events::{
    ANY_TYPE, ChatChange, ChatFacts, Queued, chat_data, event_payload, message_data, message_types,
    ticket_data,
};

use super::Cached;

thread_local! {
    /// Set on the writer thread when a job queued webhook events, so the sender is
    /// woken once their batch commits.
    static QUEUED: Cell<bool> = const { Cell::new(false) };
}

/// Whether the batch just run queued any webhook event (and forgets it).
pub(super) fn take_queued() -> bool {
    QUEUED.replace(false)
}

/// Queues the event for every enabled endpoint of the site that wants it; `data` is
/// only made when one does.
fn enqueue(
    conn: &Connection,
    queued: &Queued<'_>,
    data: impl FnOnce(String) -> serde_json::Value,
) -> rusqlite::Result<()> {
    let wanted: bool = conn.cached_row(
        "SELECT EXISTS (SELECT 1 FROM webhook_endpoints WHERE site_id = ?1 AND enabled = 1 \
         AND events & ?2 != 0 AND (profile_id IS NULL OR profile_id = ?3) \
         AND instr(?4, ',' || message_types || ',') > 0)",
        params![
            queued.site,
            queued.event.bit(),
            queued.profile,
            queued.types
        ],
        |row| row.get(0),
    )?;
    if !wanted {
        return Ok(());
    }
    let site: String = conn.cached_row(
        "SELECT key FROM sites WHERE id = ?1",
        [queued.site],
        |row| row.get(0),
    )?;
    let (event_id, payload) = event_payload(queued.event, queued.at, data(site));
    let added = conn.cached_execute(
        "INSERT INTO webhook_events (endpoint_id, event_id, event, payload, created_at, \
         conversation_id) \
         SELECT id, ?1, ?2, ?3, ?4, ?9 FROM webhook_endpoints WHERE site_id = ?5 AND enabled = 1 \
         AND events & ?6 != 0 AND (profile_id IS NULL OR profile_id = ?7) \
         AND instr(?8, ',' || message_types || ',') > 0",
        params![
            event_id,
            queued.event.as_str(),
            payload,
            queued.at,
            queued.site,
            queued.event.bit(),
            queued.profile,
            queued.types,
            queued.conversation
        ],
    )?;
    if added > 0 {
        QUEUED.set(true);
    }
    Ok(())
}

/// `chat.message` for a message just added.
pub(super) fn message_added(
    conn: &Connection,
    chat: &ChatFacts,
    message: &ChatMessage,
) -> rusqlite::Result<()> {
    let types = message_types(message.author, chat.live);
    let queued = Queued::about_chat(
        chat,
        message.conversation_id,
        WebhookEvent::ChatMessage,
        &types,
        message.at,
    );
    enqueue(conn, &queued, |site| message_data(chat, message, &site))
}

/// A `chat.*` event for chat `id` as it now stands; `agent` names who joined.
pub(super) fn chat_changed(
    conn: &Connection,
    id: ConversationId,
    event: WebhookEvent,
    agent: Option<&str>,
    at: i64,
) -> rusqlite::Result<()> {
    let Some((chat, ended_by, ticket)) = conn
        .cached_row(
            "SELECT site_id, profile_id, visitor_id, status, ended_by, ticket_id, \
             queued_at IS NOT NULL FROM conversations WHERE id = ?1",
            [id],
            |row| {
                let chat = ChatFacts {
                    site: row.get(0)?,
                    profile: row.get(1)?,
                    visitor: row.get(2)?,
                    status: row.get(3)?,
                    live: row.get(6)?,
                };
                Ok((
                    chat,
                    row.get::<_, Option<String>>(4)?,
                    row.get::<_, Option<i64>>(5)?,
                ))
            },
        )
        .optional()?
    else {
        return Ok(());
    };
    let queued = Queued::about_chat(&chat, id, event, ANY_TYPE, at);
    let change = ChatChange {
        id,
        chat: &chat,
        agent,
        ended_by: ended_by.filter(|_| event == WebhookEvent::ChatEnded),
        ticket,
        at,
    };
    enqueue(conn, &queued, |site| chat_data(&change, &site))
}

/// `ticket.created` for ticket `id`, made from chat `chat` when it was.
pub(super) fn ticket_created(
    conn: &Connection,
    id: i64,
    chat: Option<ConversationId>,
    at: i64,
) -> rusqlite::Result<()> {
    let (site, subject): (SiteId, String) = conn.cached_row(
        "SELECT site_id, subject FROM tickets WHERE id = ?1",
        [id],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    let profile: Option<i64> = match chat {
        Some(chat) => conn
            .cached_row(
                "SELECT profile_id FROM conversations WHERE id = ?1",
                [chat],
                |row| row.get(0),
            )
            .optional()?
            .flatten(),
        None => None,
    };
    let queued = Queued {
        site,
        conversation: chat,
        profile,
        event: WebhookEvent::TicketCreated,
        types: ANY_TYPE,
        at,
    };
    enqueue(conn, &queued, |site| {
        ticket_data(id, &subject, chat, &site, at)
    })
}

/// Deletes the webhook requests that carried chat `id`'s words: a batch sent goes
/// whole, a batch still to be sent goes out again without them.
pub(super) fn forget_conversation(conn: &Connection, id: ConversationId) -> rusqlite::Result<()> {
    // Other chats' events in a batch still to be sent are gathered again, not lost.
    conn.cached_execute(
        "UPDATE webhook_events SET delivery_id = NULL \
         WHERE conversation_id IS NOT ?1 AND delivery_id IN \
         (SELECT w.delivery_id FROM webhook_events w \
          JOIN webhook_deliveries d ON d.id = w.delivery_id \
          WHERE w.conversation_id = ?1 AND d.status = 'pending')",
        [id],
    )?;
    conn.cached_execute(
        "DELETE FROM webhook_deliveries WHERE id IN \
         (SELECT delivery_id FROM webhook_events WHERE conversation_id = ?1)",
        [id],
    )?;
    conn.cached_execute(
        "DELETE FROM webhook_events WHERE conversation_id = ?1",
        [id],
    )?;
    Ok(())
}
