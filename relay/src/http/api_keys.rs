//! The console's API keys for a site's own servers: `GET/POST
//! /api/admin/sites/{key}/api-keys` and `DELETE /api/admin/sites/{key}/api-keys/{id}`.
//! A key is shown once, when made; only its hash is kept.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use porchlight_protocol::api::v1::{ApiKeyView, CreatedApiKey, NewApiKeyForm, Scope};

use super::sites::by_key;
use crate::auth::api_key::new_key;
use crate::auth::{Admin, AdminWriting};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::StoreError;
use crate::store::api_keys::{ApiKeyRow, KeyScope, NewApiKey};

/// How many characters of a key the console shows.
const SHOWN: usize = 12;

fn view(row: ApiKeyRow) -> ApiKeyView {
    ApiKeyView {
        id: row.id,
        name: row.name,
        prefix: row.prefix,
        scope: match row.scope {
            KeyScope::Read => Scope::Read,
            KeyScope::ReadWrite => Scope::ReadWrite,
        },
        created_at: row.created_at,
        last_used_at: row.last_used_at,
        revoked_at: row.revoked_at,
    }
}

pub(crate) async fn list(
    State(state): State<AppState>,
    _: Admin,
    Path(key): Path<String>,
) -> ApiResult<Json<Vec<ApiKeyView>>> {
    let site = by_key(&state, &key).await?;
    let keys = state.store.api_keys(site.id).await?;
    Ok(Json(keys.into_iter().map(view).collect()))
}

pub(crate) async fn create(
    State(state): State<AppState>,
    _: AdminWriting,
    Path(key): Path<String>,
    Json(form): Json<NewApiKeyForm>,
) -> ApiResult<(StatusCode, Json<CreatedApiKey>)> {
    let site = by_key(&state, &key).await?;
    let name = form.name.trim();
    if name.is_empty() || name.chars().count() > 80 {
        return Err(ApiError::invalid("Name the key in 1 to 80 characters."));
    }
    let (secret, key_hash) = new_key();
    let row = state
        .store
        .create_api_key(NewApiKey {
            site_id: site.id,
            name: name.to_owned(),
            prefix: format!("{}…", &secret[..SHOWN]),
            key_hash,
            scope: match form.scope {
                Scope::Read => KeyScope::Read,
                Scope::ReadWrite => KeyScope::ReadWrite,
            },
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedApiKey {
            key: secret,
            listed: view(row),
        }),
    ))
}

pub(crate) async fn revoke(
    State(state): State<AppState>,
    _: AdminWriting,
    Path((key, id)): Path<(String, i64)>,
) -> ApiResult<Json<ApiKeyView>> {
    let site = by_key(&state, &key).await?;
    match state.store.revoke_api_key(site.id, id).await {
        Ok(row) => Ok(Json(view(row))),
        Err(StoreError::NotFound) => Err(ApiError::not_found("This site has no such key.")),
        Err(err) => Err(err.into()),
    }
}
