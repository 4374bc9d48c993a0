//! Setting up endpoints, the same for the console and the REST API: each form is
//! checked here before the store sees it, and secrets are made here.

use porchlight_protocol::api::webhooks::{
    AuthHeader, DeliveryView, WebhookForm, WebhookSecret, WebhookView,
};
use reqwest::Url;

use super::sign::new_secret;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::{SiteId, now_ms};

/// The most events one request carries, and the longest an event waits for others.
const MOST_BATCHED: u32 = 100;
const LONGEST_BATCH_SECONDS: u32 = 300;
/// Headers the relay sets itself (and every `webhook-*`), which an endpoint's own
/// header may not replace.
const RESERVED: [&str; 3] = ["content-type", "content-length", "host"];

const NO_SUCH: &str = "No such webhook.";
const LONGEST_URL: usize = 2000;
/// How long the previous secret keeps signing after a rotation.
const OVERLAP_MS: i64 = 24 * 3_600_000;

/// The form with its words trimmed, or why it cannot be saved.
async fn check_form(
    state: &AppState,
    site: SiteId,
    mut form: WebhookForm,
) -> ApiResult<WebhookForm> {
    form.name = form.name.trim().to_owned();
    if form.name.is_empty() || form.name.chars().count() > 80 {
        return Err(ApiError::invalid("Name the webhook in 1 to 80 characters."));
    }
    form.url = form.url.trim().to_owned();
    if form.url.len() > LONGEST_URL {
        return Err(ApiError::invalid(format!(
            "A webhook's URL is at most {LONGEST_URL} characters."
        )));
    }
    let url = Url::parse(&form.url)
        .map_err(|_| ApiError::invalid(format!("\"{}\" is not a URL.", form.url)))?;
    // Resolved and checked when it is to be called; an endpoint being turned off
    // (perhaps because its name no longer resolves) is only held to its words.
    let checked = if form.enabled {
        state.outbound.check(&url).await
    } else {
        state.outbound.check_url(&url)
    };
    checked.map_err(|refused| ApiError::invalid(refused.to_string()))?;
    form.events.sort_by_key(|event| event.bit());
    form.events.dedup();
    if form.events.is_empty() {
        return Err(ApiError::invalid("Choose at least one event to send."));
    }
    if !(1..=MOST_BATCHED).contains(&form.batch_max) {
        return Err(ApiError::invalid(format!(
            "batch_max is 1 (no batching) to {MOST_BATCHED}."
        )));
    }
    if form.batch_seconds > LONGEST_BATCH_SECONDS || (form.batch_max > 1 && form.batch_seconds == 0)
    {
        return Err(ApiError::invalid(format!(
            "With batching, batch_seconds is 1 to {LONGEST_BATCH_SECONDS}: how long an event waits for others."
        )));
    }
    if let Some(profile) = form.profile_id {
        let theirs = state.store.profile(profile).await?;
        if theirs.is_none_or(|found| found.site_id != site) {
            return Err(ApiError::invalid(
                "That chat profile is not one of this site's.",
            ));
        }
    }
    if let Some(header) = &mut form.auth_header {
        check_header(header)?;
    }
    Ok(form)
}

fn check_header(header: &mut AuthHeader) -> ApiResult<()> {
    header.name = header.name.trim().to_owned();
    if header.name.is_empty() {
        return Ok(());
    }
    let token = header
        .name
        .bytes()
        .all(|byte| byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte));
    if !token || header.name.len() > 100 {
        return Err(ApiError::invalid(format!(
            "\"{}\" is not a header name.",
            header.name
        )));
    }
    let lower = header.name.to_ascii_lowercase();
    if lower.starts_with("webhook-") || RESERVED.contains(&lower.as_str()) {
        return Err(ApiError::invalid(format!(
            "The relay sets {} itself.",
            header.name
        )));
    }
    let printable = header
        .value
        .bytes()
        .all(|byte| (b' '..=b'~').contains(&byte));
    if header.value.len() > 2000 || !printable {
        return Err(ApiError::invalid(
            "A header's value is at most 2000 characters of plain ASCII, on one line.",
        ));
    }
    Ok(())
}

pub async fn list(state: &AppState, site: SiteId) -> ApiResult<Vec<WebhookView>> {
    Ok(state.store.webhooks(site).await?)
}

pub async fn one(state: &AppState, site: SiteId, id: i64) -> ApiResult<WebhookView> {
    state
        .store
        .webhook(site, id)
        .await?
        .ok_or_else(|| ApiError::not_found(NO_SUCH))
}

pub async fn create(state: &AppState, site: SiteId, form: WebhookForm) -> ApiResult<WebhookSecret> {
    let form = check_form(state, site, form).await?;
    let secret = new_secret();
    let webhook = state
        .store
        .create_webhook(site, form, secret.clone())
        .await?;
    Ok(WebhookSecret { webhook, secret })
}

pub async fn update(
    state: &AppState,
    site: SiteId,
    id: i64,
    form: WebhookForm,
) -> ApiResult<WebhookView> {
    let form = check_form(state, site, form).await?;
    let updated = state.store.update_webhook(site, id, form).await?;
    // Turned back on: what waited for it goes now.
    state.store.webhook_events_queued().notify_one();
    updated.ok_or_else(|| ApiError::not_found(NO_SUCH))
}

pub async fn delete(state: &AppState, site: SiteId, id: i64) -> ApiResult<()> {
    if state.store.delete_webhook(site, id).await? {
        Ok(())
    } else {
        Err(ApiError::not_found(NO_SUCH))
    }
}

/// A new secret; the previous one keeps signing beside it for a day, so receivers
/// can change over without losing a request.
pub async fn rotate(state: &AppState, site: SiteId, id: i64) -> ApiResult<WebhookSecret> {
    let secret = new_secret();
    let webhook = state
        .store
        .rotate_webhook_secret(site, id, secret.clone(), now_ms() + OVERLAP_MS)
        .await?
        .ok_or_else(|| ApiError::not_found(NO_SUCH))?;
    Ok(WebhookSecret { webhook, secret })
}

pub async fn deliveries(
    state: &AppState,
    site: SiteId,
    id: i64,
    before: Option<i64>,
    limit: usize,
) -> ApiResult<Vec<DeliveryView>> {
    one(state, site, id).await?;
    Ok(state
        .store
        .webhook_deliveries(site, id, before, limit)
        .await?)
}

/// Sends a delivery again now, with the same webhook-id and body (a receiver that
/// already has it can tell).
pub async fn redeliver(state: &AppState, site: SiteId, id: i64, delivery: i64) -> ApiResult<()> {
    if state.store.redeliver(site, id, delivery, now_ms()).await? {
        Ok(())
    } else {
        Err(ApiError::not_found("No such delivery."))
    }
}
