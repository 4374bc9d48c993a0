//! Webhooks through the REST API: the key's site's endpoints (the same as the
//! console's Webhooks), their deliveries by cursor, and a redelivery.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use porchlight_protocol::api::ApiError as ErrorBody;
use porchlight_protocol::api::webhooks::{DeliveryPage, WebhookForm, WebhookSecret, WebhookView};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{Body, Id, Ids, Params, cursor_of, page_size};
use crate::auth::{ApiReader, ApiWriter};
use crate::error::ApiResult;
use crate::state::AppState;
use crate::webhooks::endpoints;

/// The site's webhook endpoints.
#[utoipa::path(
    get,
    path = "/api/v1/webhooks",
    tag = "webhooks",
    responses((status = 200, body = [WebhookView])),
    security(("api_key" = []))
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    ApiReader(caller): ApiReader,
) -> ApiResult<Json<Vec<WebhookView>>> {
    Ok(Json(endpoints::list(&state, caller.site.id).await?))
}

/// Add an endpoint. The answer holds its signing secret, shown this once.
#[utoipa::path(
    post,
    path = "/api/v1/webhooks",
    tag = "webhooks",
    request_body = WebhookForm,
    responses(
        (status = 201, body = WebhookSecret),
        (status = 422, body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    Body(form): Body<WebhookForm>,
) -> ApiResult<(StatusCode, Json<WebhookSecret>)> {
    let made = endpoints::create(&state, caller.site.id, form).await?;
    Ok((StatusCode::CREATED, Json(made)))
}

/// One endpoint.
#[utoipa::path(
    get,
    path = "/api/v1/webhooks/{id}",
    tag = "webhooks",
    params(("id" = i64, Path, description = "The webhook's id")),
    responses(
        (status = 200, body = WebhookView),
        (status = 404, body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn one(
    State(state): State<AppState>,
    ApiReader(caller): ApiReader,
    Id(id): Id,
) -> ApiResult<Json<WebhookView>> {
    Ok(Json(endpoints::one(&state, caller.site.id, id).await?))
}

/// Replace an endpoint's settings (its secret stays; the auth header too, unless given).
#[utoipa::path(
    put,
    path = "/api/v1/webhooks/{id}",
    tag = "webhooks",
    params(("id" = i64, Path, description = "The webhook's id")),
    request_body = WebhookForm,
    responses(
        (status = 200, body = WebhookView),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn update(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    Id(id): Id,
    Body(form): Body<WebhookForm>,
) -> ApiResult<Json<WebhookView>> {
    Ok(Json(
        endpoints::update(&state, caller.site.id, id, form).await?,
    ))
}

/// Delete an endpoint with its deliveries.
#[utoipa::path(
    delete,
    path = "/api/v1/webhooks/{id}",
    tag = "webhooks",
    params(("id" = i64, Path, description = "The webhook's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn delete(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    Id(id): Id,
) -> ApiResult<StatusCode> {
    endpoints::delete(&state, caller.site.id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new signing secret; the previous one signs beside it for a day.
#[utoipa::path(
    post,
    path = "/api/v1/webhooks/{id}/rotate-secret",
    tag = "webhooks",
    params(("id" = i64, Path, description = "The webhook's id")),
    responses(
        (status = 200, body = WebhookSecret),
        (status = 404, body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn rotate(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    Id(id): Id,
) -> ApiResult<Json<WebhookSecret>> {
    Ok(Json(endpoints::rotate(&state, caller.site.id, id).await?))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct DeliveryQuery {
    /// The previous page's `next_cursor`.
    #[param(pattern = "^[0-9]+$")]
    cursor: Option<String>,
    /// 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<usize>,
}

/// An endpoint's deliveries, newest first: each request, its status and latest try.
#[utoipa::path(
    get,
    path = "/api/v1/webhooks/{id}/deliveries",
    tag = "webhooks",
    params(("id" = i64, Path, description = "The webhook's id"), DeliveryQuery),
    responses(
        (status = 200, body = DeliveryPage),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn deliveries(
    State(state): State<AppState>,
    ApiReader(caller): ApiReader,
    Id(id): Id,
    Params(query): Params<DeliveryQuery>,
) -> ApiResult<Json<DeliveryPage>> {
    let limit = page_size(query.limit)?;
    let before = cursor_of(query.cursor.as_deref())?;
    let items = endpoints::deliveries(&state, caller.site.id, id, before, limit).await?;
    let next_cursor = (items.len() == limit)
        .then(|| items.last().map(|last| last.id.to_string()))
        .flatten();
    Ok(Json(DeliveryPage { items, next_cursor }))
}

/// Send a delivery again now, with the same `webhook-id` and body.
#[utoipa::path(
    post,
    path = "/api/v1/webhooks/{id}/deliveries/{delivery}/redeliver",
    tag = "webhooks",
    params(
        ("id" = i64, Path, description = "The webhook's id"),
        ("delivery" = i64, Path, description = "The delivery's id"),
    ),
    responses(
        (status = 202, description = "Queued to be sent now"),
        (status = 404, body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn redeliver(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    Ids(id, delivery): Ids,
) -> ApiResult<StatusCode> {
    endpoints::redeliver(&state, caller.site.id, id, delivery).await?;
    Ok(StatusCode::ACCEPTED)
}
