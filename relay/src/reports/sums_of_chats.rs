//! The sums a report reads, counted straight from the chats: what the store's sums per
//! day must equal, and what the report's own tests feed it.

use std::collections::BTreeMap;

use crate::store::{ChatRecord, DayNumber, DaySums, NameSums, ReportSums, WaitCount, WaitMeasure};

use super::{DAY_MS, abandoned};

const HOUR_MS: i64 = 3_600_000;

/// A wait to the second below an hour, to the minute above (rounded towards zero).
fn wait_bucket(ms: i64) -> i64 {
    if ms < HOUR_MS {
        ms / 1000 * 1000
    } else {
        ms / 60_000 * 60_000
    }
}

/// The sums of the chats among `chats` started on the days `[from, to)`.
pub(crate) fn sums_of_chats(chats: &[ChatRecord], from: DayNumber, to: DayNumber) -> ReportSums {
    let mut days: BTreeMap<DayNumber, DaySums> = BTreeMap::new();
    let mut hours = [0; 24];
    let mut agents: BTreeMap<String, NameSums> = BTreeMap::new();
    let mut teams: BTreeMap<String, NameSums> = BTreeMap::new();
    let mut waits: BTreeMap<(WaitMeasure, i64), usize> = BTreeMap::new();
    let rated = |chat: &ChatRecord| {
        (
            usize::from(chat.rating.is_some()),
            u64::from(chat.rating.unwrap_or(0)),
        )
    };
    for chat in chats {
        let day = chat.created_at / DAY_MS;
        if day < from || day >= to {
            continue;
        }
        let hour = usize::try_from(chat.created_at % DAY_MS / HOUR_MS).unwrap_or(0);
        hours[hour] += 1;
        let (rated, score) = rated(chat);
        let sums = days.entry(day).or_insert(DaySums {
            day,
            ..DaySums::default()
        });
        sums.chats += 1;
        sums.queued += usize::from(chat.queued_at.is_some());
        sums.abandoned += usize::from(abandoned(chat));
        sums.rated += rated;
        sums.score_sum += score;
        if let Some(agent) = &chat.agent_name {
            add_to(&mut agents, agent, rated, score);
        }
        for team in &chat.teams {
            add_to(&mut teams, team, rated, score);
        }
        let first_response = chat
            .first_response_at
            .zip(chat.queued_at)
            .map(|(at, queued)| at - queued);
        for (measure, wait) in [
            (WaitMeasure::Queue, chat.queue_ms),
            (WaitMeasure::FirstResponse, first_response),
        ] {
            if let Some(wait) = wait {
                *waits.entry((measure, wait_bucket(wait))).or_default() += 1;
            }
        }
    }
    ReportSums {
        days: days.into_values().collect(),
        hours,
        agents: agents.into_values().collect(),
        teams: teams.into_values().collect(),
        waits: waits
            .into_iter()
            .map(|((measure, bucket_ms), chats)| WaitCount {
                measure,
                bucket_ms,
                chats,
            })
            .collect(),
    }
}

fn add_to(table: &mut BTreeMap<String, NameSums>, name: &str, rated: usize, score: u64) {
    let sums = table.entry(name.to_owned()).or_insert(NameSums {
        name: name.to_owned(),
        chats: 0,
        rated: 0,
        score_sum: 0,
    });
    sums.chats += 1;
    sums.rated += rated;
    sums.score_sum += score;
}
