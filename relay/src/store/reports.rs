//! What reports and the CSV exports read: the chats of a range a page at a time with
//! their messages (the exports), and the sums per day that the backend keeps as chats
//! change (the Reports page), so a report costs the same however many chats it covers.

use async_trait::async_trait;
use porchlight_protocol::{ConversationId, ConversationStatus};

use super::StoreError;

/// One chat as reports and the CSV export see it. Times are Unix milliseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatRecord {
    pub id: ConversationId,
    pub created_at: i64,
    pub status: ConversationStatus,
    pub visitor_name: String,
    pub agent_name: Option<String>,
    pub teams: Vec<String>,
    pub queued_at: Option<i64>,
    pub agent_joined_at: Option<i64>,
    pub queue_ms: Option<i64>,
    pub ended_at: Option<i64>,
    /// `visitor`, `agent`, `bot`…
    pub ended_by: Option<String>,
    /// The first agent message.
    pub first_response_at: Option<i64>,
    pub messages: i64,
    pub page_url: Option<String>,
    pub ticket_id: Option<i64>,
    /// The visitor's rating (1 to 5).
    pub rating: Option<u8>,
}

/// Where the next page of chats starts: after this one, in start order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChatCursor {
    pub created_at: i64,
    pub id: ConversationId,
}

impl ChatRecord {
    pub fn cursor(&self) -> ChatCursor {
        ChatCursor {
            created_at: self.created_at,
            id: self.id,
        }
    }
}

/// One message for the CSV export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRecord {
    pub conversation_id: ConversationId,
    pub seq: i64,
    pub created_at: i64,
    pub author: String,
    pub author_name: Option<String>,
    pub kind: String,
    pub body: String,
}

/// A UTC day: whole days since the Unix epoch.
pub type DayNumber = i64;

/// What a wait is counted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum WaitMeasure {
    /// From queueing to an agent joining.
    Queue,
    /// From queueing to the first agent message.
    FirstResponse,
}

/// The sums of the chats started on one UTC day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DaySums {
    pub day: DayNumber,
    pub chats: usize,
    /// Chats that waited for an agent.
    pub queued: usize,
    /// Chats that waited and ended before any agent joined.
    pub abandoned: usize,
    pub rated: usize,
    pub score_sum: u64,
}

/// Chats and their ratings under one name (an agent or a team) over a range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameSums {
    pub name: String,
    pub chats: usize,
    pub rated: usize,
    pub score_sum: u64,
}

/// How many chats of a range waited `bucket_ms` (to the second below an hour, to the
/// minute above).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct WaitCount {
    pub measure: WaitMeasure,
    pub bucket_ms: i64,
    pub chats: usize,
}

/// A range's sums: its days in order, its chats by the UTC hour they started (0 to
/// 23), its agents and teams by name, its waits by measure then length. Days, names
/// and waits without chats are left out.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReportSums {
    pub days: Vec<DaySums>,
    pub hours: [usize; 24],
    pub agents: Vec<NameSums>,
    pub teams: Vec<NameSums>,
    pub waits: Vec<WaitCount>,
}

/// What reports and the CSV exports read.
#[async_trait]
pub trait ReportStore: Send + Sync {
    /// Chats started in `[from, to)` (Unix ms), oldest first (by start, then id), after
    /// `after` when given, at most `limit`: the exports read them a page at a time.
    async fn chat_records(
        &self,
        from: i64,
        to: i64,
        after: Option<ChatCursor>,
        limit: usize,
    ) -> Result<Vec<ChatRecord>, StoreError>;

    /// The sums of the chats started on the days `[from, to)`.
    async fn report_sums(&self, from: DayNumber, to: DayNumber) -> Result<ReportSums, StoreError>;

    /// The messages of `chats`, chat by chat in the order given, each in seq order.
    async fn message_records(
        &self,
        chats: Vec<ConversationId>,
    ) -> Result<Vec<MessageRecord>, StoreError>;
}

/// The highest level of the sums kept per block of days: 4^3 = 64 days.
const TOP_LEVEL: u32 = 3;

/// The blocks of days that tile `[from, to)`, as (level, block): from each day on, the
/// largest block (1, 4, 16 or 64 days; block = day / 4^level) that starts there and
/// fits. Ninety days take about 15 blocks, a year about 25.
pub(crate) fn blocks(from: DayNumber, to: DayNumber) -> Vec<(i64, i64)> {
    let mut blocks = Vec::new();
    let mut day = from.max(0);
    while day < to {
        let level = (0..=TOP_LEVEL)
            .rev()
            .find(|level| {
                let size = 4_i64.pow(*level);
                day % size == 0 && day + size <= to
            })
            .unwrap_or(0);
        blocks.push((i64::from(level), day >> (2 * level)));
        day += 4_i64.pow(level);
    }
    blocks
}
