//! The console's ticket list, for live chat "through tickets": every agent lists the
//! tickets their conversation access level lets them see and takes one; admins assign
//! anyone. Joining the linked chat is the socket's `join`, which checks the rules.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::collections::BTreeMap;

use porchlight_protocol::{AgentId, TicketCategory, TicketDetail, TicketLine};
use serde::Deserialize;

use crate::auth::{Need, api_error, require};
use crate::routing::{AccessLevel, Viewer};
use crate::server::AppState;
use crate::store::{Agent, Conversation, Role, StoreError};
use crate::ws::queue;

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
    let ticket = match visible_ticket(&state, &agent, id).await {
        Ok(ticket) => ticket,
        Err(refused) => return refused,
    };
    let (details, categories) = (
        state.store.ticket_notes_and_chats(id).await,
        state.store.ticket_category_values(id).await,
    );
    match (details, categories) {
        (Ok((notes, chats)), Ok(categories)) => Json(TicketDetail {
            ticket,
            categories,
            notes,
            chats,
        })
        .into_response(),
        (Err(err), _) | (_, Err(err)) => internal(&err),
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
    let ticket = match visible_ticket(&state, &agent, id).await {
        Ok(ticket) => ticket,
        Err(refused) => return refused,
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

/// `GET /api/ticket-categories`: the category fields and their values.
pub async fn categories(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(response) = require(&state, &headers, Need::Agent).await {
        return response;
    }
    match state.store.ticket_categories().await {
        Ok(categories) => Json(categories).into_response(),
        Err(err) => internal(&err),
    }
}

/// `POST /api/admin/categories` (admins): a new category field with its values.
pub async fn create_category(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(category): Json<TicketCategory>,
) -> Response {
    if let Err(response) = require(&state, &headers, Need::AdminWriting).await {
        return response;
    }
    let name = category.name.trim().to_owned();
    let mut values: Vec<String> = category
        .values
        .iter()
        .map(|value| value.trim().to_owned())
        .filter(|value| !value.is_empty())
        .collect();
    values.dedup();
    let fits = |text: &str| (1..=80).contains(&text.chars().count());
    if !fits(&name) || values.is_empty() || !values.iter().all(|value| fits(value)) {
        return api_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "A category needs a name and at least one value, each 1 to 80 characters.",
        );
    }
    match state
        .store
        .create_ticket_category(TicketCategory { name, values })
        .await
    {
        Ok(()) => StatusCode::CREATED.into_response(),
        Err(StoreError::Duplicate) => api_error(
            StatusCode::CONFLICT,
            "name_taken",
            "There is already a category with that name.",
        ),
        Err(err) => internal(&err),
    }
}

/// The ticket if `agent` may see it, else the answer to send.
async fn visible_ticket(state: &AppState, agent: &Agent, id: i64) -> Result<TicketLine, Response> {
    let (tickets, teams) = match (
        state.store.tickets(Some(id), 1).await,
        teams_of(state, agent.id).await,
    ) {
        (Ok(tickets), Ok(teams)) => (tickets, teams),
        (Err(err), _) | (_, Err(err)) => return Err(internal(&err)),
    };
    tickets
        .into_iter()
        .find(|ticket| may_see(agent, &teams, ticket))
        .ok_or_else(|| api_error(StatusCode::NOT_FOUND, "not_found", "No such ticket."))
}

/// `PUT /api/tickets/{id}/categories`: `{"Category": "value", …}`.
pub async fn set_categories(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Json(values): Json<BTreeMap<String, String>>,
) -> Response {
    let agent = match require(&state, &headers, Need::AgentWriting).await {
        Ok(agent) => agent,
        Err(response) => return response,
    };
    if let Err(refused) = visible_ticket(&state, &agent, id).await {
        return refused;
    }
    match state.store.set_ticket_categories(id, values).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(StoreError::NotFound) => api_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "Each category must exist and the value must be one of its values.",
        ),
        Err(err) => internal(&err),
    }
}

#[derive(Deserialize, Debug)]
pub struct StatusChange {
    status: String,
}

/// `PUT /api/tickets/{id}/status`: `open` or `closed`.
pub async fn set_status(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Json(change): Json<StatusChange>,
) -> Response {
    let agent = match require(&state, &headers, Need::AgentWriting).await {
        Ok(agent) => agent,
        Err(response) => return response,
    };
    let status = match change.status.as_str() {
        "open" => "open",
        "closed" => "closed",
        _ => {
            return api_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                "A ticket is open or closed.",
            );
        }
    };
    if let Err(refused) = visible_ticket(&state, &agent, id).await {
        return refused;
    }
    match state.store.set_ticket_status(id, status).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(err) => internal(&err),
    }
}

#[derive(Deserialize, Debug)]
pub struct NewTicket {
    subject: String,
    #[serde(default)]
    team: Option<String>,
}

/// `POST /api/tickets`: an agent opens a ticket; it is theirs, in the team given or
/// their default team.
pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(input): Json<NewTicket>,
) -> Response {
    let agent = match require(&state, &headers, Need::AgentWriting).await {
        Ok(agent) => agent,
        Err(response) => return response,
    };
    let subject = input.subject.trim().to_owned();
    if !(1..=200).contains(&subject.chars().count()) {
        return api_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "A ticket needs a subject of 1 to 200 characters.",
        );
    }
    let accounts = match state.store.agent_accounts().await {
        Ok(accounts) => accounts,
        Err(err) => return internal(&err),
    };
    let team = input
        .team
        .map(|team| team.trim().to_owned())
        .filter(|team| !team.is_empty())
        .or_else(|| {
            accounts
                .iter()
                .find(|account| account.id == agent.id)
                .and_then(|account| account.default_team.clone())
        });
    let site = match state.store.sites().await {
        Ok(sites) => match sites.into_iter().next() {
            Some(site) => site,
            None => return api_error(StatusCode::CONFLICT, "no_site", "There is no site yet."),
        },
        Err(err) => return internal(&err),
    };
    match state
        .store
        .create_ticket(site.id, subject, team, Some(agent.id))
        .await
    {
        Ok(id) => (StatusCode::CREATED, Json(serde_json::json!({ "id": id }))).into_response(),
        Err(err) => internal(&err),
    }
}

/// The chat `id` if the logged-in agent (`need`) may see it, else the answer to send
/// (`404` for a chat they may not see, as for one that does not exist).
pub(crate) async fn visible_chat(
    state: &AppState,
    headers: &HeaderMap,
    need: Need,
    id: i64,
) -> Result<Conversation, Response> {
    let agent = require(state, headers, need).await?;
    let teams = teams_of(state, agent.id)
        .await
        .map_err(|err| internal(&err))?;
    let viewer = Viewer {
        id: agent.id,
        access: agent.access,
        teams: teams.iter().map(|team| team.to_ascii_lowercase()).collect(),
    };
    match state.store.conversation(id).await {
        Ok(Some(conversation)) if viewer.can_see(conversation.facts()) => Ok(conversation),
        Ok(_) => Err(api_error(
            StatusCode::NOT_FOUND,
            "not_found",
            "No such conversation.",
        )),
        Err(err) => Err(internal(&err)),
    }
}

/// `GET /api/conversations/{id}/estimate`: `$WAITTIME` (and `$QUEUEPOSITION` while the
/// chat waits) as the queue stands, for canned text; agents who may see the chat.
pub async fn estimate(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Response {
    match visible_chat(&state, &headers, Need::Agent, id).await {
        Ok(conversation) => Json(queue::estimate_for(&state, &conversation).await).into_response(),
        Err(response) => response,
    }
}
