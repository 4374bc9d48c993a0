//! A stand-in for a site's webhook receiver: it takes every `POST /hook`, hands over
//! its headers and body, and answers as the test says (or holds the request, to be cut
//! off in flight).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;
use tokio::sync::mpsc;

use super::PATIENCE;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    pub(crate) headers: BTreeMap<String, String>,
    pub(crate) body: String,
}

impl Received {
    pub(crate) fn event(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }

    pub(crate) fn webhook_id(&self) -> &str {
        &self.headers["webhook-id"]
    }
}

/// How the `n`-th request (from 0) is answered; `None` holds it unanswered.
type Answer = Arc<dyn Fn(usize) -> Option<StatusCode> + Send + Sync>;

/// A receiver on a free port; returns its address and the requests as they come.
pub(crate) async fn receiver(
    answer: impl Fn(usize) -> Option<StatusCode> + Send + Sync + 'static,
) -> (SocketAddr, mpsc::UnboundedReceiver<Received>) {
    type Seen = (mpsc::UnboundedSender<Received>, Arc<AtomicUsize>, Answer);
    async fn hook(
        State((tx, count, answer)): State<Seen>,
        headers: HeaderMap,
        body: String,
    ) -> StatusCode {
        let headers = headers
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_str().unwrap_or("").to_owned()))
            .collect();
        let _ = tx.send(Received { headers, body });
        match answer(count.fetch_add(1, Ordering::SeqCst)) {
            Some(status) => status,
            None => std::future::pending().await,
        }
    }
    let (tx, rx) = mpsc::unbounded_channel();
    let answer: Answer = Arc::new(answer);
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(hook))
        .with_state((tx, Arc::new(AtomicUsize::new(0)), answer));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, rx)
}

/// The next request, within the tests' patience.
pub(crate) async fn next_request(requests: &mut mpsc::UnboundedReceiver<Received>) -> Received {
    tokio::time::timeout(PATIENCE, requests.recv())
        .await
        .expect("no webhook request came")
        .unwrap()
}
