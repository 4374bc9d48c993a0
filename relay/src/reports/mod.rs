//! Reports: the sums over the chats started in a range of UTC days (inclusive;
//! default the last 7 days), put together from the store's sums per day, and the CSV
//! exports of chats and messages (`csv`). Plain Rust, unit-tested in `tests.rs` (with
//! `sums_of_chats`, the same sums counted chat by chat); `http/reports.rs` serves them.

mod csv;

pub use csv::{CHATS_CSV_HEADER, MESSAGES_CSV_HEADER, chats_csv, csv_field, messages_csv};

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use porchlight_protocol::ConversationStatus;
use porchlight_protocol::api::reports::{AgentCount, DayCount, Ratings, Report, Spread, TeamCount};
use serde::Deserialize;

use crate::store::{ChatRecord, DayNumber, NameSums, ReportSums, WaitCount, WaitMeasure};

/// The longest range one report covers.
const MAX_DAYS: i64 = 366;

#[derive(Deserialize, Debug, Default)]
pub struct Range {
    from: Option<String>,
    to: Option<String>,
}

/// Inclusive UTC days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Days {
    pub from: Date,
    pub to: Date,
}

impl Days {
    /// The range asked for, or the 7 days up to `today`.
    pub fn parse(range: &Range, today: Date) -> Result<Self, &'static str> {
        let day = |text: &Option<String>, default: Date| match text.as_deref() {
            None | Some("") => Ok(default),
            Some(text) => text
                .parse::<Date>()
                .map_err(|_| "Dates are written like 2026-11-22."),
        };
        let to = day(&range.to, today)?;
        let from = day(&range.from, to.saturating_sub(6.days()))?;
        if from > to {
            return Err("The range starts after it ends.");
        }
        if (to - from).get_days() >= MAX_DAYS as i32 {
            return Err("A report covers at most 366 days.");
        }
        Ok(Self { from, to })
    }

    /// `[start, end)` in Unix milliseconds.
    pub fn millis(self) -> (i64, i64) {
        (
            utc_day_start(self.from),
            utc_day_start(self.to.saturating_add(1.day())),
        )
    }

    /// `[first, last + 1)` as day numbers, the key of the store's sums.
    pub fn day_numbers(self) -> (DayNumber, DayNumber) {
        let (start, end) = self.millis();
        (start.div_euclid(DAY_MS), end.div_euclid(DAY_MS))
    }
}

const DAY_MS: i64 = 86_400_000;

/// Midnight UTC at the start of `date`, in milliseconds since the Unix epoch.
pub fn utc_day_start(date: Date) -> i64 {
    date.to_zoned(TimeZone::UTC)
        .map(|zoned| zoned.timestamp().as_millisecond())
        .unwrap_or(0)
}

pub fn utc_date(ms: i64) -> Option<Date> {
    Some(
        Timestamp::from_millisecond(ms)
            .ok()?
            .to_zoned(TimeZone::UTC)
            .date(),
    )
}

/// A chat that waited and ended before any agent joined.
pub fn abandoned(chat: &ChatRecord) -> bool {
    chat.queued_at.is_some()
        && chat.agent_joined_at.is_none()
        && chat.status == ConversationStatus::Ended
}

/// The median and 90th percentile of waits counted by length (sorted by length).
fn spread<'a>(counts: impl Iterator<Item = &'a WaitCount> + Clone) -> Spread {
    let total: usize = counts.clone().map(|wait| wait.chats).sum();
    // The value at a 1-based rank, as if every wait were listed in order.
    let at_rank = |rank: usize| {
        let mut seen = 0;
        counts.clone().find_map(|wait| {
            seen += wait.chats;
            (seen >= rank).then_some(wait.bucket_ms)
        })
    };
    let percentile = |p: usize| {
        (total > 0)
            .then(|| at_rank((total * p).div_ceil(100).max(1)))
            .flatten()
    };
    Spread {
        count: total,
        median_ms: percentile(50),
        p90_ms: percentile(90),
    }
}

/// The report of `days` from the store's sums of those days.
pub fn report(days: Days, sums: ReportSums) -> Report {
    let (first_day, _) = days.day_numbers();
    let day_count = usize::try_from((days.to - days.from).get_days() + 1).unwrap_or(0);
    let mut per_day = vec![0; day_count];
    let (mut chats, mut queued, mut abandoned) = (0, 0, 0);
    let mut ratings = Ratings::default();
    for sums in &sums.days {
        if let Some(count) = usize::try_from(sums.day - first_day)
            .ok()
            .and_then(|day| per_day.get_mut(day))
        {
            *count += sums.chats;
        }
        chats += sums.chats;
        queued += sums.queued;
        abandoned += sums.abandoned;
        ratings.rated += sums.rated;
        ratings.score_sum += sums.score_sum;
    }
    let mut day = days.from;
    let per_day = per_day
        .into_iter()
        .map(|chats| {
            let count = DayCount {
                day: day.to_string(),
                chats,
            };
            day = day.saturating_add(1.day());
            count
        })
        .collect();
    let waits = |measure| {
        sums.waits
            .iter()
            .filter(move |wait| wait.measure == measure)
    };
    Report {
        from: days.from.to_string(),
        to: days.to.to_string(),
        chats,
        per_day,
        per_hour: sums.hours.to_vec(),
        queued,
        abandoned,
        queue_time: spread(waits(WaitMeasure::Queue)),
        first_response: spread(waits(WaitMeasure::FirstResponse)),
        per_agent: most_chats_first(sums.agents)
            .map(|(agent, chats, ratings)| AgentCount {
                agent,
                chats,
                ratings,
            })
            .collect(),
        per_team: most_chats_first(sums.teams)
            .map(|(team, chats, ratings)| TeamCount {
                team,
                chats,
                ratings,
            })
            .collect(),
        ratings,
    }
}

/// Names with their chats and ratings, most chats first (then by name).
fn most_chats_first(mut names: Vec<NameSums>) -> impl Iterator<Item = (String, usize, Ratings)> {
    names.sort_by(|a, b| b.chats.cmp(&a.chats).then_with(|| a.name.cmp(&b.name)));
    names.into_iter().map(|name| {
        let ratings = Ratings {
            rated: name.rated,
            score_sum: name.score_sum,
        };
        (name.name, name.chats, ratings)
    })
}

#[cfg(test)]
pub(crate) mod sums_of_chats;
#[cfg(test)]
mod tests;
