//! One turn of a conversation's bot flow on PostgreSQL, in the caller's transaction:
//! the visitor's answer, the bot's messages, the new flow state and any hand-over
//! (queue, ticket, end). The conversation's row is locked before its flow state is
//! compared, so of two turns computed from one state (two tabs, two nodes) one writes
//! and the other is told `Conflict`.

use deadpool_postgres::GenericClient;
use porchlight_protocol::api::webhooks::WebhookEvent;
use porchlight_protocol::words::Text;
use porchlight_protocol::{ConversationId, ConversationStatus};

use super::conversations::reload;
use super::emails::{queue_acknowledgement, queue_ticket_email};
use super::messages::{existing_message, insert_message};
use super::tickets::{ChatTicket, add_transcript, open_chat_ticket};
use super::webhook_events::chat_changed;
use crate::store::chat_events::{bot_says, event, said};
use crate::store::model::{Conversation, FlowTurn, TurnOutcome};
use crate::store::{StoreError, now_ms};

pub(super) async fn apply_turn(
    tx: &impl GenericClient,
    id: ConversationId,
    turn: &FlowTurn,
) -> Result<TurnOutcome, StoreError> {
    tx.query_opt(
        "SELECT 1 FROM conversations WHERE id = $1 FOR UPDATE",
        &[&id],
    )
    .await?
    .ok_or(StoreError::NotFound)?;
    if let Some(visitor_message) = &turn.visitor_message
        && let Some(original) = existing_message(tx, visitor_message).await?
    {
        return Ok(TurnOutcome::Duplicate(original));
    }
    let current = reload(tx, id).await?;
    match current.status {
        ConversationStatus::Ended => return Err(StoreError::ConversationEnded),
        ConversationStatus::Bot if current.flow_state == turn.expected_state => {}
        _ => return Ok(TurnOutcome::Conflict),
    }
    let mut messages = Vec::new();
    if let Some(visitor_message) = &turn.visitor_message {
        messages.push(insert_message(tx, visitor_message).await?.message);
    }
    for body in &turn.bot_messages {
        let bot = bot_says(turn, id, body);
        messages.push(insert_message(tx, &bot).await?.message);
    }
    let now = now_ms();
    tx.execute(
        "UPDATE conversations SET flow_state = $1, current_step = $2 WHERE id = $3",
        &[&turn.flow_state, &turn.current_step, &id],
    )
    .await?;
    hand_over(tx, &current, turn, now, &mut messages).await?;
    Ok(TurnOutcome::Applied {
        conversation: Box::new(reload(tx, id).await?),
        messages,
    })
}

/// What the turn hands the chat on to: a ticket, the queue, or its end.
async fn hand_over(
    tx: &impl GenericClient,
    current: &Conversation,
    turn: &FlowTurn,
    now: i64,
    messages: &mut Vec<porchlight_protocol::ChatMessage>,
) -> Result<(), StoreError> {
    let id = current.id;
    if let Some(subject) = &turn.ticket_subject {
        let ticket = ChatTicket {
            site: current.site_id,
            visitor: current.visitor_id,
            subject,
            team: None,
        };
        let ticket = open_chat_ticket(tx, id, ticket, now).await?;
        // The team hears of it by email (and the visitor, if the profile says so);
        // queued with the ticket, so neither is lost.
        queue_ticket_email(tx, ticket, now).await?;
        if let Some((to, body)) = &turn.ticket_acknowledgement {
            queue_acknowledgement(tx, ticket, to, body, now).await?;
        }
    }
    if turn.queue && current.ticket_id.is_none() && through_tickets(tx).await? {
        // Through tickets, every waiting chat has a ticket to join it from.
        let subject = format!("Chat with {}", current.visitor_name);
        let ticket = ChatTicket {
            site: current.site_id,
            visitor: current.visitor_id,
            subject: &subject,
            team: turn.queue_teams.first().map(String::as_str),
        };
        open_chat_ticket(tx, id, ticket, now).await?;
    }
    if turn.queue {
        let (policy, switchable) = turn.upload_policy;
        tx.execute(
            "UPDATE conversations SET status = 'queued', queued_at = $1, teams = $2, \
             upload_policy = $3, uploads_switchable = $4 WHERE id = $5",
            &[
                &now,
                &serde_json::to_string(&turn.queue_teams).unwrap_or_else(|_| "[]".into()),
                &policy.as_str(),
                &i64::from(switchable),
                &id,
            ],
        )
        .await?;
        chat_changed(tx, id, WebhookEvent::ChatQueued, None, now).await?;
    } else if turn.end {
        tx.execute(
            "UPDATE conversations SET status = 'ended', ended_at = $1, ended_by = 'bot' \
             WHERE id = $2",
            &[&now, &id],
        )
        .await?;
        chat_changed(tx, id, WebhookEvent::ChatEnded, None, now).await?;
        messages.push(
            insert_message(tx, &event(id, said(Text::Ended, &[])))
                .await?
                .message,
        );
        add_transcript(tx, id).await?;
    }
    Ok(())
}

async fn through_tickets(tx: &impl GenericClient) -> Result<bool, StoreError> {
    let row = tx
        .query_opt(
            "SELECT value FROM settings WHERE key = 'through_tickets'",
            &[],
        )
        .await?;
    Ok(row.is_some_and(|row| row.get::<_, &str>(0) == "true"))
}
