//! The admin pages' API: agents (create, name, role, teams, access level, capacity),
//! teams, statuses and the live-chat settings. Admins only; changes only from the
//! console's own origin.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::auth::{Need, api_error, hash_password, random_password, require};
use crate::routing::{AccessLevel, ChatRules};
use crate::server::AppState;
use crate::store::{AgentAccount, Role, Status, StoreError};
use crate::timers::AbandonRules;
use crate::ws::ringing;

const MAX_NAME_CHARS: usize = 80;

fn store_error(err: &StoreError, what: &'static str) -> Response {
    match err {
        StoreError::NotFound => api_error(StatusCode::NOT_FOUND, "not_found", what),
        StoreError::Duplicate => api_error(
            StatusCode::CONFLICT,
            "name_taken",
            "That name or email is already taken.",
        ),
        StoreError::LastAdmin => api_error(
            StatusCode::CONFLICT,
            "last_admin",
            "Keep at least one admin.",
        ),
        other => {
            tracing::error!(error = %other, "admin store failure");
            api_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "The relay could not do that; try again.",
            )
        }
    }
}

fn invalid(problem: &'static str) -> Response {
    api_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid", problem)
}

/// A trimmed name of 1 to 80 characters.
fn name_of(text: &str) -> Result<String, &'static str> {
    let name = text.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err("Names need 1 to 80 characters.");
    }
    Ok(name.to_owned())
}

#[derive(Serialize, Deserialize, Debug)]
pub struct AgentJson {
    #[serde(default)]
    id: i64,
    #[serde(default)]
    email: String,
    name: String,
    role: String,
    #[serde(default)]
    teams: Vec<String>,
    /// `own`, `team` or `all`.
    access: String,
    /// Empty for no limit.
    #[serde(default)]
    max_chats: Option<usize>,
    /// May switch visitor uploads per chat (where the profile allows it).
    #[serde(default)]
    can_toggle_uploads: bool,
    /// One of `teams`.
    #[serde(default)]
    default_team: Option<String>,
}

impl From<AgentAccount> for AgentJson {
    fn from(account: AgentAccount) -> Self {
        Self {
            id: account.id,
            email: account.email,
            name: account.name,
            role: account.role.as_str().to_owned(),
            teams: account.teams,
            access: account.access.as_str().to_owned(),
            max_chats: account.max_chats,
            can_toggle_uploads: account.can_toggle_uploads,
            default_team: account.default_team,
        }
    }
}

fn role_of(text: &str) -> Result<Role, &'static str> {
    match text {
        "admin" => Ok(Role::Admin),
        "agent" => Ok(Role::Agent),
        _ => Err("The role is admin or agent."),
    }
}

/// `GET /api/admin/agents`.
pub async fn agents(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(response) = require(&state, &headers, Need::Admin).await {
        return response;
    }
    match state.store.agent_accounts().await {
        Ok(accounts) => Json(
            accounts
                .into_iter()
                .map(AgentJson::from)
                .collect::<Vec<_>>(),
        )
        .into_response(),
        Err(err) => store_error(&err, "No such agent."),
    }
}

#[derive(Deserialize, Debug)]
pub struct NewAgentJson {
    email: String,
    name: String,
    role: String,
}

/// `POST /api/admin/agents`: creates an agent with a one-time password, shown once.
pub async fn create_agent(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(input): Json<NewAgentJson>,
) -> Response {
    if let Err(response) = require(&state, &headers, Need::AdminWriting).await {
        return response;
    }
    let email = input.email.trim().to_owned();
    if !email.contains('@') || email.len() > 254 || email.contains(char::is_whitespace) {
        return invalid("Enter an email address like ana@example.com.");
    }
    let (name, role) = match (name_of(&input.name), role_of(&input.role)) {
        (Ok(name), Ok(role)) => (name, role),
        (Err(problem), _) | (_, Err(problem)) => return invalid(problem),
    };
    let password = random_password();
    let to_hash = password.clone();
    // argon2 takes tens of milliseconds of CPU: off the async workers.
    let Ok(Ok(hash)) = tokio::task::spawn_blocking(move || hash_password(&to_hash)).await else {
        return api_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "The relay could not hash a password; try again.",
        );
    };
    match state.store.create_agent(&email, &name, role, hash).await {
        Ok(agent) => (
            StatusCode::CREATED,
            Json(serde_json::json!({"id": agent.id, "password": password})),
        )
            .into_response(),
        Err(err) => store_error(&err, "No such agent."),
    }
}

/// `PUT /api/admin/agents/{id}`: name, role, teams, access level and capacity. The
/// agent's consoles reconnect so the change applies at once.
pub async fn update_agent(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Json(input): Json<AgentJson>,
) -> Response {
    if let Err(response) = require(&state, &headers, Need::AdminWriting).await {
        return response;
    }
    let (name, role) = match (name_of(&input.name), role_of(&input.role)) {
        (Ok(name), Ok(role)) => (name, role),
        (Err(problem), _) | (_, Err(problem)) => return invalid(problem),
    };
    let Some(access) = AccessLevel::parse(&input.access) else {
        return invalid("The access level is own, team or all.");
    };
    if input.max_chats == Some(0) {
        return invalid("Capacity is at least 1 chat; leave it empty for no limit.");
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
        return invalid("The default team must be one of the agent's teams.");
    }
    let account = AgentAccount {
        id,
        email: String::new(),
        name,
        role,
        teams,
        access,
        max_chats: input.max_chats,
        can_toggle_uploads: input.can_toggle_uploads,
        default_team,
    };
    match state.store.update_agent(account).await {
        Ok(()) => {
            state.hub.drop_agent(id);
            ringing::ring_waiting_for(&state, id).await;
            StatusCode::NO_CONTENT.into_response()
        }
        Err(err) => store_error(&err, "No such agent or team."),
    }
}

/// `GET /api/admin/teams`.
pub async fn teams(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(response) = require(&state, &headers, Need::Admin).await {
        return response;
    }
    match state.store.team_names().await {
        Ok(names) => Json(names).into_response(),
        Err(err) => store_error(&err, "No such team."),
    }
}

#[derive(Deserialize, Debug)]
pub struct TeamJson {
    name: String,
}

/// `POST /api/admin/teams`.
pub async fn create_team(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(input): Json<TeamJson>,
) -> Response {
    if let Err(response) = require(&state, &headers, Need::AdminWriting).await {
        return response;
    }
    let name = match name_of(&input.name) {
        Ok(name) => name,
        Err(problem) => return invalid(problem),
    };
    match state.store.create_team(name).await {
        Ok(()) => StatusCode::CREATED.into_response(),
        Err(err) => store_error(&err, "No such team."),
    }
}

#[derive(Serialize, Deserialize, Debug)]
pub struct StatusJson {
    #[serde(default)]
    id: i64,
    name: String,
    /// Counts as online for live chat.
    online: bool,
}

/// `GET /api/admin/statuses`.
pub async fn statuses(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(response) = require(&state, &headers, Need::Admin).await {
        return response;
    }
    match state.store.statuses().await {
        Ok(list) => Json(
            list.into_iter()
                .map(|status| StatusJson {
                    id: status.id,
                    name: status.name,
                    online: status.counts_online,
                })
                .collect::<Vec<_>>(),
        )
        .into_response(),
        Err(err) => store_error(&err, "No such status."),
    }
}

/// `POST /api/admin/statuses`.
pub async fn create_status(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(input): Json<StatusJson>,
) -> Response {
    save_status(state, headers, 0, input).await
}

/// `PUT /api/admin/statuses/{id}`.
pub async fn update_status(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Json(input): Json<StatusJson>,
) -> Response {
    save_status(state, headers, id, input).await
}

async fn save_status(state: AppState, headers: HeaderMap, id: i64, input: StatusJson) -> Response {
    if let Err(response) = require(&state, &headers, Need::AdminWriting).await {
        return response;
    }
    let name = match name_of(&input.name) {
        Ok(name) => name,
        Err(problem) => return invalid(problem),
    };
    let status = Status {
        id,
        name,
        counts_online: input.online,
    };
    match state.store.save_status(status).await {
        Ok(saved) => {
            // A status that now counts as online may free agents for waiting chats.
            for agent in state.hub.online_agents() {
                ringing::ring_waiting_for(&state, agent).await;
            }
            let body = Json(StatusJson {
                id: saved.id,
                name: saved.name,
                online: saved.counts_online,
            });
            if id == 0 {
                (StatusCode::CREATED, body).into_response()
            } else {
                body.into_response()
            }
        }
        Err(err) => store_error(&err, "No such status."),
    }
}

/// `GET /api/admin/sites`: each site's key, name and secret (for signing ticket links).
pub async fn sites(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(response) = require(&state, &headers, Need::Admin).await {
        return response;
    }
    match state.store.sites().await {
        Ok(sites) => Json(
            sites
                .into_iter()
                .map(|site| serde_json::json!({"key": site.key, "name": site.name, "secret": site.secret}))
                .collect::<Vec<_>>(),
        )
        .into_response(),
        Err(err) => store_error(&err, "No such site."),
    }
}

#[derive(Serialize, Deserialize, Debug)]
pub struct SettingsJson {
    /// "Prevent multiple agents from connecting to a live chat simultaneously".
    prevent_multiple_agents: bool,
    /// "Agents can only have one live chat open at a time".
    one_chat_per_agent: bool,
    /// "New live chat display": `ring` or `tickets`.
    #[serde(default = "ring")]
    display: String,
    /// Through tickets: "agent must be assigned to the linked ticket to join".
    #[serde(default)]
    ticket_agent_only: bool,
    /// Abandoned live chats: ask, then end, chats nobody answers for.
    #[serde(default)]
    abandon: AbandonRules,
}

fn ring() -> String {
    "ring".to_owned()
}

/// `GET /api/admin/settings`: the live-chat rules.
pub async fn settings(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(response) = require(&state, &headers, Need::Admin).await {
        return response;
    }
    let abandon = match state.store.abandon_rules().await {
        Ok(abandon) => abandon,
        Err(err) => return store_error(&err, "No settings."),
    };
    match state.store.chat_rules().await {
        Ok(rules) => Json(SettingsJson {
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
        })
        .into_response(),
        Err(err) => store_error(&err, "No settings."),
    }
}

/// `PUT /api/admin/settings`.
pub async fn update_settings(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(input): Json<SettingsJson>,
) -> Response {
    if let Err(response) = require(&state, &headers, Need::AdminWriting).await {
        return response;
    }
    let abandon = input.abandon;
    if !(1..=1440).contains(&abandon.ask_after_minutes)
        || !(1..=1440).contains(&abandon.end_after_minutes)
        || abandon.ask_after_minutes >= abandon.end_after_minutes
    {
        return invalid(
            "Ask after 1 to 1440 minutes, and end later than that (at most 1440 minutes).",
        );
    }
    let through_tickets = match input.display.as_str() {
        "ring" => false,
        "tickets" => true,
        _ => return invalid("The display is ring or tickets."),
    };
    let rules = ChatRules {
        prevent_multiple_agents: input.prevent_multiple_agents,
        one_chat_per_agent: input.one_chat_per_agent,
        through_tickets,
        ticket_agent_only: input.ticket_agent_only,
    };
    let saved = match state.store.set_abandon_rules(abandon).await {
        Ok(()) => state.store.set_chat_rules(rules).await,
        Err(err) => Err(err),
    };
    match saved {
        Ok(()) => {
            state.queue_changed.notify_one();
            // Turning "one chat at a time" off frees busy agents for waiting chats;
            // switching to tickets stops every ring.
            for agent in state.hub.online_agents() {
                ringing::ring_waiting_for(&state, agent).await;
            }
            StatusCode::NO_CONTENT.into_response()
        }
        Err(err) => store_error(&err, "No settings."),
    }
}
