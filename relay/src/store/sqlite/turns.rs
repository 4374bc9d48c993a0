//! One turn of a conversation's bot flow, written in one transaction: the visitor's
//! answer, the bot's messages, the new flow state, and any hand-over (queue, ticket,
//! end). A turn computed from a state another turn has changed writes nothing.

use porchlight_protocol::api::webhooks::WebhookEvent;
use porchlight_protocol::words::Text;
use porchlight_protocol::{ConversationId, ConversationStatus};
use rusqlite::{Connection, OptionalExtension, params};

use crate::store::model::{FlowTurn, TurnOutcome};
use crate::store::{StoreError, now_ms};

use super::Cached;
use super::conversations::load_conversation;
use super::emails::{queue_acknowledgement, queue_ticket_email};
use super::messages::{existing_message, insert_message};
use super::tickets::add_transcript;
use super::webhook_events::{chat_changed, ticket_created};
use crate::store::chat_events::{bot_says, event, said};

pub(super) fn apply_turn(
    conn: &Connection,
    id: ConversationId,
    turn: &FlowTurn,
) -> Result<TurnOutcome, StoreError> {
    if let Some(visitor_message) = &turn.visitor_message
        && let Some(original) = existing_message(conn, visitor_message)?
    {
        return Ok(TurnOutcome::Duplicate(original));
    }
    let Some(current) = load_conversation(conn, id)? else {
        return Err(StoreError::NotFound);
    };
    match current.status {
        ConversationStatus::Ended => return Err(StoreError::ConversationEnded),
        ConversationStatus::Bot if current.flow_state == turn.expected_state => {}
        _ => return Ok(TurnOutcome::Conflict),
    }
    let mut messages = Vec::new();
    if let Some(visitor_message) = &turn.visitor_message {
        messages.push(insert_message(conn, visitor_message)?.message);
    }
    for body in &turn.bot_messages {
        let bot = bot_says(turn, id, body);
        messages.push(insert_message(conn, &bot)?.message);
    }
    let now = now_ms();
    conn.cached_execute(
        "UPDATE conversations SET flow_state = ?1, current_step = ?2 WHERE id = ?3",
        params![turn.flow_state, turn.current_step, id],
    )?;
    if let Some(subject) = &turn.ticket_subject {
        conn.cached_execute(
            "INSERT INTO tickets (site_id, visitor_id, subject, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![current.site_id, current.visitor_id, subject, now],
        )?;
        let ticket = conn.last_insert_rowid();
        conn.cached_execute(
            "UPDATE conversations SET ticket_id = ?1 WHERE id = ?2",
            params![ticket, id],
        )?;
        ticket_created(conn, ticket, Some(id), now)?;
        // The team hears of it by email (and the visitor, if the profile says so);
        // queued with the ticket, so neither is lost.
        queue_ticket_email(conn, ticket, now)?;
        if let Some((to, body)) = &turn.ticket_acknowledgement {
            queue_acknowledgement(conn, ticket, to, body, now)?;
        }
    }
    if turn.queue && current.ticket_id.is_none() && through_tickets(conn)? {
        // Through tickets, every waiting chat has a ticket to join it from.
        let subject = format!("Chat with {}", current.visitor_name);
        let team = turn.queue_teams.first().cloned();
        conn.cached_execute(
            "INSERT INTO tickets (site_id, visitor_id, subject, team, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![current.site_id, current.visitor_id, subject, team, now],
        )?;
        let ticket = conn.last_insert_rowid();
        conn.cached_execute(
            "UPDATE conversations SET ticket_id = ?1 WHERE id = ?2",
            params![ticket, id],
        )?;
        ticket_created(conn, ticket, Some(id), now)?;
    }
    if turn.queue {
        let (policy, switchable) = turn.upload_policy;
        conn.cached_execute(
            "UPDATE conversations SET status = 'queued', queued_at = ?1, teams = ?2, \
             upload_policy = ?3, uploads_switchable = ?4 WHERE id = ?5",
            params![
                now,
                serde_json::to_string(&turn.queue_teams).unwrap_or_else(|_| "[]".into()),
                policy.as_str(),
                switchable,
                id
            ],
        )?;
        chat_changed(conn, id, WebhookEvent::ChatQueued, None, now)?;
    } else if turn.end {
        conn.cached_execute(
            "UPDATE conversations SET status = 'ended', ended_at = ?1, ended_by = 'bot' WHERE id = ?2",
            params![now, id],
        )?;
        chat_changed(conn, id, WebhookEvent::ChatEnded, None, now)?;
        messages.push(insert_message(conn, &event(id, said(Text::Ended, &[])))?.message);
        add_transcript(conn, id)?;
    }
    let conversation = load_conversation(conn, id)?.ok_or(StoreError::NotFound)?;
    Ok(TurnOutcome::Applied {
        conversation: Box::new(conversation),
        messages,
    })
}

fn through_tickets(conn: &Connection) -> rusqlite::Result<bool> {
    Ok(conn
        .cached_row(
            "SELECT value FROM settings WHERE key = 'through_tickets'",
            [],
            |row| row.get::<_, String>(0),
        )
        .optional()?
        .is_some_and(|value| value == "true"))
}
