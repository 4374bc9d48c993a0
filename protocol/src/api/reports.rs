//! The body of `GET /api/reports`: what the console's Reports page draws.

use serde::{Deserialize, Serialize};

/// Median and 90th percentile (nearest rank) of some durations.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Spread {
    pub count: usize,
    pub median_ms: Option<i64>,
    pub p90_ms: Option<i64>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct DayCount {
    /// `YYYY-MM-DD`, UTC.
    pub day: String,
    pub chats: usize,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct AgentCount {
    pub agent: String,
    pub chats: usize,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub from: String,
    pub to: String,
    pub chats: usize,
    /// Every day of the range, days without chats included.
    pub per_day: Vec<DayCount>,
    /// Chats by the UTC hour they started, 0 to 23.
    pub per_hour: Vec<usize>,
    /// Chats that waited for an agent.
    pub queued: usize,
    /// Of those, the ones that ended before an agent joined.
    pub abandoned: usize,
    /// From queued to the first agent joining.
    pub queue_time: Spread,
    /// From queued to the first agent message.
    pub first_response: Spread,
    /// Chats each agent took, most first.
    pub per_agent: Vec<AgentCount>,
}
