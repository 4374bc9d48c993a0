//! Reports: the sums over the chats started in a range of UTC days (inclusive;
//! default the last 7 days), and the CSV exports of chats and messages (`csv`). Plain
//! Rust over the chats' rows, unit-tested in `tests.rs`; `http/reports.rs` serves them.

mod csv;

pub use csv::{CHATS_CSV_HEADER, MESSAGES_CSV_HEADER, chats_csv, csv_field, messages_csv};

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use porchlight_protocol::ConversationStatus;
use porchlight_protocol::api::reports::{AgentCount, DayCount, Ratings, Report, Spread, TeamCount};
use serde::Deserialize;

use crate::store::ChatRecord;

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
}

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

fn spread(mut values: Vec<i64>) -> Spread {
    values.sort_unstable();
    let rank = |p: usize| {
        let n = values.len();
        (n > 0).then(|| values[(n * p).div_ceil(100).max(1) - 1])
    };
    Spread {
        count: values.len(),
        median_ms: rank(50),
        p90_ms: rank(90),
    }
}

/// A chat that waited and ended before any agent joined.
pub fn abandoned(chat: &ChatRecord) -> bool {
    chat.queued_at.is_some()
        && chat.agent_joined_at.is_none()
        && chat.status == ConversationStatus::Ended
}

const DAY_MS: i64 = 86_400_000;
const HOUR_MS: i64 = 3_600_000;

/// The report's sums, added up a page of chats at a time (so a long range is never
/// held in memory whole).
pub struct Summary {
    days: Days,
    /// The first day's midnight, in ms.
    start: i64,
    per_day: Vec<usize>,
    per_hour: Vec<usize>,
    chats: usize,
    queued: usize,
    abandoned: usize,
    queue_times: Vec<i64>,
    first_responses: Vec<i64>,
    per_agent: Tally,
    per_team: Tally,
    ratings: Ratings,
}

impl Summary {
    pub fn new(days: Days) -> Self {
        let day_count = usize::try_from((days.to - days.from).get_days() + 1).unwrap_or(0);
        Self {
            days,
            start: days.millis().0,
            per_day: vec![0; day_count],
            per_hour: vec![0; 24],
            chats: 0,
            queued: 0,
            abandoned: 0,
            queue_times: Vec::new(),
            first_responses: Vec::new(),
            per_agent: Tally::default(),
            per_team: Tally::default(),
            ratings: Ratings::default(),
        }
    }

    pub fn add(&mut self, chats: &[ChatRecord]) {
        for chat in chats {
            // UTC days and hours are whole multiples of the epoch's: found by arithmetic.
            let day = usize::try_from((chat.created_at - self.start).div_euclid(DAY_MS));
            if let Some(count) = day.ok().and_then(|day| self.per_day.get_mut(day)) {
                *count += 1;
            }
            let hour = usize::try_from(chat.created_at.rem_euclid(DAY_MS) / HOUR_MS);
            self.per_hour[hour.unwrap_or(0)] += 1;
            self.chats += 1;
            self.queued += usize::from(chat.queued_at.is_some());
            self.abandoned += usize::from(abandoned(chat));
            self.queue_times.extend(chat.queue_ms);
            self.first_responses.extend(
                chat.first_response_at
                    .zip(chat.queued_at)
                    .map(|(at, queued)| at - queued),
            );
            if let Some(agent) = &chat.agent_name {
                self.per_agent.add(agent, chat.rating);
            }
            for team in &chat.teams {
                self.per_team.add(team, chat.rating);
            }
            self.ratings.add(chat.rating);
        }
    }

    pub fn report(self) -> Report {
        let mut day = self.days.from;
        let mut per_day = Vec::with_capacity(self.per_day.len());
        for chats in self.per_day {
            per_day.push(DayCount {
                day: day.to_string(),
                chats,
            });
            day = day.saturating_add(1.day());
        }
        Report {
            from: self.days.from.to_string(),
            to: self.days.to.to_string(),
            chats: self.chats,
            per_day,
            per_hour: self.per_hour,
            queued: self.queued,
            abandoned: self.abandoned,
            queue_time: spread(self.queue_times),
            first_response: spread(self.first_responses),
            per_agent: self
                .per_agent
                .sorted()
                .map(|(agent, chats, ratings)| AgentCount {
                    agent,
                    chats,
                    ratings,
                })
                .collect(),
            per_team: self
                .per_team
                .sorted()
                .map(|(team, chats, ratings)| TeamCount {
                    team,
                    chats,
                    ratings,
                })
                .collect(),
            ratings: self.ratings,
        }
    }
}

/// Chats and ratings per name.
#[derive(Default)]
struct Tally(Vec<(String, usize, Ratings)>);

impl Tally {
    fn add(&mut self, name: &str, rating: Option<u8>) {
        let at = match self.0.iter().position(|(known, ..)| known == name) {
            Some(at) => at,
            None => {
                self.0.push((name.to_owned(), 0, Ratings::default()));
                self.0.len() - 1
            }
        };
        self.0[at].1 += 1;
        self.0[at].2.add(rating);
    }

    /// Most chats first (then by name).
    fn sorted(mut self) -> impl Iterator<Item = (String, usize, Ratings)> {
        self.0
            .sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        self.0.into_iter()
    }
}

#[cfg(test)]
mod tests;
