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
    #[serde(flatten)]
    pub ratings: Ratings,
}

/// Chats per team (a chat routed to two teams counts for both), with their ratings.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct TeamCount {
    pub team: String,
    pub chats: usize,
    #[serde(flatten)]
    pub ratings: Ratings,
}

/// Visitors' ratings (1 to 5; thumbs count as 1 and 5): how many, and their sum.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ratings {
    #[serde(default, skip_serializing_if = "is_zero")]
    pub rated: usize,
    #[serde(default, skip_serializing_if = "is_zero_sum")]
    pub score_sum: u64,
}

fn is_zero(value: &usize) -> bool {
    *value == 0
}

fn is_zero_sum(value: &u64) -> bool {
    *value == 0
}

impl Ratings {
    pub fn add(&mut self, score: Option<u8>) {
        if let Some(score) = score {
            self.rated += 1;
            self.score_sum += u64::from(score);
        }
    }

    /// The average to one decimal, e.g. "4.3 (12 ratings)"; `None` with no rating.
    pub fn text(self) -> Option<String> {
        let rated = u64::try_from(self.rated).ok().filter(|rated| *rated > 0)?;
        let tenths = (self.score_sum * 10 + rated / 2) / rated;
        let noun = if rated == 1 { "rating" } else { "ratings" };
        Some(format!("{}.{} ({rated} {noun})", tenths / 10, tenths % 10))
    }
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
    /// Chats per team, most first.
    #[serde(default)]
    pub per_team: Vec<TeamCount>,
    /// Every rating in the range.
    #[serde(default, flatten)]
    pub ratings: Ratings,
}
