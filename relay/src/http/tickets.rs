//! The console's tickets, for live chat "through tickets" and for chats that became
//! tickets: every agent lists the tickets their conversation access level lets them
//! see and takes one; admins assign anyone and add category fields. Joining the
//! linked chat is the socket's `join`, which checks the rules.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use porchlight_protocol::api::ApiCode;
use porchlight_protocol::api::tickets::{Assignment, NewTicket, TicketCreated, TicketStatus};
use porchlight_protocol::api::tickets::{TicketCategory, TicketDetail, TicketLine};

use super::conversations::teams_of;
use crate::auth::{AdminWriting, LoggedIn, LoggedInWriting};
use crate::email::sender::requester;
use crate::error::{ApiError, ApiResult};
use crate::flow::InputType;
use crate::flow::input::check_input;
use crate::state::AppState;
use crate::store::{AccessLevel, Agent, Role, StoreError};

/// How many tickets the list shows.
const LIST_LIMIT: usize = 200;

/// Whether `agent` (in `teams`) may see `ticket`: by their conversation access level.
pub(crate) fn may_see(agent: &Agent, teams: &[String], ticket: &TicketLine) -> bool {
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

/// The ticket if `agent` may see it; `404` for one they may not see, as for one that
/// does not exist.
pub(crate) async fn visible_ticket(
    state: &AppState,
    agent: &Agent,
    id: i64,
) -> ApiResult<TicketLine> {
    let tickets = state.store.tickets(Some(id), 1).await?;
    let teams = teams_of(state, agent.id).await?;
    tickets
        .into_iter()
        .find(|ticket| may_see(agent, &teams, ticket))
        .ok_or_else(|| ApiError::not_found("No such ticket."))
}

/// `GET /api/tickets`: the latest tickets this agent may see, newest first.
pub(crate) async fn list(
    State(state): State<AppState>,
    LoggedIn(agent): LoggedIn,
) -> ApiResult<Json<Vec<TicketLine>>> {
    let tickets = state.store.tickets(None, LIST_LIMIT).await?;
    let teams = teams_of(&state, agent.id).await?;
    Ok(Json(
        tickets
            .into_iter()
            .filter(|ticket| may_see(&agent, &teams, ticket))
            .collect(),
    ))
}

/// `GET /api/tickets/{id}`: the ticket, its notes (chat transcripts) and its chats.
pub(crate) async fn detail(
    State(state): State<AppState>,
    LoggedIn(agent): LoggedIn,
    Path(id): Path<i64>,
) -> ApiResult<Json<TicketDetail>> {
    let ticket = visible_ticket(&state, &agent, id).await?;
    let (notes, chats) = state.store.ticket_notes_and_chats(id).await?;
    let categories = state.store.ticket_category_values(id).await?;
    let requester_email = requester(&state, &ticket)
        .await?
        .map(|requester| requester.email);
    Ok(Json(TicketDetail {
        ticket,
        categories,
        notes,
        chats,
        requester_email,
    }))
}

/// `PUT /api/tickets/{id}/agent`: agents take a ticket they can see (or give back
/// their own); admins assign anyone.
pub(crate) async fn assign(
    State(state): State<AppState>,
    LoggedInWriting(agent): LoggedInWriting,
    Path(id): Path<i64>,
    Json(assignment): Json<Assignment>,
) -> ApiResult<StatusCode> {
    let ticket = visible_ticket(&state, &agent, id).await?;
    let current = ticket.agent.as_ref().map(|assignee| assignee.id);
    let allowed = agent.role == Role::Admin
        || match assignment.agent_id {
            Some(target) => target == agent.id,
            None => current == Some(agent.id),
        };
    if !allowed {
        return Err(ApiError::new(
            ApiCode::AdminOnly,
            "Agents can take a ticket or give back their own; admins assign others.",
        ));
    }
    if let Some(target) = assignment.agent_id
        && target != agent.id
        && !state
            .store
            .agent_accounts()
            .await?
            .iter()
            .any(|account| account.id == target)
    {
        return Err(ApiError::not_found("No such agent."));
    }
    state
        .store
        .assign_ticket(id, assignment.agent_id)
        .await
        .map_err(|err| match err {
            StoreError::NotFound => ApiError::not_found("No such ticket."),
            other => other.into(),
        })?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/ticket-categories`: the category fields and their values.
pub(crate) async fn categories(
    State(state): State<AppState>,
    _: LoggedIn,
) -> ApiResult<Json<Vec<TicketCategory>>> {
    Ok(Json(state.store.ticket_categories().await?))
}

/// `POST /api/admin/categories` (admins): a new category field with its values.
pub(crate) async fn create_category(
    State(state): State<AppState>,
    _: AdminWriting,
    Json(category): Json<TicketCategory>,
) -> ApiResult<StatusCode> {
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
        return Err(ApiError::invalid(
            "A category needs a name and at least one value, each 1 to 80 characters.",
        ));
    }
    state
        .store
        .create_ticket_category(TicketCategory { name, values })
        .await
        .map_err(|err| match err {
            StoreError::Duplicate => ApiError::new(
                ApiCode::NameTaken,
                "There is already a category with that name.",
            ),
            other => other.into(),
        })?;
    Ok(StatusCode::CREATED)
}

/// `PUT /api/tickets/{id}/categories`: `{"Category": "value", …}`.
pub(crate) async fn set_categories(
    State(state): State<AppState>,
    LoggedInWriting(agent): LoggedInWriting,
    Path(id): Path<i64>,
    Json(values): Json<BTreeMap<String, String>>,
) -> ApiResult<StatusCode> {
    visible_ticket(&state, &agent, id).await?;
    state
        .store
        .set_ticket_categories(id, values)
        .await
        .map_err(|err| match err {
            StoreError::NotFound => ApiError::invalid(
                "Each category must exist and the value must be one of its values.",
            ),
            other => other.into(),
        })?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /api/tickets/{id}/status`: `open` or `closed`.
pub(crate) async fn set_status(
    State(state): State<AppState>,
    LoggedInWriting(agent): LoggedInWriting,
    Path(id): Path<i64>,
    Json(change): Json<TicketStatus>,
) -> ApiResult<StatusCode> {
    let status = match change.status.as_str() {
        "open" => "open",
        "closed" => "closed",
        _ => return Err(ApiError::invalid("A ticket is open or closed.")),
    };
    visible_ticket(&state, &agent, id).await?;
    state.store.set_ticket_status(id, status).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/tickets`: an agent opens a ticket; it is theirs, in the team given or
/// their default team.
/// A ticket's subject: 1 to 200 characters once trimmed.
pub(crate) fn subject_of(text: &str) -> ApiResult<String> {
    let subject = text.trim();
    if (1..=200).contains(&subject.chars().count()) {
        Ok(subject.to_owned())
    } else {
        Err(ApiError::invalid(
            "A ticket needs a subject of 1 to 200 characters.",
        ))
    }
}

/// The address replies go to, if one is given: it must look like one.
pub(crate) fn requester_email_of(text: Option<&str>) -> ApiResult<Option<String>> {
    match text.map(str::trim) {
        None | Some("") => Ok(None),
        Some(email) => check_input(InputType::Email, email, &[])
            .map(Some)
            .ok_or_else(|| {
                ApiError::invalid("The requester's email must be an address like name@example.com.")
            }),
    }
}

pub(crate) async fn create(
    State(state): State<AppState>,
    LoggedInWriting(agent): LoggedInWriting,
    Json(input): Json<NewTicket>,
) -> ApiResult<(StatusCode, Json<TicketCreated>)> {
    let subject = subject_of(&input.subject)?;
    let requester_email = requester_email_of(input.requester_email.as_deref())?;
    let accounts = state.store.agent_accounts().await?;
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
    let site = state
        .store
        .sites()
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::new(ApiCode::NoSite, "There is no site yet."))?;
    let id = state
        .store
        .create_ticket(site.id, subject, team, Some(agent.id), requester_email)
        .await?;
    Ok((StatusCode::CREATED, Json(TicketCreated { id })))
}
