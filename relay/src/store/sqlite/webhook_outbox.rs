//! The webhook outbox: queued events gathered into deliveries, handed to the sender
//! when due, and marked. Plain functions over a connection; `webhooks.rs` runs them on
//! the writer thread or a reader.

use rusqlite::{Connection, params};

use crate::store::StoreError;
use crate::store::webhooks::{DueDelivery, Outcome, Target, Tried};

use super::Cached;
use crate::store::webhook_events::{Waiting, delivery_body, new_id, signing_secrets};

/// Events gathered per call, so one write stays short.
const GATHER_MOST: i64 = 1000;

pub(super) fn gather_deliveries(conn: &Connection, now: i64) -> Result<Option<i64>, StoreError> {
    let waiting = {
        let mut statement = conn.prepare_cached(
            "SELECT e.id, e.batch_max, e.batch_seconds * 1000, COUNT(*), MIN(w.created_at) \
             FROM webhook_events w JOIN webhook_endpoints e ON e.id = w.endpoint_id \
             WHERE w.delivery_id IS NULL AND e.enabled = 1 GROUP BY e.id",
        )?;
        let rows = statement.query_map([], |row| {
            Ok(Waiting {
                endpoint: row.get(0)?,
                batch_max: row.get::<_, i64>(1)?.max(1),
                batch_ms: row.get(2)?,
                count: row.get(3)?,
                oldest: row.get(4)?,
            })
        })?;
        rows.collect::<rusqlite::Result<Vec<_>>>()?
    };
    let mut budget = GATHER_MOST;
    let mut next: Option<i64> = None;
    for mut endpoint in waiting {
        while endpoint.count > 0 && budget > 0 {
            if let Some(due) = endpoint.gathering_until(now) {
                next = Some(next.map_or(due, |next| next.min(due)));
                break;
            }
            let taken = one_delivery(conn, &endpoint, now)?;
            endpoint.count -= taken;
            budget -= taken;
            endpoint.oldest = conn
                .cached_row(
                    "SELECT MIN(created_at) FROM webhook_events \
                     WHERE endpoint_id = ?1 AND delivery_id IS NULL",
                    [endpoint.endpoint],
                    |row| row.get::<_, Option<i64>>(0),
                )?
                .unwrap_or(now);
        }
        if endpoint.count > 0 && budget <= 0 {
            next = Some(now);
        }
    }
    Ok(next)
}

/// Puts the endpoint's oldest waiting events (one, or up to its batch) into a new
/// delivery; says how many.
fn one_delivery(conn: &Connection, endpoint: &Waiting, now: i64) -> Result<i64, StoreError> {
    let events = {
        let mut statement = conn.prepare_cached(
            "SELECT id, event, payload FROM webhook_events \
             WHERE endpoint_id = ?1 AND delivery_id IS NULL ORDER BY id LIMIT ?2",
        )?;
        let rows = statement.query_map(params![endpoint.endpoint, endpoint.batch_max], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
            ))
        })?;
        rows.collect::<rusqlite::Result<Vec<_>>>()?
    };
    let Some((last, _, _)) = events.last() else {
        return Ok(0);
    };
    let payloads: Vec<(String, String)> = events
        .iter()
        .map(|(_, event, payload)| (event.clone(), payload.clone()))
        .collect();
    let (event, body) = delivery_body(endpoint.batch_max, &payloads, now);
    conn.cached_execute(
        "INSERT INTO webhook_deliveries (endpoint_id, webhook_id, event, events, body, next_at, \
         created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
        params![
            endpoint.endpoint,
            new_id("msg"),
            event,
            events.len(),
            body,
            now
        ],
    )?;
    conn.cached_execute(
        "UPDATE webhook_events SET delivery_id = ?1 \
         WHERE endpoint_id = ?2 AND delivery_id IS NULL AND id <= ?3",
        params![conn.last_insert_rowid(), endpoint.endpoint, last],
    )?;
    Ok(i64::try_from(events.len()).unwrap_or(0))
}

/// Due deliveries, at most `per_endpoint` of each endpoint's oldest, so that one
/// endpoint's backlog never hides another's.
pub(super) fn due_deliveries(
    conn: &Connection,
    now: i64,
    limit: usize,
    per_endpoint: usize,
) -> Result<Vec<DueDelivery>, StoreError> {
    let mut statement = conn.prepare_cached(
        "SELECT d.id, d.webhook_id, d.body, d.attempts, d.created_at, e.id, e.url, \
         e.auth_header_name, e.auth_header_value, e.secret, e.previous_secret, \
         e.previous_secret_until, e.failing_since, d.next_at \
         FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY endpoint_id ORDER BY next_at, id) \
               AS place FROM webhook_deliveries WHERE status = 'pending' AND next_at <= ?1) d \
         JOIN webhook_endpoints e ON e.id = d.endpoint_id \
         WHERE d.place <= ?3 AND e.enabled = 1 ORDER BY d.next_at, d.id LIMIT ?2",
    )?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let per_endpoint = i64::try_from(per_endpoint).unwrap_or(i64::MAX);
    let rows = statement.query_map(params![now, limit, per_endpoint], |row| {
        let name: Option<String> = row.get(7)?;
        let value: Option<String> = row.get(8)?;
        let secrets = signing_secrets(row.get(9)?, row.get(10)?, row.get(11)?, now);
        Ok(DueDelivery {
            id: row.get(0)?,
            webhook_id: row.get(1)?,
            body: row.get(2)?,
            attempts: row.get(3)?,
            created_at: row.get(4)?,
            due_at: row.get(13)?,
            target: Target {
                endpoint_id: row.get(5)?,
                url: row.get(6)?,
                auth_header: name.zip(value),
                secrets,
                failing_since: row.get(12)?,
            },
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub(super) fn next_delivery_at(conn: &Connection, after: i64) -> Result<Option<i64>, StoreError> {
    Ok(conn.cached_row(
        "SELECT MIN(d.next_at) FROM webhook_deliveries d \
         JOIN webhook_endpoints e ON e.id = d.endpoint_id \
         WHERE d.status = 'pending' AND d.next_at > ?1 AND e.enabled = 1",
        [after],
        |row| row.get(0),
    )?)
}

pub(super) fn record_try(
    conn: &Connection,
    delivery: &DueDelivery,
    tried: &Tried,
    now: i64,
) -> Result<(), StoreError> {
    let (status, next_at) = match &tried.outcome {
        Outcome::Delivered | Outcome::RetryAt(None) => (
            if tried.outcome == Outcome::Delivered {
                "delivered"
            } else {
                "failed"
            },
            now,
        ),
        Outcome::RetryAt(Some(at)) | Outcome::Disable { retry_at: at, .. } => ("pending", *at),
    };
    conn.cached_execute(
        "UPDATE webhook_deliveries SET status = ?1, next_at = ?2, attempts = attempts + 1, \
         last_attempt_at = ?3, response_code = ?4, duration_ms = ?5, response_excerpt = ?6, \
         error = ?7 WHERE id = ?8 AND next_at = ?9",
        params![
            status,
            next_at,
            now,
            tried.code,
            tried.duration_ms,
            tried.excerpt,
            tried.error,
            delivery.id,
            delivery.due_at
        ],
    )?;
    let endpoint = delivery.target.endpoint_id;
    match &tried.outcome {
        Outcome::Delivered => conn.cached_execute(
            "UPDATE webhook_endpoints SET failing_since = NULL WHERE id = ?1",
            [endpoint],
        )?,
        Outcome::RetryAt(_) => conn.cached_execute(
            "UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, ?1) \
             WHERE id = ?2",
            params![now, endpoint],
        )?,
        Outcome::Disable { reason, .. } => conn.cached_execute(
            "UPDATE webhook_endpoints SET enabled = 0, disabled_reason = ?1, \
             failing_since = COALESCE(failing_since, ?2) WHERE id = ?3",
            params![reason, now, endpoint],
        )?,
    };
    Ok(())
}

/// Deletes delivered and given-up deliveries last touched before `before`.
pub(super) fn forget_old_deliveries(conn: &Connection, before: i64) -> Result<usize, StoreError> {
    Ok(conn.cached_execute(
        "DELETE FROM webhook_deliveries WHERE status IN ('delivered', 'failed') AND next_at < ?1",
        [before],
    )?)
}

pub(super) fn webhook_backlog(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.cached_row(
        "SELECT (SELECT COUNT(*) FROM webhook_events WHERE delivery_id IS NULL) \
         + (SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'pending')",
        [],
        |row| row.get(0),
    )?)
}
