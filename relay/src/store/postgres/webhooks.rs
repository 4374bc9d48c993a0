//! Webhook endpoints and their deliveries as the admin sees them, on PostgreSQL; the
//! trait impl also runs the outbox (`webhook_outbox.rs`).

use std::sync::Arc;

use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use porchlight_protocol::api::webhooks::{
    DeliveryView, MessageTypes, WebhookEvent, WebhookForm, WebhookView,
};
use tokio::sync::Notify;
use tokio_postgres::Row;

use super::PgStore;
use super::webhook_outbox;
use crate::store::webhooks::{DueDelivery, Tried, WebhookStore};
use crate::store::{SiteId, StoreError, now_ms};

const ENDPOINT_COLUMNS: &str = "id, name, url, events, message_types, profile_id, batch_max, \
     batch_seconds, auth_header_name, enabled, disabled_reason, failing_since, created_at";

/// A stored count as the API gives it.
pub(super) fn small(row: &Row, column: usize) -> u32 {
    u32::try_from(row.get::<_, i64>(column)).unwrap_or(u32::MAX)
}

fn endpoint_from_row(row: &Row) -> WebhookView {
    WebhookView {
        id: row.get(0),
        name: row.get(1),
        url: row.get(2),
        events: WebhookEvent::from_mask(row.get(3)),
        message_types: MessageTypes::parse(row.get(4)).unwrap_or_default(),
        profile_id: row.get(5),
        batch_max: small(row, 6),
        batch_seconds: small(row, 7),
        auth_header_name: row.get(8),
        enabled: row.get::<_, i64>(9) != 0,
        disabled_reason: row.get(10),
        failing_since: row.get(11),
        created_at: row.get(12),
    }
}

async fn endpoint(
    client: &impl GenericClient,
    site: SiteId,
    id: i64,
) -> Result<Option<WebhookView>, StoreError> {
    let row = client
        .query_opt(
            &format!(
                "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1 AND site_id = $2"
            ),
            &[&id, &site],
        )
        .await?;
    Ok(row.as_ref().map(endpoint_from_row))
}

/// The auth header to store: the form's, or what is stored when it gives none; an
/// empty name removes it.
fn auth_header(form: &WebhookForm) -> Option<(Option<&str>, Option<&str>)> {
    form.auth_header.as_ref().map(|header| {
        if header.name.is_empty() {
            (None, None)
        } else {
            (Some(header.name.as_str()), Some(header.value.as_str()))
        }
    })
}

fn delivery_from_row(row: &Row) -> DeliveryView {
    let status: String = row.get(4);
    DeliveryView {
        id: row.get(0),
        webhook_id: row.get(1),
        event: row.get(2),
        events: small(row, 3),
        next_at: (status == "pending").then(|| row.get(7)),
        status,
        attempts: small(row, 5),
        created_at: row.get(6),
        last_attempt_at: row.get(8),
        response_code: row
            .get::<_, Option<i64>>(9)
            .and_then(|code| u16::try_from(code).ok()),
        duration_ms: row
            .get::<_, Option<i64>>(10)
            .and_then(|ms| u32::try_from(ms).ok()),
        response_excerpt: row.get(11),
        error: row.get(12),
        body: row.get(13),
    }
}

#[async_trait]
impl WebhookStore for PgStore {
    fn webhook_events_queued(&self) -> Arc<Notify> {
        Arc::clone(&self.webhook_events_queued)
    }

    async fn webhooks(&self, site: SiteId) -> Result<Vec<WebhookView>, StoreError> {
        let rows = self
            .client()
            .await?
            .query(
                &format!(
                    "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE site_id = $1 \
                     ORDER BY id"
                ),
                &[&site],
            )
            .await?;
        Ok(rows.iter().map(endpoint_from_row).collect())
    }

    async fn webhook(&self, site: SiteId, id: i64) -> Result<Option<WebhookView>, StoreError> {
        endpoint(&self.client().await?, site, id).await
    }

    async fn create_webhook(
        &self,
        site: SiteId,
        form: WebhookForm,
        secret: String,
    ) -> Result<WebhookView, StoreError> {
        let (name, value) = auth_header(&form).unwrap_or((None, None));
        let client = self.client().await?;
        let id: i64 = client
            .query_one(
                "INSERT INTO webhook_endpoints (site_id, name, url, auth_header_name, \
                 auth_header_value, events, message_types, profile_id, batch_max, \
                 batch_seconds, secret, enabled, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
                &[
                    &site,
                    &form.name,
                    &form.url,
                    &name,
                    &value,
                    &WebhookEvent::mask(&form.events),
                    &form.message_types.as_str(),
                    &form.profile_id,
                    &i64::from(form.batch_max),
                    &i64::from(form.batch_seconds),
                    &secret,
                    &i64::from(form.enabled),
                    &now_ms(),
                ],
            )
            .await?
            .get(0);
        endpoint(&client, site, id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    async fn update_webhook(
        &self,
        site: SiteId,
        id: i64,
        form: WebhookForm,
    ) -> Result<Option<WebhookView>, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let changed = tx
            .execute(
                "UPDATE webhook_endpoints SET name = $1, url = $2, events = $3, \
                 message_types = $4, profile_id = $5, batch_max = $6, batch_seconds = $7, \
                 disabled_reason = CASE WHEN $8::BIGINT = 1 THEN NULL ELSE disabled_reason END, \
                 failing_since = CASE WHEN $8 = 1 AND enabled = 0 THEN NULL \
                 ELSE failing_since END, enabled = $8 WHERE id = $9 AND site_id = $10",
                &[
                    &form.name,
                    &form.url,
                    &WebhookEvent::mask(&form.events),
                    &form.message_types.as_str(),
                    &form.profile_id,
                    &i64::from(form.batch_max),
                    &i64::from(form.batch_seconds),
                    &i64::from(form.enabled),
                    &id,
                    &site,
                ],
            )
            .await?;
        if changed == 0 {
            return Ok(None);
        }
        if let Some((name, value)) = auth_header(&form) {
            tx.execute(
                "UPDATE webhook_endpoints SET auth_header_name = $1, auth_header_value = $2 \
                 WHERE id = $3",
                &[&name, &value, &id],
            )
            .await?;
        }
        let updated = endpoint(&tx, site, id).await?;
        tx.commit().await?;
        Ok(updated)
    }

    async fn delete_webhook(&self, site: SiteId, id: i64) -> Result<bool, StoreError> {
        let deleted = self
            .client()
            .await?
            .execute(
                "DELETE FROM webhook_endpoints WHERE id = $1 AND site_id = $2",
                &[&id, &site],
            )
            .await?;
        Ok(deleted > 0)
    }

    async fn rotate_webhook_secret(
        &self,
        site: SiteId,
        id: i64,
        secret: String,
        previous_until: i64,
    ) -> Result<Option<WebhookView>, StoreError> {
        let client = self.client().await?;
        let changed = client
            .execute(
                "UPDATE webhook_endpoints SET previous_secret = secret, \
                 previous_secret_until = $1, secret = $2 WHERE id = $3 AND site_id = $4",
                &[&previous_until, &secret, &id, &site],
            )
            .await?;
        if changed == 0 {
            return Ok(None);
        }
        endpoint(&client, site, id).await
    }

    async fn webhook_deliveries(
        &self,
        site: SiteId,
        endpoint: i64,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<DeliveryView>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self
            .client()
            .await?
            .query(
                "SELECT d.id, d.webhook_id, d.event, d.events, d.status, d.attempts, \
                 d.created_at, d.next_at, d.last_attempt_at, d.response_code, d.duration_ms, \
                 d.response_excerpt, d.error, d.body FROM webhook_deliveries d \
                 JOIN webhook_endpoints e ON e.id = d.endpoint_id \
                 WHERE d.endpoint_id = $1 AND e.site_id = $2 AND d.id < $3 \
                 ORDER BY d.id DESC LIMIT $4",
                &[&endpoint, &site, &before.unwrap_or(i64::MAX), &limit],
            )
            .await?;
        Ok(rows.iter().map(delivery_from_row).collect())
    }

    async fn redeliver(
        &self,
        site: SiteId,
        endpoint: i64,
        delivery: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let found = self
            .client()
            .await?
            .execute(
                "UPDATE webhook_deliveries SET status = 'pending', next_at = $1 \
                 WHERE id = $2 AND endpoint_id = $3 \
                 AND endpoint_id IN (SELECT id FROM webhook_endpoints WHERE site_id = $4)",
                &[&now, &delivery, &endpoint, &site],
            )
            .await?
            > 0;
        if found {
            self.webhook_events_queued.notify_one();
        }
        Ok(found)
    }

    async fn gather_deliveries(&self, now: i64) -> Result<Option<i64>, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let next = webhook_outbox::gather_deliveries(&tx, now).await?;
        tx.commit().await?;
        Ok(next)
    }

    async fn due_deliveries(
        &self,
        now: i64,
        limit: usize,
        per_endpoint: usize,
    ) -> Result<Vec<DueDelivery>, StoreError> {
        webhook_outbox::take_due(&self.client().await?, now, limit, per_endpoint).await
    }

    async fn next_delivery_at(&self, after: i64) -> Result<Option<i64>, StoreError> {
        let row = self
            .client()
            .await?
            .query_one(
                "SELECT MIN(d.next_at) FROM webhook_deliveries d \
                 JOIN webhook_endpoints e ON e.id = d.endpoint_id \
                 WHERE d.status = 'pending' AND d.next_at > $1 AND e.enabled = 1",
                &[&after],
            )
            .await?;
        Ok(row.get(0))
    }

    async fn record_try(
        &self,
        delivery: &DueDelivery,
        tried: Tried,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        webhook_outbox::record_try(&tx, delivery, &tried, now).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn forget_old_deliveries(&self, before: i64) -> Result<usize, StoreError> {
        let forgotten = self
            .client()
            .await?
            .execute(
                "DELETE FROM webhook_deliveries WHERE status IN ('delivered', 'failed') \
                 AND next_at < $1",
                &[&before],
            )
            .await?;
        Ok(usize::try_from(forgotten).unwrap_or(usize::MAX))
    }

    async fn webhook_backlog(&self) -> Result<i64, StoreError> {
        let row = self
            .client()
            .await?
            .query_one(
                "SELECT (SELECT COUNT(*) FROM webhook_events WHERE delivery_id IS NULL) \
                 + (SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'pending')",
                &[],
            )
            .await?;
        Ok(row.get(0))
    }
}
