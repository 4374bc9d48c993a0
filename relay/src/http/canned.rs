//! Canned texts: every agent lists them (`GET /api/canned`); admins create, change
//! and delete them. The console fills `$NAME` and `$AGENT` when one is posted.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use porchlight_protocol::MAX_BODY_CHARS;
use porchlight_protocol::api::ApiCode;
use porchlight_protocol::api::canned::{CannedForm, CannedText};

use crate::auth::{AdminWriting, LoggedIn};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::StoreError;

const MAX_GROUP_CHARS: usize = 60;
const MAX_TITLE_CHARS: usize = 80;
const DEFAULT_GROUP: &str = "General";

/// The trimmed text, or what is wrong with it.
fn check(input: CannedForm, id: i64) -> Result<CannedText, &'static str> {
    let group = match input.group.trim() {
        "" => DEFAULT_GROUP.to_owned(),
        group => group.to_owned(),
    };
    let title = input.title.trim().to_owned();
    let body = input.body.trim().to_owned();
    if title.is_empty() {
        return Err("A canned text needs a title.");
    }
    if body.is_empty() {
        return Err("A canned text needs some text.");
    }
    if group.chars().count() > MAX_GROUP_CHARS {
        return Err("Group names are limited to 60 characters.");
    }
    if title.chars().count() > MAX_TITLE_CHARS {
        return Err("Titles are limited to 80 characters.");
    }
    if body.chars().count() > MAX_BODY_CHARS {
        return Err("Canned texts are limited to 4000 characters, like messages.");
    }
    Ok(CannedText {
        id,
        group,
        title,
        body,
    })
}

/// The store's refusals, in this resource's words.
fn refused(err: StoreError) -> ApiError {
    match err {
        StoreError::NotFound => ApiError::not_found("No such canned text."),
        StoreError::Duplicate => ApiError::new(
            ApiCode::TitleTaken,
            "That group already has a canned text with this title.",
        ),
        other => other.into(),
    }
}

/// `GET /api/canned`: every canned text, by group and title.
pub(crate) async fn list(
    State(state): State<AppState>,
    _: LoggedIn,
) -> ApiResult<Json<Vec<CannedText>>> {
    Ok(Json(state.store.canned_texts().await?))
}

/// `POST /api/canned` (admins).
pub(crate) async fn create(
    State(state): State<AppState>,
    _: AdminWriting,
    Json(input): Json<CannedForm>,
) -> ApiResult<(StatusCode, Json<CannedText>)> {
    let saved = save(&state, 0, input).await?;
    Ok((StatusCode::CREATED, Json(saved)))
}

/// `PUT /api/canned/{id}` (admins).
pub(crate) async fn update(
    State(state): State<AppState>,
    _: AdminWriting,
    Path(id): Path<i64>,
    Json(input): Json<CannedForm>,
) -> ApiResult<Json<CannedText>> {
    Ok(Json(save(&state, id, input).await?))
}

async fn save(state: &AppState, id: i64, input: CannedForm) -> ApiResult<CannedText> {
    let text = check(input, id).map_err(ApiError::invalid)?;
    state.store.save_canned(text).await.map_err(refused)
}

/// `DELETE /api/canned/{id}` (admins).
pub(crate) async fn delete(
    State(state): State<AppState>,
    _: AdminWriting,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    state.store.delete_canned(id).await.map_err(refused)?;
    Ok(StatusCode::NO_CONTENT)
}
