//! A chat profile's `call_webhook` step: the chat's variables POSTed to the site's
//! server (public addresses only), and its JSON answer for the flow to go on from.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::state::AppState;
use crate::store::Conversation;

/// The largest webhook response read.
const MAX_WEBHOOK_RESPONSE: usize = 64 * 1024;

/// POSTs the chat's variables as JSON; returns the JSON answer, or `None` when the call
/// fails, times out, answers non-2xx or not with JSON (the flow then goes on without).
pub(super) async fn call_webhook(
    state: &AppState,
    url: &str,
    timeout_ms: u64,
    conversation: &Conversation,
    variables: &BTreeMap<String, String>,
) -> Option<serde_json::Value> {
    let body = serde_json::json!({
        "conversation_id": conversation.id,
        "visitor_id": conversation.visitor_id,
        "variables": variables,
    });
    let request = reqwest::Url::parse(url)
        .map_err(|err| err.to_string())
        .and_then(|parsed| {
            state
                .webhooks
                .post(&parsed)
                .map_err(|refused| refused.to_string())
        });
    let request = match request {
        Ok(request) => request,
        Err(reason) => {
            tracing::warn!(%url, %reason, "flow webhook refused before sending");
            return None;
        }
    };
    let sent = request
        .timeout(Duration::from_millis(timeout_ms))
        .json(&body)
        .send()
        .await;
    // Only the URL and outcome are logged: the variables are the visitor's data.
    let response = match sent {
        Ok(response) if response.status().is_success() => response,
        Ok(response) => {
            tracing::warn!(%url, status = %response.status(), "flow webhook refused");
            return None;
        }
        Err(err) => {
            let error = crate::outbound::error_chain(&err);
            tracing::warn!(%url, %error, "flow webhook failed");
            return None;
        }
    };
    let mut response = response;
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        if body.len() + chunk.len() > MAX_WEBHOOK_RESPONSE {
            tracing::warn!(%url, "flow webhook answer too large");
            return None;
        }
        body.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&body).ok()
}
