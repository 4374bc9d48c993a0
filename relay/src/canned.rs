//! Canned texts: every agent lists them (`GET /api/canned`); admins create, change
//! and delete them. The console fills `$NAME` and `$AGENT` when one is posted.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use porchlight_protocol::{CannedText, MAX_BODY_CHARS};
use serde::Deserialize;

use crate::auth::{Need, api_error, require};
use crate::server::AppState;
use crate::store::StoreError;

const MAX_GROUP_CHARS: usize = 60;
const MAX_TITLE_CHARS: usize = 80;
const DEFAULT_GROUP: &str = "General";

/// A canned text as an admin writes it.
#[derive(Deserialize, Debug)]
pub struct CannedInput {
    #[serde(default)]
    group: String,
    title: String,
    body: String,
}

impl CannedInput {
    /// The trimmed text, or what is wrong with it.
    fn check(self, id: i64) -> Result<CannedText, &'static str> {
        let group = match self.group.trim() {
            "" => DEFAULT_GROUP.to_owned(),
            group => group.to_owned(),
        };
        let title = self.title.trim().to_owned();
        let body = self.body.trim().to_owned();
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
}

fn store_error(err: &StoreError) -> Response {
    match err {
        StoreError::NotFound => {
            api_error(StatusCode::NOT_FOUND, "not_found", "No such canned text.")
        }
        StoreError::Duplicate => api_error(
            StatusCode::CONFLICT,
            "title_taken",
            "That group already has a canned text with this title.",
        ),
        other => {
            tracing::error!(error = %other, "canned text store failure");
            api_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "The relay could not do that; try again.",
            )
        }
    }
}

/// `GET /api/canned`: every canned text, by group and title.
pub async fn list(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(response) = require(&state, &headers, Need::Agent).await {
        return response;
    }
    match state.store.canned_texts().await {
        Ok(texts) => Json(texts).into_response(),
        Err(err) => store_error(&err),
    }
}

/// `POST /api/canned` (admins).
pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(input): Json<CannedInput>,
) -> Response {
    save(state, headers, 0, input).await
}

/// `PUT /api/canned/{id}` (admins).
pub async fn update(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Json(input): Json<CannedInput>,
) -> Response {
    save(state, headers, id, input).await
}

async fn save(state: AppState, headers: HeaderMap, id: i64, input: CannedInput) -> Response {
    if let Err(response) = require(&state, &headers, Need::AdminWriting).await {
        return response;
    }
    let text = match input.check(id) {
        Ok(text) => text,
        Err(problem) => return api_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid", problem),
    };
    match state.store.save_canned(text).await {
        Ok(saved) if id == 0 => (StatusCode::CREATED, Json(saved)).into_response(),
        Ok(saved) => Json(saved).into_response(),
        Err(err) => store_error(&err),
    }
}

/// `DELETE /api/canned/{id}` (admins).
pub async fn delete(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Response {
    if let Err(response) = require(&state, &headers, Need::AdminWriting).await {
        return response;
    }
    match state.store.delete_canned(id).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(err) => store_error(&err),
    }
}
