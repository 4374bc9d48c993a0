//! Works through the webhook outbox: gathers queued events into deliveries, posts the
//! due ones (signed), and records each try. Wakes when events are committed, when a
//! retry or a batch falls due, and at least once a minute.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::schedule::{Answered, decide};
use super::sign;
use crate::auth::random_bytes;
use crate::outbound::{Outbound, error_chain};
use crate::store::Store;
use crate::store::webhooks::{DueDelivery, Outcome, Tried};

/// Tries in flight at most, in all...
const AT_ONCE: usize = 16;
/// ...and to one endpoint.
const PER_ENDPOINT: usize = 4;
/// Due deliveries read per look.
const LOOK_AT: usize = 256;
/// How long a delivery whose try could not be recorded waits before it is tried again
/// (the store is failing: no request is repeated at once).
const REST: Duration = Duration::from_secs(60);
/// The longest wait between looks.
const LOOK_AGAIN: Duration = Duration::from_secs(60);
/// How long a receiver has to answer.
const TIMEOUT: Duration = Duration::from_secs(15);
/// How much of a response's body is kept for the Deliveries tab.
const EXCERPT: usize = 512;

/// A signed request, ready to post.
#[derive(Debug, Clone)]
pub struct Request {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// What came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Status {
        code: u16,
        excerpt: String,
    },
    /// No response: refused address, no connection, timeout.
    Failed(String),
}

/// Posts a request: the relay's outbound client, or a test's stand-in.
pub trait Post: Send + Sync + 'static {
    fn post(&self, request: Request) -> impl Future<Output = Answer> + Send;
}

impl Post for Outbound {
    async fn post(&self, request: Request) -> Answer {
        let url = match reqwest::Url::parse(&request.url) {
            Ok(url) => url,
            Err(err) => return Answer::Failed(format!("\"{}\" is not a URL: {err}", request.url)),
        };
        let mut builder = match Outbound::post(self, &url) {
            Ok(builder) => builder,
            Err(refused) => return Answer::Failed(refused.to_string()),
        };
        builder = builder
            .timeout(TIMEOUT)
            .header("content-type", "application/json");
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let mut response = match builder.body(request.body).send().await {
            Ok(response) => response,
            Err(err) => return Answer::Failed(error_chain(&err)),
        };
        let code = response.status().as_u16();
        let mut excerpt = Vec::new();
        while excerpt.len() < EXCERPT {
            match response.chunk().await {
                Ok(Some(chunk)) => excerpt.extend_from_slice(&chunk),
                Ok(None) | Err(_) => break,
            }
        }
        excerpt.truncate(EXCERPT);
        Answer::Status {
            code,
            excerpt: String::from_utf8_lossy(&excerpt).into_owned(),
        }
    }
}

/// What the sender tells of each recorded try.
pub type OnTried = dyn Fn(&DueDelivery, &Tried) + Send + Sync;

/// The sender and what it needs.
pub struct Sender<P> {
    pub store: Arc<dyn Store>,
    pub post: P,
    /// Unix ms now (tests give one that follows tokio's paused clock).
    pub now: Arc<dyn Fn() -> i64 + Send + Sync>,
    /// Told of each try once it is recorded (the relay counts them for `/metrics`).
    pub tried: Box<OnTried>,
}

/// Runs until `stop`. Each try runs as its own task, so a slow receiver holds up only
/// its own deliveries (at most [`PER_ENDPOINT`] at once), never another endpoint's.
pub async fn run<P: Post>(sender: Sender<P>, stop: CancellationToken) {
    let sender = Arc::new(sender);
    let queued = sender.store.webhook_events_queued();
    // Deliveries being tried, with their endpoints, and the tasks trying them.
    let mut flying: HashMap<i64, i64> = HashMap::new();
    let mut tasks: HashMap<tokio::task::Id, i64> = HashMap::new();
    let mut tries = JoinSet::new();
    // Deliveries whose last try went unrecorded, and until when they wait.
    let mut resting: HashMap<i64, tokio::time::Instant> = HashMap::new();
    loop {
        let now = (sender.now)();
        let next_batch = match sender.store.gather_deliveries(now).await {
            Ok(next) => next,
            Err(err) => {
                tracing::error!(error = %err, "cannot gather webhook events");
                None
            }
        };
        resting.retain(|_, until| *until > tokio::time::Instant::now());
        let due = match sender
            .store
            .due_deliveries(now, LOOK_AT, PER_ENDPOINT)
            .await
        {
            Ok(due) => due,
            Err(err) => {
                tracing::error!(error = %err, "cannot read the webhook outbox");
                Vec::new()
            }
        };
        let more_due = due.len() == LOOK_AT;
        let mut started = false;
        for delivery in due {
            let endpoint = delivery.target.endpoint_id;
            let busy = flying.values().filter(|other| **other == endpoint).count();
            if flying.contains_key(&delivery.id)
                || resting.contains_key(&delivery.id)
                || flying.len() >= AT_ONCE
                || busy >= PER_ENDPOINT
            {
                continue;
            }
            flying.insert(delivery.id, endpoint);
            started = true;
            let (sender, id) = (Arc::clone(&sender), delivery.id);
            let task = tries.spawn(async move { deliver(&sender, &delivery).await });
            tasks.insert(task.id(), id);
        }
        if (started && more_due) || next_batch.is_some_and(|at| at <= now) {
            continue;
        }
        let next_retry = sender.store.next_delivery_at(now).await.unwrap_or(None);
        let soonest = [next_batch, next_retry].into_iter().flatten().min();
        // With tries in flight, their end wakes the loop: no timer is needed then
        // (and none fires early on a paused clock while a try is being recorded).
        let wait = match soonest {
            Some(at) => Some(
                Duration::from_millis(u64::try_from(at - (sender.now)()).unwrap_or(0))
                    .min(LOOK_AGAIN),
            ),
            None if tries.is_empty() => Some(LOOK_AGAIN),
            None => None,
        };
        let timer = async move {
            match wait {
                Some(wait) => tokio::time::sleep(wait).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = timer => {}
            () = queued.notified() => {}
            Some(finished) = tries.join_next_with_id(), if !tries.is_empty() => {
                // A try that panicked, or whose result could not be written, frees its
                // place and rests before its delivery is tried again.
                let (task, recorded) =
                    finished.unwrap_or_else(|failed| (failed.id(), false));
                if let Some(id) = tasks.remove(&task) {
                    flying.remove(&id);
                    if !recorded {
                        resting.insert(id, tokio::time::Instant::now() + REST);
                    }
                }
            }
            () = stop.cancelled() => {
                // A try cut short is tried again after a restart, with its webhook-id.
                tries.abort_all();
                return;
            }
        }
    }
}

/// Tries one delivery and records what came of it; says whether it was recorded.
async fn deliver<P: Post>(sender: &Sender<P>, delivery: &DueDelivery) -> bool {
    let tried = try_once(sender, delivery).await;
    match sender
        .store
        .record_try(delivery, tried.clone(), (sender.now)())
        .await
    {
        Ok(()) => {
            (sender.tried)(delivery, &tried);
            true
        }
        Err(err) => {
            tracing::error!(error = %err, "cannot record a webhook delivery's try");
            false
        }
    }
}

/// Signs and posts one delivery, and decides what its answer means.
async fn try_once<P: Post>(sender: &Sender<P>, delivery: &DueDelivery) -> Tried {
    let target = &delivery.target;
    let timestamp = (sender.now)() / 1000;
    let mut headers: Vec<(String, String)> = sign::headers(
        &target.secrets,
        &delivery.webhook_id,
        timestamp,
        &delivery.body,
    )
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value))
    .collect();
    if let Some((name, value)) = &target.auth_header {
        headers.push((name.clone(), value.clone()));
    }
    let started = tokio::time::Instant::now();
    let answer = sender
        .post
        .post(Request {
            url: target.url.clone(),
            headers,
            body: delivery.body.clone(),
        })
        .await;
    let duration_ms = u32::try_from(started.elapsed().as_millis()).unwrap_or(u32::MAX);
    let (code, excerpt, error) = match answer {
        Answer::Status { code, excerpt } => {
            let error = (!(200..300).contains(&code)).then(|| format!("HTTP {code}"));
            (Some(code), Some(excerpt), error)
        }
        Answer::Failed(error) => (None, None, Some(error)),
    };
    let unit = u64::from_le_bytes(random_bytes::<8>()) as f64 / u64::MAX as f64;
    let outcome = decide(&Answered {
        code,
        error: error.as_deref().unwrap_or_default(),
        attempts: delivery.attempts + 1,
        created_at: delivery.created_at,
        failing_since: target.failing_since,
        now: (sender.now)(),
        unit,
    });
    if let Outcome::Disable { reason, .. } = &outcome {
        tracing::warn!(endpoint = target.endpoint_id, reason = %reason, "a webhook endpoint is turned off");
    }
    Tried {
        code,
        duration_ms,
        excerpt,
        error,
        outcome,
    }
}
