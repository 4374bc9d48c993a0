//! The console's ticket list, for live chat "through tickets": every agent lists the
//! tickets their conversation access level lets them see and takes one; admins assign
//! anyone. Joining the linked chat is the socket's `join`, which checks the rules.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use porchlight_protocol::{AgentId, TicketDetail, TicketLine};
use serde::Deserialize;

use crate::auth::{Need, api_error, require};
use crate::routing::AccessLevel;
use crate::server::AppState;
use crate::store::{Agent, Role, StoreError};

/// How many tickets the list shows.
const LIST_LIMIT: usize = 200;

fn internal(err: &StoreError) -> Response {
    tracing::error!(error = %err, "ticket store failure");
    api_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "The relay could not do that; try again.",
    )
}

/// Whether `agent` (in `teams`) may see `ticket`: by their conversation access level.
pub fn may_see(agent: &Agent, teams: &[String], ticket: &TicketLine) -> bool {
    let assigned = ticket.agent.as_ref().map(|assignee| assignee.id) == Some(agent.id);
    match agent.access {
        AccessLevel::All => true,
        AccessLevel::Team => {
            assigned
                || ticket
                    .team
                    .as_ref()
                    .is_some_and(|team| teams.iter().any(|own| own.eq_ignore_ascii_case(team)))
        }
        AccessLevel::Own => assigned,
    }
}

async fn teams_of(state: &AppState, agent: AgentId) -> Result<Vec<String>, StoreError> {
    Ok(state
        .store
        .agent_snapshots()
        .await?
        .into_iter()
        .find(|snapshot| snapshot.id == agent)
        .map(|snapshot| snapshot.teams)
        .unwrap_or_default())
}

/// `GET /api/tickets`: the latest tickets this agent may see, newest first.
pub async fn list(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let agent = match require(&state, &headers, Need::Agent).await {
        Ok(agent) => agent,
        Err(response) => return response,
    };
    let (tickets, teams) = match (
        state.store.tickets(None, LIST_LIMIT).await,
        teams_of(&state, agent.id).await,
    ) {
        (Ok(tickets), Ok(teams)) => (tickets, teams),
        (Err(err), _) | (_, Err(err)) => return internal(&err),
    };
    let visible: Vec<TicketLine> = tickets
        .into_iter()
        .filter(|ticket| may_see(&agent, &teams, ticket))
        .collect();
    Json(visible).into_response()
}

/// `GET /api/tickets/{id}`: the ticket, its notes (chat transcripts) and its chats.
pub async fn detail(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Response {
    let agent = match require(&state, &headers, Need::Agent).await {
        Ok(agent) => agent,
        Err(response) => return response,
    };
    let (tickets, teams) = match (
        state.store.tickets(Some(id), 1).await,
        teams_of(&state, agent.id).await,
    ) {
        (Ok(tickets), Ok(teams)) => (tickets, teams),
        (Err(err), _) | (_, Err(err)) => return internal(&err),
    };
    let Some(ticket) = tickets
        .into_iter()
        .find(|ticket| may_see(&agent, &teams, ticket))
    else {
        return api_error(StatusCode::NOT_FOUND, "not_found", "No such ticket.");
    };
    match state.store.ticket_notes_and_chats(id).await {
        Ok((notes, chats)) => Json(TicketDetail {
            ticket,
            notes,
            chats,
        })
        .into_response(),
        Err(err) => internal(&err),
    }
}

#[derive(Deserialize, Debug)]
pub struct Assignment {
    /// `null` leaves the ticket unassigned.
    agent_id: Option<AgentId>,
}

/// `PUT /api/tickets/{id}/agent`: agents take a ticket they can see (or give back
/// their own); admins assign anyone.
pub async fn assign(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Json(assignment): Json<Assignment>,
) -> Response {
    let agent = match require(&state, &headers, Need::AgentWriting).await {
        Ok(agent) => agent,
        Err(response) => return response,
    };
    let (tickets, teams) = match (
        state.store.tickets(Some(id), 1).await,
        teams_of(&state, agent.id).await,
    ) {
        (Ok(tickets), Ok(teams)) => (tickets, teams),
        (Err(err), _) | (_, Err(err)) => return internal(&err),
    };
    let Some(ticket) = tickets
        .iter()
        .find(|ticket| ticket.id == id && may_see(&agent, &teams, ticket))
    else {
        return api_error(StatusCode::NOT_FOUND, "not_found", "No such ticket.");
    };
    let admin = agent.role == Role::Admin;
    let current = ticket.agent.as_ref().map(|assignee| assignee.id);
    let allowed = admin
        || match assignment.agent_id {
            Some(target) => target == agent.id,
            None => current == Some(agent.id),
        };
    if !allowed {
        return api_error(
            StatusCode::FORBIDDEN,
            "admin_only",
            "Agents can take a ticket or give back their own; admins assign others.",
        );
    }
    if let Some(target) = assignment.agent_id
        && target != agent.id
    {
        match state.store.agent_accounts().await {
            Ok(accounts) if accounts.iter().any(|account| account.id == target) => {}
            Ok(_) => return api_error(StatusCode::NOT_FOUND, "not_found", "No such agent."),
            Err(err) => return internal(&err),
        }
    }
    match state.store.assign_ticket(id, assignment.agent_id).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(StoreError::NotFound) => {
            api_error(StatusCode::NOT_FOUND, "not_found", "No such ticket.")
        }
        Err(err) => internal(&err),
    }
}
