//! Webhook endpoints and their deliveries as the admin sees them. Plain functions over
//! a connection; the trait impl runs them (and the outbox's) on the writer thread or
//! a reader.

use std::sync::Arc;

use async_trait::async_trait;

use porchlight_protocol::api::webhooks::{
    DeliveryView, MessageTypes, WebhookEvent, WebhookForm, WebhookView,
};
use rusqlite::{Connection, OptionalExtension, Row, params};
use tokio::sync::Notify;

use crate::store::webhooks::{DueDelivery, Tried, WebhookStore};
use crate::store::{SiteId, StoreError, now_ms};

use super::webhook_outbox::{
    due_deliveries, forget_old_deliveries, gather_deliveries, next_delivery_at, record_try,
    webhook_backlog,
};
use super::{Cached, SqliteStore};

const ENDPOINT_COLUMNS: &str = "id, name, url, events, message_types, profile_id, batch_max, \
     batch_seconds, auth_header_name, enabled, disabled_reason, failing_since, created_at";

fn endpoint_from_row(row: &Row<'_>) -> rusqlite::Result<WebhookView> {
    Ok(WebhookView {
        id: row.get(0)?,
        name: row.get(1)?,
        url: row.get(2)?,
        events: WebhookEvent::from_mask(row.get(3)?),
        message_types: MessageTypes::parse(&row.get::<_, String>(4)?).unwrap_or_default(),
        profile_id: row.get(5)?,
        batch_max: row.get(6)?,
        batch_seconds: row.get(7)?,
        auth_header_name: row.get(8)?,
        enabled: row.get(9)?,
        disabled_reason: row.get(10)?,
        failing_since: row.get(11)?,
        created_at: row.get(12)?,
    })
}

fn endpoint(conn: &Connection, site: SiteId, id: i64) -> Result<Option<WebhookView>, StoreError> {
    Ok(conn
        .cached_row(
            &format!(
                "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = ?1 AND site_id = ?2"
            ),
            params![id, site],
            endpoint_from_row,
        )
        .optional()?)
}

fn endpoints(conn: &Connection, site: SiteId) -> Result<Vec<WebhookView>, StoreError> {
    let mut statement = conn.prepare_cached(&format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE site_id = ?1 ORDER BY id"
    ))?;
    let rows = statement.query_map([site], endpoint_from_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
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

fn create(
    conn: &Connection,
    site: SiteId,
    form: &WebhookForm,
    secret: &str,
) -> Result<WebhookView, StoreError> {
    let (name, value) = auth_header(form).unwrap_or((None, None));
    conn.cached_execute(
        "INSERT INTO webhook_endpoints (site_id, name, url, auth_header_name, auth_header_value, \
         events, message_types, profile_id, batch_max, batch_seconds, secret, enabled, \
         created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        params![
            site,
            form.name,
            form.url,
            name,
            value,
            WebhookEvent::mask(&form.events),
            form.message_types.as_str(),
            form.profile_id,
            form.batch_max,
            form.batch_seconds,
            secret,
            form.enabled,
            now_ms()
        ],
    )?;
    endpoint(conn, site, conn.last_insert_rowid())?.ok_or(StoreError::NotFound)
}

fn update(
    conn: &Connection,
    site: SiteId,
    id: i64,
    form: &WebhookForm,
) -> Result<Option<WebhookView>, StoreError> {
    let changed = conn.cached_execute(
        "UPDATE webhook_endpoints SET name = ?1, url = ?2, events = ?3, message_types = ?4, \
         profile_id = ?5, batch_max = ?6, batch_seconds = ?7, \
         disabled_reason = CASE WHEN ?8 THEN NULL ELSE disabled_reason END, \
         failing_since = CASE WHEN ?8 AND enabled = 0 THEN NULL ELSE failing_since END, \
         enabled = ?8 WHERE id = ?9 AND site_id = ?10",
        params![
            form.name,
            form.url,
            WebhookEvent::mask(&form.events),
            form.message_types.as_str(),
            form.profile_id,
            form.batch_max,
            form.batch_seconds,
            form.enabled,
            id,
            site
        ],
    )?;
    if changed == 0 {
        return Ok(None);
    }
    if let Some((name, value)) = auth_header(form) {
        conn.cached_execute(
            "UPDATE webhook_endpoints SET auth_header_name = ?1, auth_header_value = ?2 \
             WHERE id = ?3",
            params![name, value, id],
        )?;
    }
    endpoint(conn, site, id)
}

fn delete(conn: &Connection, site: SiteId, id: i64) -> Result<bool, StoreError> {
    Ok(conn.cached_execute(
        "DELETE FROM webhook_endpoints WHERE id = ?1 AND site_id = ?2",
        params![id, site],
    )? > 0)
}

fn rotate(
    conn: &Connection,
    site: SiteId,
    id: i64,
    secret: &str,
    previous_until: i64,
) -> Result<Option<WebhookView>, StoreError> {
    let changed = conn.cached_execute(
        "UPDATE webhook_endpoints SET previous_secret = secret, previous_secret_until = ?1, \
         secret = ?2 WHERE id = ?3 AND site_id = ?4",
        params![previous_until, secret, id, site],
    )?;
    if changed == 0 {
        return Ok(None);
    }
    endpoint(conn, site, id)
}

fn delivery_from_row(row: &Row<'_>) -> rusqlite::Result<DeliveryView> {
    let status: String = row.get(4)?;
    Ok(DeliveryView {
        id: row.get(0)?,
        webhook_id: row.get(1)?,
        event: row.get(2)?,
        events: row.get(3)?,
        next_at: (status == "pending").then(|| row.get(7)).transpose()?,
        status,
        attempts: row.get(5)?,
        created_at: row.get(6)?,
        last_attempt_at: row.get(8)?,
        response_code: row.get(9)?,
        duration_ms: row.get(10)?,
        response_excerpt: row.get(11)?,
        error: row.get(12)?,
        body: row.get(13)?,
    })
}

fn deliveries(
    conn: &Connection,
    site: SiteId,
    endpoint: i64,
    before: Option<i64>,
    limit: usize,
) -> Result<Vec<DeliveryView>, StoreError> {
    let mut statement = conn.prepare_cached(
        "SELECT d.id, d.webhook_id, d.event, d.events, d.status, d.attempts, d.created_at, \
         d.next_at, d.last_attempt_at, d.response_code, d.duration_ms, d.response_excerpt, \
         d.error, d.body FROM webhook_deliveries d \
         JOIN webhook_endpoints e ON e.id = d.endpoint_id \
         WHERE d.endpoint_id = ?1 AND e.site_id = ?2 AND d.id < ?3 ORDER BY d.id DESC LIMIT ?4",
    )?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = statement.query_map(
        params![endpoint, site, before.unwrap_or(i64::MAX), limit],
        delivery_from_row,
    )?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

fn redeliver(
    conn: &Connection,
    site: SiteId,
    endpoint: i64,
    delivery: i64,
    now: i64,
) -> Result<bool, StoreError> {
    Ok(conn.cached_execute(
        "UPDATE webhook_deliveries SET status = 'pending', next_at = ?1 \
         WHERE id = ?2 AND endpoint_id = ?3 \
         AND endpoint_id IN (SELECT id FROM webhook_endpoints WHERE site_id = ?4)",
        params![now, delivery, endpoint, site],
    )? > 0)
}

#[async_trait]
impl WebhookStore for SqliteStore {
    fn webhook_events_queued(&self) -> Arc<Notify> {
        Arc::clone(&self.webhook_events_queued)
    }

    async fn webhooks(&self, site: SiteId) -> Result<Vec<WebhookView>, StoreError> {
        self.read(move |conn| endpoints(conn, site)).await
    }

    async fn webhook(&self, site: SiteId, id: i64) -> Result<Option<WebhookView>, StoreError> {
        self.read(move |conn| endpoint(conn, site, id)).await
    }

    async fn create_webhook(
        &self,
        site: SiteId,
        form: WebhookForm,
        secret: String,
    ) -> Result<WebhookView, StoreError> {
        self.write(move |conn| create(conn, site, &form, &secret))
            .await
    }

    async fn update_webhook(
        &self,
        site: SiteId,
        id: i64,
        form: WebhookForm,
    ) -> Result<Option<WebhookView>, StoreError> {
        self.write(move |conn| update(conn, site, id, &form)).await
    }

    async fn delete_webhook(&self, site: SiteId, id: i64) -> Result<bool, StoreError> {
        self.write(move |conn| delete(conn, site, id)).await
    }

    async fn rotate_webhook_secret(
        &self,
        site: SiteId,
        id: i64,
        secret: String,
        previous_until: i64,
    ) -> Result<Option<WebhookView>, StoreError> {
        self.write(move |conn| rotate(conn, site, id, &secret, previous_until))
            .await
    }

    async fn webhook_deliveries(
        &self,
        site: SiteId,
        endpoint: i64,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<DeliveryView>, StoreError> {
        self.read(move |conn| deliveries(conn, site, endpoint, before, limit))
            .await
    }

    async fn redeliver(
        &self,
        site: SiteId,
        endpoint: i64,
        delivery: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let found = self
            .write(move |conn| redeliver(conn, site, endpoint, delivery, now))
            .await?;
        if found {
            self.webhook_events_queued.notify_one();
        }
        Ok(found)
    }

    async fn gather_deliveries(&self, now: i64) -> Result<Option<i64>, StoreError> {
        self.write(move |conn| gather_deliveries(conn, now)).await
    }

    async fn due_deliveries(
        &self,
        now: i64,
        limit: usize,
        per_endpoint: usize,
    ) -> Result<Vec<DueDelivery>, StoreError> {
        self.read(move |conn| due_deliveries(conn, now, limit, per_endpoint))
            .await
    }

    async fn next_delivery_at(&self, after: i64) -> Result<Option<i64>, StoreError> {
        self.read(move |conn| next_delivery_at(conn, after)).await
    }

    async fn record_try(
        &self,
        delivery: &DueDelivery,
        tried: Tried,
        now: i64,
    ) -> Result<(), StoreError> {
        let delivery = delivery.clone();
        self.write(move |conn| record_try(conn, &delivery, &tried, now))
            .await
    }

    async fn forget_old_deliveries(&self, before: i64) -> Result<usize, StoreError> {
        self.write(move |conn| forget_old_deliveries(conn, before))
            .await
    }

    async fn webhook_backlog(&self) -> Result<i64, StoreError> {
        self.read(webhook_backlog).await
    }
}
