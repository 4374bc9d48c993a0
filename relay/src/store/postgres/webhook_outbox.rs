//! The webhook outbox on PostgreSQL: queued events gathered into deliveries, handed to
//! one node's sender when due, and marked. One node gathers at a time (a transaction
//! advisory lock), so no event lands in two deliveries; a node takes its due
//! deliveries by pushing them [`CLAIM`] ahead (`SKIP LOCKED`), so no two nodes send one
//! delivery, and one taken by a node that died falls due again after the claim.

use deadpool_postgres::GenericClient;

use crate::store::StoreError;
use crate::store::webhook_events::{Waiting, delivery_body, new_id, signing_secrets};
use crate::store::webhooks::{DueDelivery, Outcome, Target, Tried};

use super::webhooks::small;

/// Events gathered per call, so one transaction stays short.
const GATHER_MOST: i64 = 1000;

/// The advisory lock key of gathering ("webhook" in ASCII).
const GATHERING: i64 = 0x0077_6562_686f_6f6b;

/// How long a node that took a due delivery has it to itself (a try times out well
/// before).
const CLAIM: i64 = 120_000;

pub(super) async fn gather_deliveries(
    tx: &impl GenericClient,
    now: i64,
) -> Result<Option<i64>, StoreError> {
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&GATHERING])
        .await?;
    let waiting: Vec<Waiting> = tx
        .query(
            "SELECT e.id, e.batch_max, e.batch_seconds * 1000, COUNT(*), MIN(w.created_at) \
             FROM webhook_events w JOIN webhook_endpoints e ON e.id = w.endpoint_id \
             WHERE w.delivery_id IS NULL AND e.enabled = 1 GROUP BY e.id",
            &[],
        )
        .await?
        .iter()
        .map(|row| Waiting {
            endpoint: row.get(0),
            batch_max: row.get::<_, i64>(1).max(1),
            batch_ms: row.get(2),
            count: row.get(3),
            oldest: row.get(4),
        })
        .collect();
    let mut budget = GATHER_MOST;
    let mut next: Option<i64> = None;
    for mut endpoint in waiting {
        while endpoint.count > 0 && budget > 0 {
            if let Some(due) = endpoint.gathering_until(now) {
                next = Some(next.map_or(due, |next| next.min(due)));
                break;
            }
            let taken = one_delivery(tx, &endpoint, now).await?;
            endpoint.count -= taken;
            budget -= taken;
            endpoint.oldest = tx
                .query_one(
                    "SELECT MIN(created_at) FROM webhook_events \
                     WHERE endpoint_id = $1 AND delivery_id IS NULL",
                    &[&endpoint.endpoint],
                )
                .await?
                .get::<_, Option<i64>>(0)
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
async fn one_delivery(
    tx: &impl GenericClient,
    endpoint: &Waiting,
    now: i64,
) -> Result<i64, StoreError> {
    let rows = tx
        .query(
            "SELECT id, event, payload FROM webhook_events \
             WHERE endpoint_id = $1 AND delivery_id IS NULL ORDER BY id LIMIT $2",
            &[&endpoint.endpoint, &endpoint.batch_max],
        )
        .await?;
    let Some(last) = rows.last().map(|row| row.get::<_, i64>(0)) else {
        return Ok(0);
    };
    let events: Vec<(String, String)> = rows.iter().map(|row| (row.get(1), row.get(2))).collect();
    let (event, body) = delivery_body(endpoint.batch_max, &events, now);
    let count = i64::try_from(events.len()).unwrap_or(0);
    let delivery: i64 = tx
        .query_one(
            "INSERT INTO webhook_deliveries (endpoint_id, webhook_id, event, events, body, \
             next_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
            &[
                &endpoint.endpoint,
                &new_id("msg"),
                &event,
                &count,
                &body,
                &now,
            ],
        )
        .await?
        .get(0);
    tx.execute(
        "UPDATE webhook_events SET delivery_id = $1 \
         WHERE endpoint_id = $2 AND delivery_id IS NULL AND id <= $3",
        &[&delivery, &endpoint.endpoint, &last],
    )
    .await?;
    Ok(count)
}

/// Takes the due deliveries for this node (see the module's note): the lock's level
/// says again what is due, since a row another node took and committed meanwhile is
/// checked again only against that level's conditions. At most
/// `per_endpoint` of each endpoint's oldest, so one endpoint's backlog never hides
/// another's; oldest first.
pub(super) async fn take_due(
    client: &impl GenericClient,
    now: i64,
    limit: usize,
    per_endpoint: usize,
) -> Result<Vec<DueDelivery>, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let per_endpoint = i64::try_from(per_endpoint).unwrap_or(i64::MAX);
    let rows = client
        .query(
            "WITH due AS (SELECT d.id FROM \
                 (SELECT id, endpoint_id, next_at, ROW_NUMBER() OVER \
                  (PARTITION BY endpoint_id ORDER BY next_at, id) AS place \
                  FROM webhook_deliveries WHERE status = 'pending' AND next_at <= $1) d \
                 JOIN webhook_endpoints e ON e.id = d.endpoint_id \
                 WHERE d.place <= $3 AND e.enabled = 1 ORDER BY d.next_at, d.id LIMIT $2), \
             taken AS (SELECT w.id, w.next_at AS was FROM webhook_deliveries w \
                 WHERE w.id IN (SELECT id FROM due) AND w.status = 'pending' \
                 AND w.next_at <= $1 FOR UPDATE OF w SKIP LOCKED) \
             UPDATE webhook_deliveries d SET next_at = $1 + $4 \
             FROM taken, webhook_endpoints e WHERE d.id = taken.id AND e.id = d.endpoint_id \
             RETURNING d.id, d.webhook_id, d.body, d.attempts, d.created_at, e.id, e.url, \
             e.auth_header_name, e.auth_header_value, e.secret, e.previous_secret, \
             e.previous_secret_until, e.failing_since, d.next_at, taken.was",
            &[&now, &limit, &per_endpoint, &CLAIM],
        )
        .await?;
    let mut due: Vec<(i64, DueDelivery)> = rows
        .iter()
        .map(|row| {
            let name: Option<String> = row.get(7);
            let value: Option<String> = row.get(8);
            let delivery = DueDelivery {
                id: row.get(0),
                webhook_id: row.get(1),
                body: row.get(2),
                attempts: small(row, 3),
                created_at: row.get(4),
                due_at: row.get(13),
                target: Target {
                    endpoint_id: row.get(5),
                    url: row.get(6),
                    auth_header: name.zip(value),
                    secrets: signing_secrets(row.get(9), row.get(10), row.get(11), now),
                    failing_since: row.get(12),
                },
            };
            (row.get(14), delivery)
        })
        .collect();
    due.sort_by_key(|(was, delivery)| (*was, delivery.id));
    Ok(due.into_iter().map(|(_, delivery)| delivery).collect())
}

pub(super) async fn record_try(
    tx: &impl GenericClient,
    delivery: &DueDelivery,
    tried: &Tried,
    now: i64,
) -> Result<(), StoreError> {
    let (status, next_at) = match &tried.outcome {
        Outcome::Delivered => ("delivered", now),
        Outcome::RetryAt(None) => ("failed", now),
        Outcome::RetryAt(Some(at)) | Outcome::Disable { retry_at: at, .. } => ("pending", *at),
    };
    tx.execute(
        "UPDATE webhook_deliveries SET status = $1, next_at = $2, attempts = attempts + 1, \
         last_attempt_at = $3, response_code = $4, duration_ms = $5, response_excerpt = $6, \
         error = $7 WHERE id = $8 AND next_at = $9",
        &[
            &status,
            &next_at,
            &now,
            &tried.code.map(i64::from),
            &i64::from(tried.duration_ms),
            &tried.excerpt,
            &tried.error,
            &delivery.id,
            &delivery.due_at,
        ],
    )
    .await?;
    let endpoint = delivery.target.endpoint_id;
    match &tried.outcome {
        Outcome::Delivered => {
            tx.execute(
                "UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $1",
                &[&endpoint],
            )
            .await?
        }
        Outcome::RetryAt(_) => {
            tx.execute(
                "UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, $1) \
                 WHERE id = $2",
                &[&now, &endpoint],
            )
            .await?
        }
        Outcome::Disable { reason, .. } => {
            tx.execute(
                "UPDATE webhook_endpoints SET enabled = 0, disabled_reason = $1, \
                 failing_since = COALESCE(failing_since, $2) WHERE id = $3",
                &[reason, &now, &endpoint],
            )
            .await?
        }
    };
    Ok(())
}
