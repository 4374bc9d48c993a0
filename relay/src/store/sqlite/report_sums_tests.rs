//! The sums per day that the triggers keep equal the sums counted from the chats
//! themselves, after any mix of chats started, changed in every way a report reads,
//! and erased.

use rusqlite::{Connection, params};

use super::reports::{chat_records, report_sums};
use super::schema::migrate;
use crate::reports::sums_of_chats::sums_of_chats;
use crate::store::reports::blocks;

const DAY_MS: i64 = 86_400_000;
/// The first day of the test's chats (2026-11-01), as a day number.
const FIRST_DAY: i64 = 20_758;

/// The days the test's chats start on, from `FIRST_DAY`.
const DAYS: i64 = 70;

/// A small deterministic generator (xorshift), so a failure replays.
struct Dice(u64);

impl Dice {
    fn roll(&mut self, sides: u64) -> i64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        i64::try_from(self.0 % sides).unwrap()
    }

    /// `base` plus a roll, two times in three; none otherwise.
    fn maybe(&mut self, base: i64, sides: u64) -> Option<i64> {
        let value = base + self.roll(sides);
        (self.roll(3) > 0).then_some(value)
    }
}

fn store() -> Connection {
    let mut conn = Connection::open_in_memory().unwrap();
    migrate(&mut conn).unwrap();
    conn.execute_batch(
        "INSERT INTO sites (key, name, created_at) VALUES ('demo', 'Demo', 1);
         INSERT INTO visitors (site_id, token_hash, display_name, created_at)
             VALUES (1, 'h', 'Visitor 1', 1);",
    )
    .unwrap();
    conn
}

const STATUSES: [&str; 4] = ["bot", "queued", "active", "ended"];
const AGENTS: [&str; 3] = ["Ana", "Bo", "Cy"];
const TEAMS: [&str; 4] = [
    "[]",
    "[\"Support\"]",
    "[\"Sales\",\"Support\"]",
    "[\"Sales\"]",
];

fn start_chat(conn: &Connection, dice: &mut Dice) {
    let created_at = (FIRST_DAY + dice.roll(DAYS as u64)) * DAY_MS + dice.roll(DAY_MS as u64);
    conn.execute(
        "INSERT INTO conversations (site_id, visitor_id, status, created_at, teams) \
         VALUES (1, 1, ?1, ?2, ?3)",
        params![
            STATUSES[dice.roll(4) as usize],
            created_at,
            TEAMS[dice.roll(4) as usize]
        ],
    )
    .unwrap();
}

/// Changes one chat the ways the relay does: queued, joined (or transferred), answered,
/// ended, rated; and the ways it must not matter (a message's seq).
fn change_chat(conn: &Connection, dice: &mut Dice, id: i64) {
    let created_at: i64 = conn
        .query_row(
            "SELECT created_at FROM conversations WHERE id = ?1",
            [id],
            |row| row.get(0),
        )
        .unwrap();
    let queued_at = dice.maybe(created_at, 60_000);
    let queue_ms = dice.maybe(0, 3 * 3_600_000);
    let change = match dice.roll(6) {
        0 => conn.execute(
            "UPDATE conversations SET status = 'queued', queued_at = ?2 WHERE id = ?1",
            params![id, queued_at],
        ),
        1 => conn.execute(
            "UPDATE conversations SET status = 'active', agent_name = ?2, queue_ms = ?3, \
             agent_joined_at = ?4 WHERE id = ?1",
            params![
                id,
                AGENTS[dice.roll(3) as usize],
                queue_ms,
                queued_at.map(|at| at + 5)
            ],
        ),
        2 => conn.execute(
            "UPDATE conversations SET first_response_at = ?2, teams = ?3 WHERE id = ?1",
            params![
                id,
                dice.maybe(created_at, 7_200_000),
                TEAMS[dice.roll(4) as usize]
            ],
        ),
        3 => conn.execute(
            "UPDATE conversations SET status = 'ended', ended_at = ?2 WHERE id = ?1",
            params![id, created_at + 1],
        ),
        4 => conn.execute(
            "UPDATE conversations SET rating = ?2 WHERE id = ?1",
            params![id, dice.maybe(1, 5)],
        ),
        _ => conn.execute(
            "UPDATE conversations SET last_seq = last_seq + 1 WHERE id = ?1",
            [id],
        ),
    };
    change.unwrap();
}

#[test]
fn the_sums_per_day_equal_the_chats_counted_one_by_one() {
    let conn = store();
    let mut dice = Dice(0x5eed);
    for _ in 0..600 {
        let chats: i64 = conn
            .query_row("SELECT count(*) FROM conversations", [], |row| row.get(0))
            .unwrap();
        let roll = dice.roll(10);
        if roll < 3 || chats == 0 {
            start_chat(&conn, &mut dice);
            continue;
        }
        let offset = dice.roll(chats as u64);
        let id: i64 = conn
            .query_row(
                "SELECT id FROM conversations ORDER BY id LIMIT 1 OFFSET ?1",
                [offset],
                |row| row.get(0),
            )
            .unwrap();
        if roll == 3 {
            conn.execute("DELETE FROM conversations WHERE id = ?1", [id])
                .unwrap();
        } else {
            change_chat(&conn, &mut dice, id);
        }
    }
    let all = chat_records(&conn, 0, i64::MAX, None, usize::MAX).unwrap();
    assert!(all.len() > 50, "the test has chats to count: {}", all.len());
    let everything = sums_of_chats(&all, FIRST_DAY, FIRST_DAY + DAYS);
    assert!(
        !everything.waits.is_empty()
            && !everything.agents.is_empty()
            && !everything.teams.is_empty()
    );
    // Ranges of every length, starting anywhere, so the blocks of 1, 4, 16 and 64 days
    // each stand for the chats under them.
    let froms = (FIRST_DAY - 30..FIRST_DAY + DAYS).step_by(7);
    let ranges = froms.flat_map(|from| {
        (from + 1..FIRST_DAY + DAYS + 10)
            .step_by(5)
            .map(move |to| (from, to))
    });
    for (from, to) in ranges {
        let counted = sums_of_chats(&all, from, to);
        assert_eq!(
            report_sums(&conn, from, to).unwrap(),
            counted,
            "days {from}..{to}"
        );
    }
}

#[test]
fn chats_stored_before_the_sums_existed_are_counted_once() {
    let conn = store();
    let mut dice = Dice(42);
    for _ in 0..50 {
        start_chat(&conn, &mut dice);
    }
    for id in 1..=50 {
        change_chat(&conn, &mut dice, id);
    }
    // As migration 32 found them: sums emptied, then the migration's backfill again.
    conn.execute_batch(
        "DELETE FROM report_days; DELETE FROM report_hours; DELETE FROM report_agents;
         DELETE FROM report_teams;
         DELETE FROM report_waits;",
    )
    .unwrap();
    let migration = include_str!("schema/32_report_sums.sql");
    let backfill = &migration[migration
        .find("-- The chats already stored, once.")
        .unwrap()..];
    conn.execute_batch(backfill).unwrap();
    let all = chat_records(&conn, 0, i64::MAX, None, usize::MAX).unwrap();
    let (from, to) = (FIRST_DAY, FIRST_DAY + DAYS);
    assert_eq!(
        report_sums(&conn, from, to).unwrap(),
        sums_of_chats(&all, from, to)
    );
}

#[test]
fn blocks_tile_a_range_with_few_of_them() {
    for (from, to) in [
        (0, 1),
        (5, 6),
        (3, 200),
        (20_698, 20_789),
        (20_700, 21_066),
        (64, 128),
    ] {
        let tiles = blocks(from, to);
        let mut day = from;
        for (level, block) in &tiles {
            let size = 4_i64.pow(u32::try_from(*level).unwrap());
            assert_eq!(block * size, day, "{from}..{to}: {tiles:?}");
            day += size;
        }
        assert_eq!(day, to, "{from}..{to}: {tiles:?}");
        assert!(tiles.len() <= 30, "{from}..{to}: {} blocks", tiles.len());
    }
    assert_eq!(blocks(64, 128), [(3, 1)]);
    assert!(blocks(20_698, 20_789).len() <= 18);
}
