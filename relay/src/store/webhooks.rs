//! Webhook endpoints and their outbox. Events are queued in the same transaction as
//! what they tell of (a message, a chat queued, a ticket); the relay's sender gathers
//! them into deliveries, each with its own `webhook-id` fixed before the first try,
//! and records what became of every try.

use std::sync::Arc;

use async_trait::async_trait;

use porchlight_protocol::api::webhooks::{DeliveryView, WebhookForm, WebhookView};
use tokio::sync::Notify;

use super::{SiteId, StoreError};

/// Where and how a delivery is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub endpoint_id: i64,
    pub url: String,
    pub auth_header: Option<(String, String)>,
    /// The secrets to sign with: the current one, and the previous during its overlap.
    pub secrets: Vec<String>,
    pub failing_since: Option<i64>,
}

/// A delivery whose time has come.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueDelivery {
    pub id: i64,
    pub webhook_id: String,
    pub body: String,
    pub attempts: u32,
    pub created_at: i64,
    /// When it fell due: a try's result is recorded only if this has not changed
    /// (a redelivery asked for meanwhile still goes).
    pub due_at: i64,
    pub target: Target,
}

/// What one try came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tried {
    pub code: Option<u16>,
    pub duration_ms: u32,
    pub excerpt: Option<String>,
    pub error: Option<String>,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    /// Try again at this time, or never (`None`: given up).
    RetryAt(Option<i64>),
    /// The endpoint is turned off, for this reason; the delivery waits for it.
    Disable {
        reason: String,
        retry_at: i64,
    },
}

#[async_trait]
pub trait WebhookStore: Send + Sync {
    /// Notified after a commit that queued webhook events.
    fn webhook_events_queued(&self) -> Arc<Notify>;

    async fn webhooks(&self, site: SiteId) -> Result<Vec<WebhookView>, StoreError>;

    async fn webhook(&self, site: SiteId, id: i64) -> Result<Option<WebhookView>, StoreError>;

    /// Makes an endpoint signing with `secret`.
    async fn create_webhook(
        &self,
        site: SiteId,
        form: WebhookForm,
        secret: String,
    ) -> Result<WebhookView, StoreError>;

    /// Replaces its settings; `None` when the site has no such endpoint.
    async fn update_webhook(
        &self,
        site: SiteId,
        id: i64,
        form: WebhookForm,
    ) -> Result<Option<WebhookView>, StoreError>;

    /// Deletes it with its outbox; false when there was none.
    async fn delete_webhook(&self, site: SiteId, id: i64) -> Result<bool, StoreError>;

    /// Signs with `secret` from now on, and with the current one too until
    /// `previous_until`.
    async fn rotate_webhook_secret(
        &self,
        site: SiteId,
        id: i64,
        secret: String,
        previous_until: i64,
    ) -> Result<Option<WebhookView>, StoreError>;

    /// An endpoint's deliveries, newest first, those before delivery `before`.
    async fn webhook_deliveries(
        &self,
        site: SiteId,
        endpoint: i64,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<DeliveryView>, StoreError>;

    /// Sends a delivery again at `now`, with its webhook-id and body; false when the
    /// site's endpoint has no such delivery.
    async fn redeliver(
        &self,
        site: SiteId,
        endpoint: i64,
        delivery: i64,
        now: i64,
    ) -> Result<bool, StoreError>;

    /// Gathers queued events into deliveries: each event alone, or per an endpoint's
    /// batching; says when a batch still gathering is due.
    async fn gather_deliveries(&self, now: i64) -> Result<Option<i64>, StoreError>;

    /// Pending deliveries of enabled endpoints whose time has come, oldest first, at
    /// most `per_endpoint` of each endpoint.
    async fn due_deliveries(
        &self,
        now: i64,
        limit: usize,
        per_endpoint: usize,
    ) -> Result<Vec<DueDelivery>, StoreError>;

    /// When the next pending delivery of an enabled endpoint falls due after `after`
    /// (those due already are being tried).
    async fn next_delivery_at(&self, after: i64) -> Result<Option<i64>, StoreError>;

    async fn record_try(
        &self,
        delivery: &DueDelivery,
        tried: Tried,
        now: i64,
    ) -> Result<(), StoreError>;

    /// Deletes delivered and given-up deliveries finished before `before`; says how
    /// many.
    async fn forget_old_deliveries(&self, before: i64) -> Result<usize, StoreError>;

    /// Events and deliveries not yet delivered (the outbox's depth, for metrics).
    async fn webhook_backlog(&self) -> Result<i64, StoreError>;
}
