//! What reports and the CSV exports read. Plain functions over a connection;
//! `mod.rs` runs them on the writer thread or a reader.

use std::collections::BTreeMap;

use async_trait::async_trait;
use porchlight_protocol::ConversationStatus;
use rusqlite::{Connection, params};

use crate::store::{
    ChatCursor, ChatRecord, ConversationId, DayNumber, DaySums, MessageRecord, NameSums,
    ReportStore, ReportSums, StoreError, WaitCount, WaitMeasure,
};

use super::SqliteStore;
use crate::store::reports::blocks;

/// A page of chats in start order. The index on `created_at` is entered at the cursor
/// (a row-value comparison alone would read the range from its start on every page).
pub(super) fn chat_records(
    conn: &Connection,
    from: i64,
    to: i64,
    after: Option<ChatCursor>,
    limit: usize,
) -> Result<Vec<ChatRecord>, StoreError> {
    let after = after.unwrap_or(ChatCursor {
        created_at: from,
        id: 0,
    });
    let mut statement = conn.prepare_cached(
        "SELECT c.id, c.created_at, c.status, v.display_name, c.agent_name, c.teams, \
         c.queued_at, c.agent_joined_at, c.queue_ms, c.ended_at, c.ended_by, \
         c.first_response_at, c.last_seq, c.page_url, c.ticket_id, c.rating \
         FROM conversations c JOIN visitors v ON v.id = c.visitor_id \
         WHERE c.created_at >= max(?1, ?3) AND c.created_at < ?2 \
         AND (c.created_at > ?3 OR c.id > ?4) \
         ORDER BY c.created_at, c.id LIMIT ?5",
    )?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let arguments = params![from, to, after.created_at, after.id, limit];
    let rows = statement.query_map(arguments, |row| {
        let status: String = row.get(2)?;
        Ok(ChatRecord {
            id: row.get(0)?,
            created_at: row.get(1)?,
            status: ConversationStatus::parse(&status).unwrap_or(ConversationStatus::Ended),
            visitor_name: row.get(3)?,
            agent_name: row.get(4)?,
            teams: serde_json::from_str(&row.get::<_, String>(5)?).unwrap_or_default(),
            queued_at: row.get(6)?,
            agent_joined_at: row.get(7)?,
            queue_ms: row.get(8)?,
            ended_at: row.get(9)?,
            ended_by: row.get(10)?,
            first_response_at: row.get(11)?,
            messages: row.get(12)?,
            page_url: row.get(13)?,
            ticket_id: row.get(14)?,
            rating: row.get(15)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub(super) fn message_records(
    conn: &Connection,
    chats: &[ConversationId],
) -> Result<Vec<MessageRecord>, StoreError> {
    let mut statement = conn.prepare_cached(
        "SELECT conversation_id, seq, created_at, author_kind, author_name, kind, body \
         FROM messages WHERE conversation_id = ?1 ORDER BY seq",
    )?;
    let mut messages = Vec::new();
    for chat in chats {
        let rows = statement.query_map([chat], |row| {
            Ok(MessageRecord {
                conversation_id: row.get(0)?,
                seq: row.get(1)?,
                created_at: row.get(2)?,
                author: row.get(3)?,
                author_name: row.get(4)?,
                kind: row.get(5)?,
                body: row.get(6)?,
            })
        })?;
        for row in rows {
            messages.push(row?);
        }
    }
    Ok(messages)
}

/// The sums of the days `[from, to)`, from the tables the triggers of migration 32 keep.
pub(super) fn report_sums(
    conn: &Connection,
    from: DayNumber,
    to: DayNumber,
) -> Result<ReportSums, StoreError> {
    let count = |value: i64| usize::try_from(value).unwrap_or(0);
    let mut days = conn.prepare_cached(
        "SELECT day, chats, queued, abandoned, rated, score_sum FROM report_days \
         WHERE day >= ?1 AND day < ?2 AND chats > 0 ORDER BY day",
    )?;
    let days = days
        .query_map([from, to], |row| {
            Ok(DaySums {
                day: row.get(0)?,
                chats: count(row.get(1)?),
                queued: count(row.get(2)?),
                abandoned: count(row.get(3)?),
                rated: count(row.get(4)?),
                score_sum: row.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let blocks = blocks(from, to);
    let sql = "SELECT hour, chats FROM report_hours WHERE level = ?1 AND block = ?2";
    let mut hours = [0; 24];
    for (hour, [chats]) in sum_blocks::<_, 1>(conn, sql, &blocks, |row| row.get::<_, usize>(0))? {
        if let Some(sum) = hours.get_mut(hour) {
            *sum = count(chats);
        }
    }
    let names = |table: &str, column: &str| -> Result<Vec<NameSums>, StoreError> {
        let sql = format!(
            "SELECT {column}, chats, rated, score_sum FROM {table} WHERE level = ?1 AND block = ?2"
        );
        let sums = sum_blocks::<_, 3>(conn, &sql, &blocks, |row| row.get::<_, String>(0))?;
        Ok(sums
            .into_iter()
            .filter(|(_, [chats, ..])| *chats > 0)
            .map(|(name, [chats, rated, score_sum])| NameSums {
                name,
                chats: count(chats),
                rated: count(rated),
                score_sum: u64::try_from(score_sum).unwrap_or(0),
            })
            .collect())
    };
    let agents = names("report_agents", "agent")?;
    let teams = names("report_teams", "team")?;
    let sql = "SELECT measure, bucket_ms, chats FROM report_waits WHERE level = ?1 AND block = ?2";
    let waits = sum_blocks::<_, 1>(conn, sql, &blocks, |row| {
        let measure = match row.get::<_, i64>(0)? {
            0 => WaitMeasure::Queue,
            _ => WaitMeasure::FirstResponse,
        };
        Ok((measure, row.get::<_, i64>(1)?))
    })?;
    let waits = waits
        .into_iter()
        .filter(|(_, [chats])| *chats > 0)
        .map(|((measure, bucket_ms), [chats])| WaitCount {
            measure,
            bucket_ms,
            chats: count(chats),
        })
        .collect();
    Ok(ReportSums {
        days,
        hours,
        agents,
        teams,
        waits,
    })
}

/// Runs `sql` (its parameters: level, block) for each block and adds up, per key, the
/// `N` numbers that follow the key's columns.
fn sum_blocks<K: Ord, const N: usize>(
    conn: &Connection,
    sql: &str,
    blocks: &[(i64, i64)],
    key: impl Fn(&rusqlite::Row<'_>) -> rusqlite::Result<K>,
) -> Result<BTreeMap<K, [i64; N]>, StoreError> {
    let mut statement = conn.prepare_cached(sql)?;
    let first_number = statement.column_count() - N;
    let mut sums: BTreeMap<K, [i64; N]> = BTreeMap::new();
    for block in blocks {
        let mut rows = statement.query([block.0, block.1])?;
        while let Some(row) = rows.next()? {
            let sum = sums.entry(key(row)?).or_insert([0; N]);
            for (at, value) in sum.iter_mut().enumerate() {
                *value += row.get::<_, i64>(first_number + at)?;
            }
        }
    }
    Ok(sums)
}

#[async_trait]
impl ReportStore for SqliteStore {
    async fn report_sums(&self, from: DayNumber, to: DayNumber) -> Result<ReportSums, StoreError> {
        self.read(move |conn| report_sums(conn, from, to)).await
    }

    async fn chat_records(
        &self,
        from: i64,
        to: i64,
        after: Option<ChatCursor>,
        limit: usize,
    ) -> Result<Vec<ChatRecord>, StoreError> {
        self.read(move |conn| chat_records(conn, from, to, after, limit))
            .await
    }

    async fn message_records(
        &self,
        chats: Vec<ConversationId>,
    ) -> Result<Vec<MessageRecord>, StoreError> {
        self.read(move |conn| message_records(conn, &chats)).await
    }
}
