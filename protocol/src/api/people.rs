//! The People page's bodies: agents, teams, statuses, the live-chat settings and the
//! sites' secrets (`/api/admin/...`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// An agent as admins see and change them (`GET /api/admin/agents`, `PUT …/ID`).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct AgentForm {
    #[serde(default)]
    pub id: i64,
    #[serde(default)]
    pub email: String,
    pub name: String,
    /// `admin` or `agent`.
    pub role: String,
    #[serde(default)]
    pub teams: Vec<String>,
    /// `own`, `team` or `all`.
    pub access: String,
    /// `None`: no limit.
    #[serde(default)]
    pub max_chats: Option<usize>,
    /// May switch visitor uploads per chat (where the profile allows it).
    #[serde(default)]
    pub can_toggle_uploads: bool,
    /// One of `teams`: where a ticket they take without a team goes.
    #[serde(default)]
    pub default_team: Option<String>,
    /// A deactivated agent cannot log in; saving `false` ends their sessions.
    #[serde(default = "active")]
    pub active: bool,
}

fn active() -> bool {
    true
}

/// `POST /api/admin/agents`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct NewAgent {
    pub email: String,
    pub name: String,
    pub role: String,
}

/// The answer to [`NewAgent`]: the one-time password, shown once.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct CreatedAgent {
    pub id: i64,
    pub password: String,
}

/// `POST /api/admin/agents/ID/password`: a new one-time password, shown once; the
/// agent must choose their own at first login, before `expires_at` (Unix ms).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct OneTimePassword {
    pub password: String,
    pub expires_at: i64,
}

/// `POST /api/admin/teams`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct NewTeam {
    pub name: String,
}

/// How a team's waiting chats reach its agents: they ring for every available agent,
/// or each is given to one of them (taking turns, or to the one with fewest chats).
#[derive(Serialize, Deserialize, Debug, Clone, Copy, Default, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Assignment {
    #[default]
    Ring,
    RoundRobin,
    LeastBusy,
}

impl Assignment {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ring => "ring",
            Self::RoundRobin => "round_robin",
            Self::LeastBusy => "least_busy",
        }
    }

    /// Reads `as_str`'s words; anything else is `Ring`.
    pub fn parse(word: &str) -> Self {
        match word {
            "round_robin" => Self::RoundRobin,
            "least_busy" => Self::LeastBusy,
            _ => Self::Ring,
        }
    }
}

/// A team and how its chats are assigned (`GET /api/admin/assignment`).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct TeamAssignment {
    pub team: String,
    pub assignment: Assignment,
}

/// `PUT /api/admin/assignment/{team}`.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct AssignmentForm {
    pub assignment: Assignment,
}

/// An agent status; chats ring for agents whose status counts as `online`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct StatusForm {
    #[serde(default)]
    pub id: i64,
    pub name: String,
    pub online: bool,
}

/// The live-chat settings (`GET/PUT /api/admin/settings`).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ChatSettings {
    /// "Prevent multiple agents from connecting to a live chat simultaneously".
    pub prevent_multiple_agents: bool,
    /// "Agents can only have one live chat open at a time".
    pub one_chat_per_agent: bool,
    /// "New live chat display": `ring` or `tickets`.
    #[serde(default = "ring")]
    pub display: String,
    /// Through tickets: "agent must be assigned to the linked ticket to join".
    #[serde(default)]
    pub ticket_agent_only: bool,
    /// Abandoned live chats: ask, then end, chats nobody answers for.
    #[serde(default)]
    pub abandon: AbandonRules,
}

fn ring() -> String {
    "ring".to_owned()
}

impl Default for ChatSettings {
    fn default() -> Self {
        Self {
            prevent_multiple_agents: true,
            one_chat_per_agent: false,
            display: ring(),
            ticket_agent_only: false,
            abandon: AbandonRules::default(),
        }
    }
}

/// The "abandoned live chats" settings.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct AbandonRules {
    pub enabled: bool,
    /// Ask "Are you still there?" this long after queueing (or the last answer).
    pub ask_after_minutes: u32,
    /// End the chat as abandoned this long after queueing or the last answer.
    pub end_after_minutes: u32,
    /// Also close the chat's linked ticket.
    pub close_ticket: bool,
    /// Category values to set on that ticket.
    #[serde(default)]
    pub ticket_categories: BTreeMap<String, String>,
}

impl Default for AbandonRules {
    fn default() -> Self {
        Self {
            enabled: false,
            ask_after_minutes: 5,
            end_after_minutes: 10,
            close_ticket: false,
            ticket_categories: BTreeMap::new(),
        }
    }
}
