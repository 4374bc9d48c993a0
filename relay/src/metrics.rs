//! What the relay counts, for Prometheus: `GET /metrics` in the OpenMetrics text
//! format, on the main port or an address of its own (`[metrics]` in the config).
//! Counters and histograms are bumped where things happen; the gauges (sockets, the
//! queue) are read from the hub and the store at each scrape, so they never drift.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use porchlight_protocol::Author;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::auth::token_hash;
use crate::state::AppState;
use crate::store::CommitStats;
use crate::store::webhooks::Outcome;

/// The queue times a chat may have, in seconds: from "at once" to an hour.
const WAIT_BUCKETS: [f64; 10] = [
    5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SocketLabels {
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AuthorLabels {
    author: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

/// The config's `[metrics]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsSettings {
    /// Serve `/metrics` at all (off by default).
    pub enabled: bool,
    /// Serve it only here (`127.0.0.1:9464`); without it, on the main port.
    pub addr: Option<std::net::SocketAddr>,
    /// When set, a scrape must send `Authorization: Bearer <token>`.
    pub token: Option<String>,
}

pub struct Metrics {
    registry: Registry,
    sockets: Family<SocketLabels, Gauge>,
    queue_length: Gauge,
    messages: Family<AuthorLabels, Counter>,
    wait_seconds: Histogram,
    ai_answers: Counter,
    ai_handovers: Counter,
    webhook_calls: Family<OutcomeLabels, Counter>,
    webhook_deliveries: Family<OutcomeLabels, Counter>,
    webhook_seconds: Histogram,
    webhook_backlog: Gauge,
}

impl Metrics {
    /// Registers every metric; `commits` are the store's own histograms.
    pub fn new(commits: CommitStats) -> Self {
        let mut registry = Registry::with_prefix("porchlight");
        let sockets = Family::<SocketLabels, Gauge>::default();
        registry.register("sockets", "Open WebSockets, by kind", sockets.clone());
        let queue_length = Gauge::default();
        registry.register(
            "queue_length",
            "Chats waiting for an agent",
            queue_length.clone(),
        );
        let messages = Family::<AuthorLabels, Counter>::default();
        registry.register(
            "messages",
            "Messages stored, by author (visitor: in; agent, bot, system: out)",
            messages.clone(),
        );
        let wait_seconds = Histogram::new(WAIT_BUCKETS);
        registry.register(
            "wait_seconds",
            "How long chats waited in the queue before an agent joined",
            wait_seconds.clone(),
        );
        let ai_answers = Counter::default();
        registry.register(
            "ai_answers",
            "Answers the AI agent gave",
            ai_answers.clone(),
        );
        let ai_handovers = Counter::default();
        registry.register(
            "ai_handovers",
            "Chats the AI agent handed over to a person",
            ai_handovers.clone(),
        );
        let webhook_calls = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "webhook_calls",
            "Calls of the flow's webhooks, by outcome",
            webhook_calls.clone(),
        );
        let webhook_deliveries = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "webhook_deliveries",
            "Tries of webhook deliveries, by outcome (delivered, retrying, failed, disabled)",
            webhook_deliveries.clone(),
        );
        let webhook_seconds = Histogram::new(exponential_buckets(0.005, 2.0, 12));
        registry.register(
            "webhook_delivery_seconds",
            "How long each webhook delivery's try took",
            webhook_seconds.clone(),
        );
        let webhook_backlog = Gauge::default();
        registry.register(
            "webhook_outbox",
            "Webhook events and deliveries not yet delivered",
            webhook_backlog.clone(),
        );
        registry.register(
            "commit_jobs",
            "Writes per SQLite commit (group commit batches)",
            commits.jobs,
        );
        registry.register(
            "commit_seconds",
            "How long each SQLite commit took, fsync included",
            commits.seconds,
        );
        Self {
            registry,
            sockets,
            queue_length,
            messages,
            wait_seconds,
            ai_answers,
            ai_handovers,
            webhook_calls,
            webhook_deliveries,
            webhook_seconds,
            webhook_backlog,
        }
    }

    pub fn message_stored(&self, author: Author) {
        self.messages
            .get_or_create(&AuthorLabels {
                author: author.as_str(),
            })
            .inc();
    }

    /// An agent joined a chat that had waited `queue_ms`.
    pub fn chat_joined(&self, queue_ms: i64) {
        self.wait_seconds.observe(queue_ms.max(0) as f64 / 1000.0);
    }

    pub fn ai_answered(&self) {
        self.ai_answers.inc();
    }

    pub fn ai_handed_over(&self) {
        self.ai_handovers.inc();
    }

    pub fn webhook_called(&self, answered: bool) {
        let outcome = if answered { "answered" } else { "failed" };
        self.webhook_calls
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    /// One try of a webhook delivery, and what came of it.
    pub fn webhook_tried(&self, outcome: &Outcome, duration_ms: u32) {
        let outcome = match outcome {
            Outcome::Delivered => "delivered",
            Outcome::RetryAt(Some(_)) => "retrying",
            Outcome::RetryAt(None) => "failed",
            Outcome::Disable { .. } => "disabled",
        };
        self.webhook_deliveries
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
        self.webhook_seconds
            .observe(f64::from(duration_ms) / 1000.0);
    }

    /// The exposition, with the gauges as they are now.
    fn render(&self, visitors: usize, agents: usize, waiting: usize, backlog: i64) -> String {
        let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        for (kind, open) in [("visitor", visitors), ("agent", agents)] {
            self.sockets
                .get_or_create(&SocketLabels { kind })
                .set(count(open));
        }
        self.queue_length.set(count(waiting));
        self.webhook_backlog.set(backlog);
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

/// `GET /metrics`; with a `token` in the config, only for `Authorization: Bearer` it.
pub(crate) async fn scrape(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = &state.config.metrics.token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "));
        // Compared as hashes: the time taken says nothing about the token.
        if given.is_none_or(|given| token_hash(given) != token_hash(token)) {
            return (StatusCode::UNAUTHORIZED, "A metrics token is required.").into_response();
        }
    }
    let (visitors, agents) = state.hub.counts();
    let waiting = match state.store.waiting_conversations().await {
        Ok(waiting) => waiting.len(),
        Err(err) => return crate::error::ApiError::from(err).into_response(),
    };
    let backlog = match state.store.webhook_backlog().await {
        Ok(backlog) => backlog,
        Err(err) => return crate::error::ApiError::from(err).into_response(),
    };
    let text = state.metrics.render(visitors, agents, waiting, backlog);
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// Serves `/metrics` alone on its own listener until the relay stops.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) {
    let stop = state.shutdown.clone();
    let router = axum::Router::new()
        .route("/metrics", axum::routing::get(scrape))
        .with_state(state);
    let served = axum::serve(listener, router)
        .with_graceful_shutdown(async move { stop.cancelled().await })
        .await;
    if let Err(err) = served {
        tracing::error!(error = %err, "the metrics listener stopped");
    }
}
