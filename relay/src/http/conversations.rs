//! Agent-facing endpoints about conversations: finding them, one chat's estimate and
//! its visitor's contact panel; and the one place that decides whether an agent may see a chat over
//! HTTP ([`visible_chat`]).

use axum::Json;
use axum::extract::{Path, Query, State};
use jiff::civil::Date;
use porchlight_protocol::api::search::{SearchHit, SearchResults};
use porchlight_protocol::api::visitors::{ContactView, PastChat};
use porchlight_protocol::{AgentId, QueueInfo};
use serde::Deserialize;

use crate::auth::LoggedIn;
use crate::chat::events::chat_line;
use crate::chat::queue;
use crate::chat::ringing::rules::Viewer;
use crate::error::{ApiError, ApiResult};
use crate::reports::utc_day_start;
use crate::state::AppState;
use crate::store::listing::ConversationFilter;
use crate::store::search::ChatSearch;
use crate::store::{Agent, Conversation, StoreError};

/// How many of a visitor's latest chats the contact panel looks through.
const PAST_CHATS: usize = 20;

/// Hits per page unless asked, and at most.
const PAGE: usize = 20;
const MAX_PAGE: usize = 50;
/// The longest search text.
const MAX_SEARCH_CHARS: usize = 200;

/// The teams an agent is in.
pub(crate) async fn teams_of(state: &AppState, agent: AgentId) -> Result<Vec<String>, StoreError> {
    Ok(state
        .store
        .agent_snapshots()
        .await?
        .into_iter()
        .find(|snapshot| snapshot.id == agent)
        .map(|snapshot| snapshot.teams)
        .unwrap_or_default())
}

/// What `agent` may see.
async fn viewer_of(state: &AppState, agent: &Agent) -> Result<Viewer, StoreError> {
    let teams = teams_of(state, agent.id).await?;
    Ok(Viewer {
        id: agent.id,
        access: agent.access,
        teams: teams.iter().map(|team| team.to_ascii_lowercase()).collect(),
    })
}

/// The chat `id` if `agent` may see it; `404` for a chat they may not see, as for one
/// that does not exist.
pub(crate) async fn visible_chat(
    state: &AppState,
    agent: &Agent,
    id: i64,
) -> ApiResult<Conversation> {
    let viewer = viewer_of(state, agent).await?;
    match state.store.conversation(id).await? {
        Some(conversation) if viewer.can_see(conversation.facts()) => Ok(conversation),
        _ => Err(ApiError::not_found("No such conversation.")),
    }
}

/// `GET /api/conversations/{id}/estimate`: `$WAITTIME` (and `$QUEUEPOSITION` while the
/// chat waits) as the queue stands, for canned text; agents who may see the chat.
pub(crate) async fn estimate(
    State(state): State<AppState>,
    LoggedIn(agent): LoggedIn,
    Path(id): Path<i64>,
) -> ApiResult<Json<QueueInfo>> {
    let conversation = visible_chat(&state, &agent, id).await?;
    Ok(Json(queue::estimate_for(&state, &conversation).await))
}

/// `GET /api/conversations/{id}/contact`: who the chat's visitor is, as the site
/// said, and their other chats this agent may see.
pub(crate) async fn contact(
    State(state): State<AppState>,
    LoggedIn(agent): LoggedIn,
    Path(id): Path<i64>,
) -> ApiResult<Json<ContactView>> {
    let conversation = visible_chat(&state, &agent, id).await?;
    let row = state
        .store
        .contact(conversation.visitor_id)
        .await?
        .ok_or_else(|| ApiError::not_found("No such visitor."))?;
    let viewer = viewer_of(&state, &agent).await?;
    let chats = state
        .store
        .list_conversations(ConversationFilter {
            site_id: conversation.site_id,
            visitor_id: Some(conversation.visitor_id),
            limit: PAST_CHATS,
            ..ConversationFilter::default()
        })
        .await?;
    let past = chats
        .iter()
        .filter(|chat| chat.id != id && viewer.can_see(chat.facts()))
        .map(|chat| PastChat {
            conversation_id: chat.id,
            status: chat.status,
            started_at: chat.created_at,
            agent_name: chat.agent.as_ref().map(|agent| agent.name.clone()),
            ticket_id: chat.ticket_id,
        })
        .collect();
    Ok(Json(ContactView {
        visitor_id: row.visitor_id,
        name: row.name,
        verified: row.verified,
        known: row.known,
        past,
    }))
}

/// The query of `GET /api/conversations/search`.
#[derive(Deserialize, Debug, Default)]
pub(crate) struct SearchParams {
    #[serde(default)]
    q: String,
    /// `YYYY-MM-DD` (UTC), inclusive; either may be left out.
    from: Option<String>,
    to: Option<String>,
    #[serde(default)]
    offset: usize,
    limit: Option<usize>,
}

impl SearchParams {
    /// The store's search, or why it cannot run.
    fn search(&self) -> ApiResult<ChatSearch> {
        if self.q.chars().count() > MAX_SEARCH_CHARS {
            return Err(ApiError::invalid(format!(
                "Search for at most {MAX_SEARCH_CHARS} characters."
            )));
        }
        let day = |text: &Option<String>| match text.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(text) => text
                .parse::<Date>()
                .map(Some)
                .map_err(|_| ApiError::invalid("Dates are written like 2026-11-22.")),
        };
        let (from, to) = (day(&self.from)?, day(&self.to)?);
        if let (Some(from), Some(to)) = (from, to)
            && from > to
        {
            return Err(ApiError::invalid("The range starts after it ends."));
        }
        Ok(ChatSearch {
            text: self.q.trim().to_owned(),
            from: from.map_or(i64::MIN, utc_day_start),
            to: to.map_or(i64::MAX, |to| utc_day_start(to.tomorrow().unwrap_or(to))),
        })
    }
}

/// `GET /api/conversations/search?q=&from=&to=&offset=&limit=`: the chats this agent
/// may see that match, best first, a page at a time.
pub(crate) async fn search(
    State(state): State<AppState>,
    LoggedIn(agent): LoggedIn,
    Query(params): Query<SearchParams>,
) -> ApiResult<Json<SearchResults>> {
    let search = params.search()?;
    let limit = params.limit.unwrap_or(PAGE).clamp(1, MAX_PAGE);
    let viewer = viewer_of(&state, &agent).await?;
    let visible: Vec<SearchHit> = state
        .store
        .search_chats(search)
        .await?
        .into_iter()
        .filter(|found| viewer.can_see(found.conversation.facts()))
        .map(|found| SearchHit {
            chat: chat_line(&found.conversation),
            started_at: found.conversation.created_at,
            snippet: found.snippet,
        })
        .collect();
    let total = visible.len();
    Ok(Json(SearchResults {
        hits: visible
            .into_iter()
            .skip(params.offset)
            .take(limit)
            .collect(),
        total,
        offset: params.offset,
    }))
}
