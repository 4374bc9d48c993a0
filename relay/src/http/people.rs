//! The People page's API: agents (create, name, role, teams, access level, capacity,
//! active or not, a new one-time password), teams, statuses and the live-chat settings.
//! Admins only; changes only from the console's own origin.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use porchlight_protocol::api::people::{
    AgentForm, AssignmentForm, ChatSettings, CreatedAgent, NewAgent, NewTeam, OneTimePassword,
    StatusForm, TeamAssignment,
};

use crate::auth::{Admin, AdminWriting, hash_password, random_password};
use crate::chat::ringing;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::{AccessLevel, AgentAccount, ChatRules, Role, Status, StoreError, now_ms};

const MAX_NAME_CHARS: usize = 80;
/// A one-time password not used within a week stops working.
pub const ONE_TIME_PASSWORD_DAYS: i64 = 7;

/// A trimmed name of 1 to 80 characters.
pub(super) fn name_of(text: &str) -> ApiResult<String> {
    let name = text.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(ApiError::invalid("Names need 1 to 80 characters."));
    }
    Ok(name.to_owned())
}

fn role_of(text: &str) -> ApiResult<Role> {
    match text {
        "admin" => Ok(Role::Admin),
        "agent" => Ok(Role::Agent),
        _ => Err(ApiError::invalid("The role is admin or agent.")),
    }
}

/// "No such …" for this resource when the store finds nothing.
fn missing(what: &'static str) -> impl Fn(StoreError) -> ApiError {
    move |err| match err {
        StoreError::NotFound => ApiError::not_found(what),
        other => other.into(),
    }
}

fn agent_form(account: AgentAccount) -> AgentForm {
    AgentForm {
        id: account.id,
        email: account.email,
        name: account.name,
        role: account.role.as_str().to_owned(),
        teams: account.teams,
        access: account.access.as_str().to_owned(),
        max_chats: account.max_chats,
        can_toggle_uploads: account.can_toggle_uploads,
        default_team: account.default_team,
        active: account.active,
    }
}

/// `GET /api/admin/agents`.
pub(crate) async fn agents(
    State(state): State<AppState>,
    _: Admin,
) -> ApiResult<Json<Vec<AgentForm>>> {
    let accounts = state.store.agent_accounts().await?;
    Ok(Json(accounts.into_iter().map(agent_form).collect()))
}

/// `POST /api/admin/agents`: creates an agent with a one-time password, shown once.
pub(crate) async fn create_agent(
    State(state): State<AppState>,
    _: AdminWriting,
    Json(input): Json<NewAgent>,
) -> ApiResult<(StatusCode, Json<CreatedAgent>)> {
    let email = input.email.trim().to_owned();
    if !email.contains('@') || email.len() > 254 || email.contains(char::is_whitespace) {
        return Err(ApiError::invalid(
            "Enter an email address like ana@example.com.",
        ));
    }
    let name = name_of(&input.name)?;
    let role = role_of(&input.role)?;
    let (password, hash) = one_time_password().await?;
    let agent = state
        .store
        .create_agent(&email, &name, role, hash.clone())
        .await?;
    state
        .store
        .set_password(agent.id, hash, Some(one_time_until()))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedAgent {
            id: agent.id,
            password,
        }),
    ))
}

/// A one-time password and its hash. argon2 takes tens of milliseconds of CPU: off
/// the async workers.
async fn one_time_password() -> ApiResult<(String, String)> {
    let password = random_password();
    let to_hash = password.clone();
    let hash = tokio::task::spawn_blocking(move || hash_password(&to_hash))
        .await
        .map_err(|err| ApiError::internal(&err))?
        .map_err(|err| ApiError::internal(&err))?;
    Ok((password, hash))
}

/// When a one-time password made now stops working unused.
fn one_time_until() -> i64 {
    now_ms() + ONE_TIME_PASSWORD_DAYS * 24 * 3600 * 1000
}

/// `POST /api/admin/agents/{id}/password`: a new one-time password, shown once. The
/// agent's sessions and consoles end at once; they choose their own at next login.
pub(crate) async fn reset_password(
    State(state): State<AppState>,
    _: AdminWriting,
    Path(id): Path<i64>,
) -> ApiResult<Json<OneTimePassword>> {
    let (password, hash) = one_time_password().await?;
    let expires_at = one_time_until();
    state
        .store
        .set_password(id, hash, Some(expires_at))
        .await
        .map_err(missing("No such agent."))?;
    state.hub.drop_agent(id);
    tracing::info!(agent = id, "an admin reset an agent's password");
    Ok(Json(OneTimePassword {
        password,
        expires_at,
    }))
}

/// The account an admin's form describes, checked.
fn account_of(id: i64, input: AgentForm) -> ApiResult<AgentAccount> {
    let name = name_of(&input.name)?;
    let role = role_of(&input.role)?;
    let access = AccessLevel::parse(&input.access)
        .ok_or_else(|| ApiError::invalid("The access level is own, team or all."))?;
    if input.max_chats == Some(0) {
        return Err(ApiError::invalid(
            "Capacity is at least 1 chat; leave it empty for no limit.",
        ));
    }
    let mut teams: Vec<String> = input
        .teams
        .iter()
        .map(|team| team.trim().to_owned())
        .filter(|team| !team.is_empty())
        .collect();
    teams.sort();
    teams.dedup();
    let default_team = input
        .default_team
        .map(|team| team.trim().to_owned())
        .filter(|team| !team.is_empty());
    if default_team
        .as_ref()
        .is_some_and(|team| !teams.contains(team))
    {
        return Err(ApiError::invalid(
            "The default team must be one of the agent's teams.",
        ));
    }
    Ok(AgentAccount {
        id,
        email: String::new(),
        name,
        role,
        teams,
        access,
        max_chats: input.max_chats,
        can_toggle_uploads: input.can_toggle_uploads,
        default_team,
        active: input.active,
    })
}

/// `PUT /api/admin/agents/{id}`: name, role, teams, access level and capacity. The
/// agent's consoles reconnect so the change applies at once.
pub(crate) async fn update_agent(
    State(state): State<AppState>,
    _: AdminWriting,
    Path(id): Path<i64>,
    Json(input): Json<AgentForm>,
) -> ApiResult<StatusCode> {
    let account = account_of(id, input)?;
    state
        .store
        .update_agent(account)
        .await
        .map_err(missing("No such agent or team."))?;
    state.hub.drop_agent(id);
    ringing::ring_waiting_for(&state, id).await;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/admin/teams`.
pub(crate) async fn teams(State(state): State<AppState>, _: Admin) -> ApiResult<Json<Vec<String>>> {
    Ok(Json(state.store.team_names().await?))
}

/// `POST /api/admin/teams`.
pub(crate) async fn create_team(
    State(state): State<AppState>,
    _: AdminWriting,
    Json(input): Json<NewTeam>,
) -> ApiResult<StatusCode> {
    state.store.create_team(name_of(&input.name)?).await?;
    Ok(StatusCode::CREATED)
}

/// `GET /api/admin/assignment`: each team and how its chats reach its agents.
pub(crate) async fn assignments(
    State(state): State<AppState>,
    _: Admin,
) -> ApiResult<Json<Vec<TeamAssignment>>> {
    Ok(Json(state.store.team_assignments().await?))
}

/// `PUT /api/admin/assignment/{team}`: ring, round robin or least busy. Chats already
/// waiting for the team are given out at once when it starts assigning.
pub(crate) async fn set_assignment(
    State(state): State<AppState>,
    _: AdminWriting,
    Path(team): Path<String>,
    Json(input): Json<AssignmentForm>,
) -> ApiResult<StatusCode> {
    state
        .store
        .set_team_assignment(team, input.assignment)
        .await
        .map_err(missing("No such team."))?;
    ringing::ring_all_waiting(&state).await;
    Ok(StatusCode::NO_CONTENT)
}

fn status_form(status: Status) -> StatusForm {
    StatusForm {
        id: status.id,
        name: status.name,
        online: status.counts_online,
    }
}

/// `GET /api/admin/statuses`.
pub(crate) async fn statuses(
    State(state): State<AppState>,
    _: Admin,
) -> ApiResult<Json<Vec<StatusForm>>> {
    let list = state.store.statuses().await?;
    Ok(Json(list.into_iter().map(status_form).collect()))
}

/// `POST /api/admin/statuses`.
pub(crate) async fn create_status(
    State(state): State<AppState>,
    _: AdminWriting,
    Json(input): Json<StatusForm>,
) -> ApiResult<(StatusCode, Json<StatusForm>)> {
    Ok((
        StatusCode::CREATED,
        Json(save_status(&state, 0, input).await?),
    ))
}

/// `PUT /api/admin/statuses/{id}`.
pub(crate) async fn update_status(
    State(state): State<AppState>,
    _: AdminWriting,
    Path(id): Path<i64>,
    Json(input): Json<StatusForm>,
) -> ApiResult<Json<StatusForm>> {
    Ok(Json(save_status(&state, id, input).await?))
}

async fn save_status(state: &AppState, id: i64, input: StatusForm) -> ApiResult<StatusForm> {
    let status = Status {
        id,
        name: name_of(&input.name)?,
        counts_online: input.online,
    };
    let saved = state
        .store
        .save_status(status)
        .await
        .map_err(missing("No such status."))?;
    // A status that now counts as online may free agents for waiting chats.
    for agent in state.hub.online_agents() {
        ringing::ring_waiting_for(state, agent).await;
    }
    Ok(status_form(saved))
}

/// `GET /api/admin/settings`: the live-chat rules.
pub(crate) async fn settings(
    State(state): State<AppState>,
    _: Admin,
) -> ApiResult<Json<ChatSettings>> {
    let abandon = state.store.abandon_rules().await?;
    let rules = state.store.chat_rules().await?;
    Ok(Json(ChatSettings {
        abandon,
        prevent_multiple_agents: rules.prevent_multiple_agents,
        one_chat_per_agent: rules.one_chat_per_agent,
        display: if rules.through_tickets {
            "tickets"
        } else {
            "ring"
        }
        .to_owned(),
        ticket_agent_only: rules.ticket_agent_only,
    }))
}

/// `PUT /api/admin/settings`.
pub(crate) async fn update_settings(
    State(state): State<AppState>,
    _: AdminWriting,
    Json(input): Json<ChatSettings>,
) -> ApiResult<StatusCode> {
    let abandon = input.abandon;
    if !(1..=1440).contains(&abandon.ask_after_minutes)
        || !(1..=1440).contains(&abandon.end_after_minutes)
        || abandon.ask_after_minutes >= abandon.end_after_minutes
    {
        return Err(ApiError::invalid(
            "Ask after 1 to 1440 minutes, and end later than that (at most 1440 minutes).",
        ));
    }
    let through_tickets = match input.display.as_str() {
        "ring" => false,
        "tickets" => true,
        _ => return Err(ApiError::invalid("The display is ring or tickets.")),
    };
    let rules = ChatRules {
        prevent_multiple_agents: input.prevent_multiple_agents,
        one_chat_per_agent: input.one_chat_per_agent,
        through_tickets,
        ticket_agent_only: input.ticket_agent_only,
    };
    state.store.set_abandon_rules(abandon).await?;
    state.store.set_chat_rules(rules).await?;
    crate::chat::timers::look_again(&state);
    // Turning "one chat at a time" off frees busy agents for waiting chats; switching
    // to tickets stops every ring.
    for agent in state.hub.online_agents() {
        ringing::ring_waiting_for(&state, agent).await;
    }
    Ok(StatusCode::NO_CONTENT)
}
