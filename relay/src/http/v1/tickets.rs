//! Tickets through the REST API: open one (with the token a page links a chat to it
//! with), list the site's by cursor, read one with its notes and chats, change its
//! subject or status, and add a note.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use porchlight_protocol::api::ApiError as ErrorBody;
use porchlight_protocol::api::tickets::{NewTicket, TicketDetail, TicketNote};
use porchlight_protocol::api::v1::{ApiTicketCreated, NewTicketNote, TicketChange, TicketPage};
use porchlight_protocol::{AgentEvent, to_text};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{Body, Id, Params, cursor_of, page_size};
use crate::auth::{ApiCaller, ApiReader, ApiWriter, ticket_link};
use crate::error::{ApiError, ApiResult};
use crate::http::tickets::{requester_email_of, subject_of};
use crate::state::AppState;
use crate::store::listing::TicketFilter;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct TicketQuery {
    /// `open` or `closed`.
    #[param(pattern = "^(open|closed)$")]
    status: Option<String>,
    /// The previous page's `next_cursor`.
    #[param(pattern = "^[0-9]+$")]
    cursor: Option<String>,
    /// 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<usize>,
}

fn status_of(text: &str) -> ApiResult<&'static str> {
    match text {
        "open" => Ok("open"),
        "closed" => Ok("closed"),
        _ => Err(ApiError::invalid("A ticket is open or closed.")),
    }
}

/// The consoles reload their ticket list.
fn tickets_changed(state: &AppState) {
    state
        .hub
        .publish_to_consoles(to_text(&AgentEvent::TicketsChanged).into());
}

/// The key's site's ticket `id`; another site's is not found.
async fn own_ticket(state: &AppState, caller: &ApiCaller, id: i64) -> ApiResult<()> {
    match state.store.ticket_site(id).await? {
        Some(site) if site == caller.site.id => Ok(()),
        _ => Err(ApiError::not_found("No such ticket.")),
    }
}

/// Open a ticket. A page links a chat to it with `data-ticket` and the returned
/// `link_token`.
#[utoipa::path(
    post,
    path = "/api/v1/tickets",
    tag = "tickets",
    request_body = NewTicket,
    responses(
        (status = 201, body = ApiTicketCreated),
        (status = 422, body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    Body(ticket): Body<NewTicket>,
) -> ApiResult<(StatusCode, Json<ApiTicketCreated>)> {
    let subject = subject_of(&ticket.subject)?;
    let requester_email = requester_email_of(ticket.requester_email.as_deref())?;
    let team = ticket
        .team
        .map(|team| team.trim().to_owned())
        .filter(|team| !team.is_empty());
    let id = state
        .store
        .create_ticket(caller.site.id, subject, team, None, requester_email)
        .await?;
    tickets_changed(&state);
    Ok((
        StatusCode::CREATED,
        Json(ApiTicketCreated {
            id,
            link_token: ticket_link::token(&caller.site.secret, id),
        }),
    ))
}

/// List the site's tickets, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/tickets",
    tag = "tickets",
    params(TicketQuery),
    responses(
        (status = 200, body = TicketPage),
        (status = 422, body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    ApiReader(caller): ApiReader,
    Params(query): Params<TicketQuery>,
) -> ApiResult<Json<TicketPage>> {
    let status = query.status.as_deref().map(status_of).transpose()?;
    let limit = page_size(query.limit)?;
    let items = state
        .store
        .list_tickets(TicketFilter {
            only: None,
            site_id: Some(caller.site.id),
            status: status.map(str::to_owned),
            before_id: cursor_of(query.cursor.as_deref())?,
            limit,
        })
        .await?;
    let next_cursor = (items.len() == limit)
        .then(|| items.last().map(|ticket| ticket.id.to_string()))
        .flatten();
    Ok(Json(TicketPage { items, next_cursor }))
}

/// One ticket, with its category values, notes and linked chats.
#[utoipa::path(
    get,
    path = "/api/v1/tickets/{id}",
    tag = "tickets",
    params(("id" = i64, Path, description = "The ticket's id")),
    responses(
        (status = 200, body = TicketDetail),
        (status = 404, body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn one(
    State(state): State<AppState>,
    ApiReader(caller): ApiReader,
    Id(id): Id,
) -> ApiResult<Json<TicketDetail>> {
    own_ticket(&state, &caller, id).await?;
    let ticket = state
        .store
        .tickets(Some(id), 1)
        .await?
        .pop()
        .ok_or_else(|| ApiError::not_found("No such ticket."))?;
    let (notes, chats) = state.store.ticket_notes_and_chats(id).await?;
    Ok(Json(TicketDetail {
        ticket,
        categories: state.store.ticket_category_values(id).await?,
        notes,
        chats,
        requester_email: state.store.ticket_requester_email(id).await?,
    }))
}

/// Change a ticket's subject or status.
#[utoipa::path(
    patch,
    path = "/api/v1/tickets/{id}",
    tag = "tickets",
    params(("id" = i64, Path, description = "The ticket's id")),
    request_body = TicketChange,
    responses(
        (status = 204, description = "Changed"),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn update(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    Id(id): Id,
    Body(change): Body<TicketChange>,
) -> ApiResult<StatusCode> {
    own_ticket(&state, &caller, id).await?;
    let subject = change.subject.as_deref().map(subject_of).transpose()?;
    let status = change.status.as_deref().map(status_of).transpose()?;
    if let Some(subject) = subject {
        state.store.set_ticket_subject(id, subject).await?;
    }
    if let Some(status) = status {
        state.store.set_ticket_status(id, status).await?;
    }
    tickets_changed(&state);
    Ok(StatusCode::NO_CONTENT)
}

/// Add a note to a ticket, under the name given.
#[utoipa::path(
    post,
    path = "/api/v1/tickets/{id}/notes",
    tag = "tickets",
    params(("id" = i64, Path, description = "The ticket's id")),
    request_body = NewTicketNote,
    responses(
        (status = 201, body = TicketNote),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn note(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    Id(id): Id,
    Body(note): Body<NewTicketNote>,
) -> ApiResult<(StatusCode, Json<TicketNote>)> {
    own_ticket(&state, &caller, id).await?;
    let body = note.body.trim().to_owned();
    let author = note.author.trim().to_owned();
    if !(1..=10_000).contains(&body.chars().count()) || !(1..=80).contains(&author.chars().count())
    {
        return Err(ApiError::invalid(
            "A note needs a body of 1 to 10,000 characters and an author of 1 to 80.",
        ));
    }
    let stored = state.store.add_ticket_note(id, body, author).await?;
    Ok((StatusCode::CREATED, Json(stored)))
}
