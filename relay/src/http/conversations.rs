//! Agent-facing endpoints about one conversation, and the one place that decides
//! whether an agent may see a chat over HTTP ([`visible_chat`]).

use axum::Json;
use axum::extract::{Path, State};
use porchlight_protocol::AgentId;
use porchlight_protocol::QueueInfo;

use crate::auth::LoggedIn;
use crate::chat::queue;
use crate::chat::ringing::rules::Viewer;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::{Agent, Conversation, StoreError};

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

/// The chat `id` if `agent` may see it; `404` for a chat they may not see, as for one
/// that does not exist.
pub(crate) async fn visible_chat(
    state: &AppState,
    agent: &Agent,
    id: i64,
) -> ApiResult<Conversation> {
    let teams = teams_of(state, agent.id).await?;
    let viewer = Viewer {
        id: agent.id,
        access: agent.access,
        teams: teams.iter().map(|team| team.to_ascii_lowercase()).collect(),
    };
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
