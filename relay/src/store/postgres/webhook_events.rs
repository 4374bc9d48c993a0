//! Queuing webhook events on PostgreSQL, inside the transaction that makes them (a
//! message added, a chat's status changed, a ticket opened): what they say is built by
//! `store::webhook_events`, the same as on SQLite.

use std::cell::Cell;

use deadpool_postgres::GenericClient;
use porchlight_protocol::api::webhooks::WebhookEvent;
use porchlight_protocol::{ChatMessage, ConversationId};

use super::PgStore;
use crate::store::StoreError;
use crate::store::webhook_events::{
    ANY_TYPE, ChatChange, ChatFacts, Queued, chat_data, event_payload, message_data, message_types,
    ticket_data,
};

tokio::task_local! {
    /// Set, while a store call runs inside [`PgStore::noting_queued`], when it queued
    /// a webhook event.
    static QUEUED: Cell<bool>;
}

impl PgStore {
    /// Runs a store call that may queue webhook events and, once it has committed
    /// some, wakes this node's sender (which also looks on its own every minute, for
    /// events other nodes queued).
    pub(super) async fn noting_queued<T>(
        &self,
        work: impl Future<Output = Result<T, StoreError>> + Send,
    ) -> Result<T, StoreError> {
        let (result, queued) = QUEUED
            .scope(Cell::new(false), async {
                let result = work.await;
                (result, QUEUED.with(Cell::get))
            })
            .await;
        if queued && result.is_ok() {
            self.webhook_events_queued.notify_one();
        }
        result
    }
}

/// The endpoints of the event's site that want it: enabled, subscribed to the event,
/// for its profile (or every profile) and its message types.
const WANTED_BY: &str = "FROM webhook_endpoints WHERE site_id = $1 AND enabled = 1 \
     AND events & $2 <> 0 AND (profile_id IS NULL OR profile_id = $3) \
     AND strpos($4, ',' || message_types || ',') > 0";

/// Queues the event for every endpoint that wants it; `data` is only made (from the
/// site's key) when one does.
async fn enqueue(
    tx: &impl GenericClient,
    queued: &Queued<'_>,
    data: impl FnOnce(String) -> serde_json::Value,
) -> Result<(), StoreError> {
    let wanted = tx
        .prepare_cached(&format!(
            "SELECT key FROM sites WHERE id = $1 AND EXISTS (SELECT 1 {WANTED_BY})"
        ))
        .await?;
    let bit = queued.event.bit();
    let Some(site) = tx
        .query_opt(
            &wanted,
            &[&queued.site, &bit, &queued.profile, &queued.types],
        )
        .await?
    else {
        return Ok(());
    };
    let (event_id, payload) = event_payload(queued.event, queued.at, data(site.get(0)));
    let insert = tx
        .prepare_cached(&format!(
            "INSERT INTO webhook_events (endpoint_id, event_id, event, payload, created_at, \
             conversation_id) SELECT id, $5, $6, $7, $8, $9 {WANTED_BY}"
        ))
        .await?;
    let added = tx
        .execute(
            &insert,
            &[
                &queued.site,
                &bit,
                &queued.profile,
                &queued.types,
                &event_id,
                &queued.event.as_str(),
                &payload,
                &queued.at,
                &queued.conversation,
            ],
        )
        .await?;
    if added > 0 {
        // Outside `noting_queued` there is no sender to wake from here.
        QUEUED.try_with(|queued| queued.set(true)).ok();
    }
    Ok(())
}

/// `chat.message` for a message just added.
pub(super) async fn message_added(
    tx: &impl GenericClient,
    chat: &ChatFacts,
    message: &ChatMessage,
) -> Result<(), StoreError> {
    let types = message_types(message.author, chat.live);
    let queued = Queued::about_chat(
        chat,
        message.conversation_id,
        WebhookEvent::ChatMessage,
        &types,
        message.at,
    );
    enqueue(tx, &queued, |site| message_data(chat, message, &site)).await
}

/// A `chat.*` event for chat `id` as it now stands; `agent` names who joined.
pub(super) async fn chat_changed(
    tx: &impl GenericClient,
    id: ConversationId,
    event: WebhookEvent,
    agent: Option<&str>,
    at: i64,
) -> Result<(), StoreError> {
    let Some(row) = tx
        .query_opt(
            "SELECT site_id, profile_id, visitor_id, status, ended_by, ticket_id, \
             queued_at IS NOT NULL FROM conversations WHERE id = $1",
            &[&id],
        )
        .await?
    else {
        return Ok(());
    };
    let chat = ChatFacts {
        site: row.get(0),
        profile: row.get(1),
        visitor: row.get(2),
        status: row.get(3),
        live: row.get(6),
    };
    let queued = Queued::about_chat(&chat, id, event, ANY_TYPE, at);
    let change = ChatChange {
        id,
        chat: &chat,
        agent,
        ended_by: row
            .get::<_, Option<String>>(4)
            .filter(|_| event == WebhookEvent::ChatEnded),
        ticket: row.get(5),
        at,
    };
    enqueue(tx, &queued, |site| chat_data(&change, &site)).await
}

/// `ticket.created` for ticket `id`, made from chat `chat` when it was.
pub(super) async fn ticket_created(
    tx: &impl GenericClient,
    id: i64,
    chat: Option<ConversationId>,
    at: i64,
) -> Result<(), StoreError> {
    let row = tx
        .query_one(
            "SELECT t.site_id, t.subject, \
             (SELECT profile_id FROM conversations WHERE id = $2) \
             FROM tickets t WHERE t.id = $1",
            &[&id, &chat],
        )
        .await?;
    let subject: String = row.get(1);
    let queued = Queued {
        site: row.get(0),
        conversation: chat,
        profile: row.get(2),
        event: WebhookEvent::TicketCreated,
        types: ANY_TYPE,
        at,
    };
    enqueue(tx, &queued, |site| {
        ticket_data(id, &subject, chat, &site, at)
    })
    .await
}

/// Deletes the webhook requests that carried chat `id`'s words: a batch sent goes
/// whole, a batch still to be sent goes out again without them.
pub(super) async fn forget_conversation(
    tx: &impl GenericClient,
    id: ConversationId,
) -> Result<(), StoreError> {
    // Other chats' events in a batch still to be sent are gathered again, not lost.
    tx.execute(
        "UPDATE webhook_events SET delivery_id = NULL \
         WHERE conversation_id IS DISTINCT FROM $1 AND delivery_id IN \
         (SELECT w.delivery_id FROM webhook_events w \
          JOIN webhook_deliveries d ON d.id = w.delivery_id \
          WHERE w.conversation_id = $1 AND d.status = 'pending')",
        &[&id],
    )
    .await?;
    tx.execute(
        "DELETE FROM webhook_deliveries WHERE id IN \
         (SELECT delivery_id FROM webhook_events WHERE conversation_id = $1)",
        &[&id],
    )
    .await?;
    tx.execute(
        "DELETE FROM webhook_events WHERE conversation_id = $1",
        &[&id],
    )
    .await?;
    Ok(())
}
