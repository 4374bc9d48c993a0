//! The console's webhooks for a site: `GET/POST /api/admin/sites/{key}/webhooks`,
//! `PUT/DELETE …/webhooks/{id}`, `POST …/{id}/rotate-secret`, the Deliveries tab's
//! `GET …/{id}/deliveries` and `POST …/{id}/deliveries/{delivery}/redeliver`.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use porchlight_protocol::api::webhooks::{DeliveryView, WebhookForm, WebhookSecret, WebhookView};
use serde::Deserialize;

use super::sites::by_key;
use crate::auth::{Admin, AdminWriting};
use crate::error::ApiResult;
use crate::state::AppState;
use crate::webhooks::endpoints;

/// Deliveries per page of the tab.
const PAGE: usize = 50;

pub(crate) async fn list(
    State(state): State<AppState>,
    _: Admin,
    Path(key): Path<String>,
) -> ApiResult<Json<Vec<WebhookView>>> {
    let site = by_key(&state, &key).await?;
    Ok(Json(endpoints::list(&state, site.id).await?))
}

pub(crate) async fn create(
    State(state): State<AppState>,
    _: AdminWriting,
    Path(key): Path<String>,
    Json(form): Json<WebhookForm>,
) -> ApiResult<(StatusCode, Json<WebhookSecret>)> {
    let site = by_key(&state, &key).await?;
    let made = endpoints::create(&state, site.id, form).await?;
    Ok((StatusCode::CREATED, Json(made)))
}

pub(crate) async fn update(
    State(state): State<AppState>,
    _: AdminWriting,
    Path((key, id)): Path<(String, i64)>,
    Json(form): Json<WebhookForm>,
) -> ApiResult<Json<WebhookView>> {
    let site = by_key(&state, &key).await?;
    Ok(Json(endpoints::update(&state, site.id, id, form).await?))
}

pub(crate) async fn delete(
    State(state): State<AppState>,
    _: AdminWriting,
    Path((key, id)): Path<(String, i64)>,
) -> ApiResult<StatusCode> {
    let site = by_key(&state, &key).await?;
    endpoints::delete(&state, site.id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn rotate(
    State(state): State<AppState>,
    _: AdminWriting,
    Path((key, id)): Path<(String, i64)>,
) -> ApiResult<Json<WebhookSecret>> {
    let site = by_key(&state, &key).await?;
    Ok(Json(endpoints::rotate(&state, site.id, id).await?))
}

#[derive(Deserialize)]
pub(crate) struct Before {
    before: Option<i64>,
}

pub(crate) async fn deliveries(
    State(state): State<AppState>,
    _: Admin,
    Path((key, id)): Path<(String, i64)>,
    Query(page): Query<Before>,
) -> ApiResult<Json<Vec<DeliveryView>>> {
    let site = by_key(&state, &key).await?;
    let found = endpoints::deliveries(&state, site.id, id, page.before, PAGE).await?;
    Ok(Json(found))
}

pub(crate) async fn redeliver(
    State(state): State<AppState>,
    _: AdminWriting,
    Path((key, id, delivery)): Path<(String, i64, i64)>,
) -> ApiResult<StatusCode> {
    let site = by_key(&state, &key).await?;
    endpoints::redeliver(&state, site.id, id, delivery).await?;
    Ok(StatusCode::ACCEPTED)
}
