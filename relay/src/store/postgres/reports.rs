//! What reports and the CSV exports read, on PostgreSQL: the chats of a range a page
//! at a time with their messages, and the sums the trigger of migration 06 keeps,
//! read for the blocks of days that tile a range, one query per table.

use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use porchlight_protocol::ConversationStatus;

use super::PgStore;
use crate::store::reports::blocks;
use crate::store::{
    ChatCursor, ChatRecord, ConversationId, DayNumber, DaySums, MessageRecord, NameSums,
    ReportStore, ReportSums, StoreError, WaitCount, WaitMeasure,
};

fn count(value: i64) -> usize {
    usize::try_from(value).unwrap_or(0)
}

/// The blocks' rows of `table` summed per key: `columns` the key's, then the numbers'
/// sums; `(level, block)` pairs come as two arrays.
const IN_BLOCKS: &str =
    "WHERE (level, block) IN (SELECT * FROM unnest($1::BIGINT[], $2::BIGINT[]))";

async fn day_sums(
    client: &impl GenericClient,
    from: DayNumber,
    to: DayNumber,
) -> Result<Vec<DaySums>, StoreError> {
    let rows = client
        .query(
            "SELECT day, chats, queued, abandoned, rated, score_sum FROM report_days \
             WHERE day >= $1 AND day < $2 AND chats > 0 ORDER BY day",
            &[&from, &to],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|row| DaySums {
            day: row.get(0),
            chats: count(row.get(1)),
            queued: count(row.get(2)),
            abandoned: count(row.get(3)),
            rated: count(row.get(4)),
            score_sum: u64::try_from(row.get::<_, i64>(5)).unwrap_or(0),
        })
        .collect())
}

async fn name_sums(
    client: &impl GenericClient,
    table: &str,
    column: &str,
    tiles: &(Vec<i64>, Vec<i64>),
) -> Result<Vec<NameSums>, StoreError> {
    let rows = client
        .query(
            &format!(
                "SELECT {column}, SUM(chats)::BIGINT, SUM(rated)::BIGINT, SUM(score_sum)::BIGINT \
                 FROM {table} {IN_BLOCKS} GROUP BY {column} HAVING SUM(chats) > 0 \
                 ORDER BY {column} COLLATE \"C\""
            ),
            &[&tiles.0, &tiles.1],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|row| NameSums {
            name: row.get(0),
            chats: count(row.get(1)),
            rated: count(row.get(2)),
            score_sum: u64::try_from(row.get::<_, i64>(3)).unwrap_or(0),
        })
        .collect())
}

async fn report_sums(
    client: &impl GenericClient,
    from: DayNumber,
    to: DayNumber,
) -> Result<ReportSums, StoreError> {
    let tiles: (Vec<i64>, Vec<i64>) = blocks(from, to).into_iter().unzip();
    let mut hours = [0; 24];
    let rows = client
        .query(
            &format!("SELECT hour, SUM(chats)::BIGINT FROM report_hours {IN_BLOCKS} GROUP BY hour"),
            &[&tiles.0, &tiles.1],
        )
        .await?;
    for row in rows {
        if let Some(sum) = usize::try_from(row.get::<_, i64>(0))
            .ok()
            .and_then(|hour| hours.get_mut(hour))
        {
            *sum = count(row.get(1));
        }
    }
    let waits = client
        .query(
            &format!(
                "SELECT measure, bucket_ms, SUM(chats)::BIGINT FROM report_waits {IN_BLOCKS} \
                 GROUP BY measure, bucket_ms HAVING SUM(chats) > 0 ORDER BY measure, bucket_ms"
            ),
            &[&tiles.0, &tiles.1],
        )
        .await?
        .iter()
        .map(|row| WaitCount {
            measure: match row.get::<_, i64>(0) {
                0 => WaitMeasure::Queue,
                _ => WaitMeasure::FirstResponse,
            },
            bucket_ms: row.get(1),
            chats: count(row.get(2)),
        })
        .collect();
    Ok(ReportSums {
        days: day_sums(client, from, to).await?,
        hours,
        agents: name_sums(client, "report_agents", "agent", &tiles).await?,
        teams: name_sums(client, "report_teams", "team", &tiles).await?,
        waits,
    })
}

#[async_trait]
impl ReportStore for PgStore {
    async fn report_sums(&self, from: DayNumber, to: DayNumber) -> Result<ReportSums, StoreError> {
        report_sums(&self.client().await?, from, to).await
    }

    async fn chat_records(
        &self,
        from: i64,
        to: i64,
        after: Option<ChatCursor>,
        limit: usize,
    ) -> Result<Vec<ChatRecord>, StoreError> {
        let after = after.unwrap_or(ChatCursor {
            created_at: from,
            id: 0,
        });
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self
            .client()
            .await?
            .query(
                "SELECT c.id, c.created_at, c.status, v.display_name, c.agent_name, c.teams, \
                 c.queued_at, c.agent_joined_at, c.queue_ms, c.ended_at, c.ended_by, \
                 c.first_response_at, c.last_seq, c.page_url, c.ticket_id, c.rating \
                 FROM conversations c JOIN visitors v ON v.id = c.visitor_id \
                 WHERE c.created_at >= GREATEST($1::BIGINT, $3::BIGINT) AND c.created_at < $2 \
                 AND (c.created_at, c.id) > ($3, $4) \
                 ORDER BY c.created_at, c.id LIMIT $5",
                &[&from, &to, &after.created_at, &after.id, &limit],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|row| ChatRecord {
                id: row.get(0),
                created_at: row.get(1),
                status: ConversationStatus::parse(row.get(2)).unwrap_or(ConversationStatus::Ended),
                visitor_name: row.get(3),
                agent_name: row.get(4),
                teams: serde_json::from_str(row.get(5)).unwrap_or_default(),
                queued_at: row.get(6),
                agent_joined_at: row.get(7),
                queue_ms: row.get(8),
                ended_at: row.get(9),
                ended_by: row.get(10),
                first_response_at: row.get(11),
                messages: row.get(12),
                page_url: row.get(13),
                ticket_id: row.get(14),
                rating: row
                    .get::<_, Option<i64>>(15)
                    .and_then(|rating| u8::try_from(rating).ok()),
            })
            .collect())
    }

    async fn message_records(
        &self,
        chats: Vec<ConversationId>,
    ) -> Result<Vec<MessageRecord>, StoreError> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT conversation_id, seq, created_at, author_kind, author_name, kind, body \
                 FROM messages WHERE conversation_id = ANY($1) \
                 ORDER BY array_position($1, conversation_id), seq",
                &[&chats],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|row| MessageRecord {
                conversation_id: row.get(0),
                seq: row.get(1),
                created_at: row.get(2),
                author: row.get(3),
                author_name: row.get(4),
                kind: row.get(5),
                body: row.get(6),
            })
            .collect())
    }
}
