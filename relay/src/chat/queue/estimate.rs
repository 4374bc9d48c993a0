//! The honest wait: `$WAITTIME` and `$QUEUEPOSITION`. Plain Rust over the queued chats
//! and a rolling window of recent queue times (kept in memory, rebuilt from SQLite at
//! start), so nothing scans the conversations per visitor.

use std::collections::{BTreeMap, HashMap, VecDeque};

use serde::{Deserialize, Serialize};

use crate::flow::expand;

/// How `$WAITTIME` is worked out (per chat profile).
#[derive(Serialize, Deserialize, Debug, Clone, Copy, Default, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum WaitMethod {
    /// The average queue time of the chats agents joined in the last `window_minutes`.
    #[default]
    Average,
    /// The longest current wait in the live chat queue.
    Longest,
}

/// A profile's waiting settings (`[waiting]` in TOML).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct WaitSettings {
    pub method: WaitMethod,
    /// For `average`: how far back to look.
    pub window_minutes: u32,
    /// When there is no data (nobody joined lately, or nobody waits).
    pub default_minutes: u32,
    /// Show the estimate in a banner while the visitor waits.
    pub banner: bool,
    /// Show the visitor's place in the queue.
    pub position: bool,
    /// Posted to a waiting visitor one after another, every `message_interval_minutes`.
    pub messages: Vec<String>,
    pub message_interval_minutes: u32,
    /// After the last wait message, start again from the first.
    pub repeat_messages: bool,
}

impl Default for WaitSettings {
    fn default() -> Self {
        Self {
            method: WaitMethod::Average,
            window_minutes: 60,
            default_minutes: 5,
            banner: false,
            position: false,
            messages: Vec::new(),
            message_interval_minutes: 2,
            repeat_messages: false,
        }
    }
}

/// The longest window the relay keeps queue times for.
pub const MAX_WINDOW_MINUTES: u32 = 24 * 60;
const MINUTE_MS: i64 = 60_000;

/// A chat waiting in the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedChat {
    pub id: i64,
    pub queued_at: i64,
    /// The teams it is routed to (empty: any agent).
    pub teams: Vec<String>,
}

/// Two waiting chats compete for the same agents when either goes to anyone or they
/// share a team.
fn compete(a: &[String], b: &[String]) -> bool {
    a.is_empty()
        || b.is_empty()
        || a.iter()
            .any(|team| b.iter().any(|other| other.eq_ignore_ascii_case(team)))
}

/// The chat's place in line (1 = next): the waiting chats that compete with it and
/// queued before it (ties by id), plus one.
pub fn position(queue: &[QueuedChat], chat: &QueuedChat) -> usize {
    1 + queue
        .iter()
        .filter(|other| other.id != chat.id)
        .filter(|other| (other.queued_at, other.id) < (chat.queued_at, chat.id))
        .filter(|other| compete(&other.teams, &chat.teams))
        .count()
}

/// Every waiting chat's place in line at once, as [`position`] gives each, in
/// O(n × kinds of routing) instead of O(n²): the chats are walked in queue order,
/// counting those seen so far by their set of teams; a chat's place is one plus the
/// counts of the sets it competes with. Ten thousand waiting chats cost one pass.
pub fn positions(queue: &[QueuedChat]) -> HashMap<i64, usize> {
    let mut order: Vec<&QueuedChat> = queue.iter().collect();
    order.sort_by_key(|chat| (chat.queued_at, chat.id));
    // Each distinct set of teams (ASCII lower-case, as `compete` compares; sorted;
    // empty: anyone) and how many chats routed to it are ahead so far.
    let mut ahead: Vec<(Vec<String>, usize)> = Vec::new();
    let mut places = HashMap::with_capacity(queue.len());
    for chat in order {
        let mut teams: Vec<String> = chat
            .teams
            .iter()
            .map(|team| team.to_ascii_lowercase())
            .collect();
        teams.sort();
        teams.dedup();
        let before: usize = ahead
            .iter()
            .filter(|(routing, _)| compete(routing, &teams))
            .map(|(_, count)| count)
            .sum();
        places.insert(chat.id, before + 1);
        match ahead.iter_mut().find(|(routing, _)| *routing == teams) {
            Some((_, count)) => *count += 1,
            None => ahead.push((teams, 1)),
        }
    }
    places
}

/// Queue times of recently joined chats: `(joined_at, queue_ms)`, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecentWaits {
    entries: VecDeque<(i64, i64)>,
}

impl RecentWaits {
    pub fn record(&mut self, joined_at: i64, queue_ms: i64) {
        let at = self
            .entries
            .partition_point(|(other, _)| *other <= joined_at);
        self.entries.insert(at, (joined_at, queue_ms.max(0)));
        let horizon = joined_at - i64::from(MAX_WINDOW_MINUTES) * MINUTE_MS;
        while self.entries.front().is_some_and(|(at, _)| *at < horizon) {
            self.entries.pop_front();
        }
    }

    /// The average queue time of chats joined at or after `since`.
    fn average_since(&self, since: i64) -> Option<i64> {
        let start = self.entries.partition_point(|(at, _)| *at < since);
        let recent = self.entries.range(start..);
        let count = i64::try_from(recent.len())
            .ok()
            .filter(|count| *count > 0)?;
        Some(recent.map(|(_, wait)| wait).sum::<i64>() / count)
    }
}

/// The estimate in milliseconds, by the profile's method; its default without data.
pub fn estimate_ms(
    settings: &WaitSettings,
    recent: &RecentWaits,
    queue: &[QueuedChat],
    now: i64,
) -> i64 {
    let measured = match settings.method {
        WaitMethod::Average => {
            let window = i64::from(settings.window_minutes.min(MAX_WINDOW_MINUTES)) * MINUTE_MS;
            recent.average_since(now - window)
        }
        WaitMethod::Longest => queue
            .iter()
            .map(|chat| chat.queued_at)
            .min()
            .map(|oldest| (now - oldest).max(0)),
    };
    measured.unwrap_or(i64::from(settings.default_minutes) * MINUTE_MS)
}

/// Whole minutes (rounded), or `< 1` under a minute.
pub fn minutes_text(ms: i64) -> String {
    if ms < MINUTE_MS {
        "< 1".to_owned()
    } else {
        ((ms + MINUTE_MS / 2) / MINUTE_MS).to_string()
    }
}

/// Fills `$WAITTIME` and `$QUEUEPOSITION` (any case) in a message.
pub fn fill(text: &str, wait: &str, position: usize) -> String {
    let variables = BTreeMap::from([
        ("waittime".to_owned(), wait.to_owned()),
        ("queueposition".to_owned(), position.to_string()),
    ]);
    expand(text, &variables)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chat(id: i64, queued_at: i64, teams: &[&str]) -> QueuedChat {
        QueuedChat {
            id,
            queued_at,
            teams: teams.iter().map(|team| (*team).to_owned()).collect(),
        }
    }

    #[test]
    fn minutes_are_whole_or_under_one() {
        assert_eq!(minutes_text(0), "< 1");
        assert_eq!(minutes_text(59_999), "< 1");
        assert_eq!(minutes_text(60_000), "1");
        assert_eq!(minutes_text(89_999), "1");
        assert_eq!(minutes_text(90_000), "2");
        assert_eq!(minutes_text(30 * 60_000), "30");
    }

    #[test]
    fn the_average_uses_only_the_window_and_else_the_default() {
        let settings = WaitSettings {
            window_minutes: 10,
            default_minutes: 4,
            ..WaitSettings::default()
        };
        let now = 100 * MINUTE_MS;
        let mut recent = RecentWaits::default();
        assert_eq!(
            estimate_ms(&settings, &recent, &[], now),
            4 * MINUTE_MS,
            "no data"
        );
        recent.record(now - 30 * MINUTE_MS, 20 * MINUTE_MS); // outside the window
        recent.record(now - 5 * MINUTE_MS, 2 * MINUTE_MS);
        recent.record(now - MINUTE_MS, 4 * MINUTE_MS);
        assert_eq!(estimate_ms(&settings, &recent, &[], now), 3 * MINUTE_MS);
        assert_eq!(
            estimate_ms(&settings, &recent, &[], now + 20 * MINUTE_MS),
            4 * MINUTE_MS,
            "everything aged out: the default again"
        );
    }

    #[test]
    fn the_longest_wait_is_the_oldest_queued_chat() {
        let settings = WaitSettings {
            method: WaitMethod::Longest,
            default_minutes: 7,
            ..WaitSettings::default()
        };
        let recent = RecentWaits::default();
        let now = 50 * MINUTE_MS;
        assert_eq!(estimate_ms(&settings, &recent, &[], now), 7 * MINUTE_MS);
        let queue = [
            chat(1, now - 3 * MINUTE_MS, &[]),
            chat(2, now - 40_000, &[]),
        ];
        assert_eq!(
            minutes_text(estimate_ms(&settings, &recent, &queue, now)),
            "3"
        );
    }

    #[test]
    fn old_queue_times_are_dropped_beyond_a_day() {
        let mut recent = RecentWaits::default();
        recent.record(0, MINUTE_MS);
        recent.record(i64::from(MAX_WINDOW_MINUTES + 1) * MINUTE_MS, MINUTE_MS);
        assert_eq!(recent.entries.len(), 1);
    }

    #[test]
    fn position_counts_earlier_chats_for_the_same_teams() {
        let queue = [
            chat(1, 10, &["Support"]),
            chat(2, 20, &["Sales"]),
            chat(3, 30, &["support"]),
            chat(4, 40, &[]),
            chat(5, 40, &["Sales"]),
        ];
        let positions: Vec<usize> = queue.iter().map(|c| position(&queue, c)).collect();
        assert_eq!(positions, [1, 1, 2, 4, 3]);
        let all = super::positions(&queue);
        let at_once: Vec<usize> = queue.iter().map(|c| all[&c.id]).collect();
        assert_eq!(at_once, positions);
    }

    #[test]
    fn all_places_at_once_match_each_place_alone() {
        // Mixed routing: anyone, one team in either case, two teams, ties in time.
        let routings: [&[&str]; 5] = [
            &[],
            &["Support"],
            &["sales"],
            &["SALES", "support"],
            &["Billing"],
        ];
        let queue: Vec<QueuedChat> = (0..200)
            .map(|n| {
                chat(
                    1000 - n,
                    (n * 7919 % 97) / 3,
                    routings[(n * 31 % 5) as usize],
                )
            })
            .collect();
        let all = positions(&queue);
        assert_eq!(all.len(), queue.len());
        for waiting in &queue {
            assert_eq!(
                all[&waiting.id],
                position(&queue, waiting),
                "chat {}",
                waiting.id
            );
        }
    }

    #[test]
    fn variables_are_filled_in_any_case() {
        assert_eq!(
            fill(
                "About $WAITTIME min; you are #$QueuePosition. $NAME $",
                "3",
                2
            ),
            "About 3 min; you are #2. $NAME $"
        );
    }
}
