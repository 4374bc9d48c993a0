//! Reports: the sums over the chats started in a range of UTC days (inclusive;
//! default the last 7 days), and the CSV exports of chats and messages. Plain Rust
//! over the chats' rows, unit-tested below; `http/reports.rs` serves them.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use porchlight_protocol::ConversationStatus;
use porchlight_protocol::api::reports::{AgentCount, DayCount, Ratings, Report, Spread, TeamCount};
use serde::Deserialize;

use crate::store::{ChatRecord, MessageRecord};

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

/// One CSV field: quoted when it must be, and never read as a formula by a
/// spreadsheet (a leading `=`, `+`, `-`, `@` or tab gets a `'`).
pub fn csv_field(text: &str) -> String {
    let guarded = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

fn time(ms: Option<i64>) -> String {
    ms.and_then(|ms| Timestamp::from_millisecond(ms).ok())
        .map(|at| at.to_string())
        .unwrap_or_default()
}

fn seconds(ms: Option<i64>) -> String {
    ms.map(|ms| format!("{}", ms / 1000)).unwrap_or_default()
}

/// Appends `rows` to `out`, a line each.
fn csv_lines(out: &mut String, rows: impl Iterator<Item = Vec<String>>) {
    for row in rows {
        let fields: Vec<String> = row.iter().map(|field| csv_field(field)).collect();
        out.push_str(&fields.join(","));
        out.push('\n');
    }
}

/// The chats export's first line; [`chats_csv`] adds a line per chat (an export is
/// written a page of chats at a time).
pub const CHATS_CSV_HEADER: &str = "id,created_at,status,visitor,agent,teams,queued_at,\
     agent_joined_at,queue_seconds,ended_at,ended_by,abandoned,first_response_seconds,\
     messages,page_url,ticket_id\n";

pub fn chats_csv(out: &mut String, chats: &[ChatRecord]) {
    csv_lines(
        out,
        chats.iter().map(|chat| {
            vec![
                chat.id.to_string(),
                time(Some(chat.created_at)),
                chat.status.as_str().to_owned(),
                chat.visitor_name.clone(),
                chat.agent_name.clone().unwrap_or_default(),
                chat.teams.join(";"),
                time(chat.queued_at),
                time(chat.agent_joined_at),
                seconds(chat.queue_ms),
                time(chat.ended_at),
                chat.ended_by.clone().unwrap_or_default(),
                abandoned(chat).to_string(),
                seconds(
                    chat.first_response_at
                        .zip(chat.queued_at)
                        .map(|(first, queued)| first - queued),
                ),
                chat.messages.to_string(),
                chat.page_url.clone().unwrap_or_default(),
                chat.ticket_id.map(|id| id.to_string()).unwrap_or_default(),
            ]
        }),
    )
}

pub const MESSAGES_CSV_HEADER: &str =
    "conversation_id,seq,created_at,author,author_name,kind,body\n";

pub fn messages_csv(out: &mut String, messages: &[MessageRecord]) {
    csv_lines(
        out,
        messages.iter().map(|message| {
            vec![
                message.conversation_id.to_string(),
                message.seq.to_string(),
                time(Some(message.created_at)),
                message.author.clone(),
                message.author_name.clone().unwrap_or_default(),
                message.kind.clone(),
                message.body.clone(),
            ]
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summarise(days: Days, chats: &[ChatRecord]) -> Report {
        let mut summary = Summary::new(days);
        summary.add(chats);
        summary.report()
    }

    const MINUTE: i64 = 60_000;

    fn at(date: &str, hour: i8) -> i64 {
        date.parse::<Date>()
            .unwrap()
            .at(hour, 0, 0, 0)
            .to_zoned(TimeZone::UTC)
            .unwrap()
            .timestamp()
            .as_millisecond()
    }

    fn chat(id: i64, created_at: i64) -> ChatRecord {
        ChatRecord {
            id,
            created_at,
            status: ConversationStatus::Ended,
            visitor_name: format!("Visitor {id}"),
            agent_name: None,
            teams: Vec::new(),
            queued_at: None,
            agent_joined_at: None,
            queue_ms: None,
            ended_at: None,
            ended_by: None,
            first_response_at: None,
            messages: 1,
            page_url: None,
            ticket_id: None,
            rating: None,
        }
    }

    fn served(id: i64, created_at: i64, agent: &str, wait: i64) -> ChatRecord {
        ChatRecord {
            agent_name: Some(agent.into()),
            queued_at: Some(created_at),
            agent_joined_at: Some(created_at + wait),
            queue_ms: Some(wait),
            first_response_at: Some(created_at + wait + MINUTE),
            ..chat(id, created_at)
        }
    }

    #[test]
    fn ranges_default_to_a_week_and_refuse_nonsense() {
        let today: Date = "2026-11-22".parse().unwrap();
        let week = Days::parse(&Range::default(), today).unwrap();
        assert_eq!(week.from.to_string(), "2026-11-16");
        let range = |from: &str, to: &str| Range {
            from: Some(from.into()),
            to: Some(to.into()),
        };
        assert!(Days::parse(&range("2026-11-22", "2026-11-01"), today).is_err());
        assert!(Days::parse(&range("2025-01-01", "2026-11-01"), today).is_err());
        assert!(Days::parse(&range("22/11/2026", "2026-11-01"), today).is_err());
        let one = Days::parse(&range("2026-11-01", "2026-11-01"), today).unwrap();
        let (start, end) = one.millis();
        assert_eq!(end - start, 24 * 60 * MINUTE);
    }

    #[test]
    fn a_report_counts_days_hours_waits_abandonment_agents_teams_and_ratings() {
        let days = Days {
            from: "2026-11-01".parse().unwrap(),
            to: "2026-11-03".parse().unwrap(),
        };
        let waits = [MINUTE, 2 * MINUTE, 3 * MINUTE, 4 * MINUTE, 10 * MINUTE];
        let mut chats: Vec<ChatRecord> = waits
            .iter()
            .enumerate()
            .map(|(n, wait)| {
                let agent = if n % 2 == 0 { "Ana" } else { "Bo" };
                served(n as i64, at("2026-11-01", 9), agent, *wait)
            })
            .collect();
        for chat in &mut chats {
            chat.teams = vec!["Support".into()];
        }
        for (chat, score) in [(0, 5), (1, 2), (2, 4)] {
            chats[chat].rating = Some(score);
        }
        chats.push(ChatRecord {
            queued_at: Some(at("2026-11-03", 14)),
            teams: vec!["Sales".into()],
            ..chat(10, at("2026-11-03", 14))
        });
        chats.push(chat(11, at("2026-11-03", 23)));
        let report = summarise(days, &chats);
        assert_eq!(report.chats, 7);
        let per_day: Vec<usize> = report.per_day.iter().map(|day| day.chats).collect();
        assert_eq!(per_day, [5, 0, 2]);
        assert_eq!(
            (report.per_hour[9], report.per_hour[14], report.per_hour[23]),
            (5, 1, 1)
        );
        assert_eq!((report.queued, report.abandoned), (6, 1));
        assert_eq!(report.queue_time.median_ms, Some(3 * MINUTE));
        assert_eq!(report.queue_time.p90_ms, Some(10 * MINUTE));
        assert_eq!(report.first_response.median_ms, Some(4 * MINUTE));
        assert_eq!(
            report.per_agent,
            [
                AgentCount {
                    agent: "Ana".into(),
                    chats: 3,
                    ratings: Ratings {
                        rated: 2,
                        score_sum: 9
                    },
                },
                AgentCount {
                    agent: "Bo".into(),
                    chats: 2,
                    ratings: Ratings {
                        rated: 1,
                        score_sum: 2
                    },
                },
            ]
        );
        let teams: Vec<(&str, usize, Option<String>)> = report
            .per_team
            .iter()
            .map(|team| (team.team.as_str(), team.chats, team.ratings.text()))
            .collect();
        assert_eq!(
            teams,
            [
                ("Support", 5, Some("3.7 (3 ratings)".to_owned())),
                ("Sales", 1, None)
            ]
        );
        assert_eq!(
            report.per_agent[1].ratings.text().as_deref(),
            Some("2.0 (1 rating)")
        );
        assert_eq!(report.ratings.text().as_deref(), Some("3.7 (3 ratings)"));
        assert_eq!(summarise(days, &[]).queue_time, Spread::default());
    }

    #[test]
    fn csv_fields_are_quoted_and_never_formulas() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a, b"), "\"a, b\"");
        assert_eq!(csv_field("say \"hi\"\nthen"), "\"say \"\"hi\"\"\nthen\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("-1"), "'-1");
        assert_eq!(csv_field("@sum"), "'@sum");
    }

    #[test]
    fn the_chat_export_has_a_row_per_chat() {
        let mut text = CHATS_CSV_HEADER.to_owned();
        chats_csv(&mut text, &[served(7, at("2026-11-01", 9), "Ana", 90_000)]);
        let mut lines = text.lines();
        assert!(
            lines
                .next()
                .unwrap()
                .starts_with("id,created_at,status,visitor,agent")
        );
        assert_eq!(
            lines.next().unwrap(),
            "7,2026-11-01T09:00:00Z,ended,Visitor 7,Ana,,2026-11-01T09:00:00Z,\
             2026-11-01T09:01:30Z,90,,,false,150,1,,"
        );
        assert_eq!(lines.next(), None);
    }
}
