//! An agent replies on a ticket: the reply is kept on the ticket and emailed to the
//! requester (the address the ticket was opened with, else the one its chat gave),
//! through the outbox, in one transaction.

use std::sync::atomic::Ordering;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use porchlight_protocol::api::tickets::{ReplyQueued, TicketReply};

use super::tickets::visible_ticket;
use crate::auth::LoggedInWriting;
use crate::email::sender::requester;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The longest reply, in characters.
const MAX_REPLY_CHARS: usize = 10_000;

/// `POST /api/tickets/{id}/replies`: for agents who may see the ticket.
pub(crate) async fn reply(
    State(state): State<AppState>,
    LoggedInWriting(agent): LoggedInWriting,
    Path(id): Path<i64>,
    Json(input): Json<TicketReply>,
) -> ApiResult<(StatusCode, Json<ReplyQueued>)> {
    let body = input.body.trim().to_owned();
    if !(1..=MAX_REPLY_CHARS).contains(&body.chars().count()) {
        return Err(ApiError::invalid(format!(
            "A reply has 1 to {MAX_REPLY_CHARS} characters."
        )));
    }
    let ticket = visible_ticket(&state, &agent, id).await?;
    let requester = if state.email_on.load(Ordering::Relaxed) {
        requester(&state, &ticket).await?
    } else {
        None
    };
    let chat = requester.as_ref().and_then(|requester| requester.chat);
    let to = requester.map(|requester| requester.email);
    let note = state
        .store
        .reply_on_ticket(id, agent.id, body, to.clone(), chat)
        .await?;
    if to.is_some() {
        state.email_queued.notify_one();
    }
    tracing::info!(ticket = id, emailed = to.is_some(), "ticket reply");
    Ok((
        StatusCode::CREATED,
        Json(ReplyQueued {
            note,
            emailed_to: to,
        }),
    ))
}
