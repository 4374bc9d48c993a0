//! The site's own servers, by API key (`Authorization: Bearer plk_…`): a handler that
//! takes [`ApiReader`] runs for any live key, one that takes [`ApiWriter`] only for a
//! `read_write` key. Each key is counted against its rate limit and its last use noted.

use std::time::Instant;

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use porchlight_protocol::api::ApiCode;

use super::{random_token, token_hash};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::api_keys::{ApiKeyRow, KeyScope};
use crate::store::{Site, now_ms};
use crate::throttle::retry_in;

/// Every key starts so, to be recognised (and found by secret scanners).
pub const KEY_PREFIX: &str = "plk_";

/// How stale a key's noted last use may get.
const LAST_USE_EVERY_MS: i64 = 60_000;

/// A new key and its hash (only the hash is stored).
pub fn new_key() -> (String, String) {
    let key = format!("{KEY_PREFIX}{}", random_token());
    let hash = token_hash(&key);
    (key, hash)
}

/// A key's caller: the key's site and the key.
pub struct ApiCaller {
    pub site: Site,
    pub key: ApiKeyRow,
}

pub struct ApiReader(pub ApiCaller);

pub struct ApiWriter(pub ApiCaller);

async fn caller(parts: &Parts, state: &AppState) -> Result<ApiCaller, ApiError> {
    let key = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .filter(|key| key.starts_with(KEY_PREFIX))
        .ok_or_else(|| {
            ApiError::new(
                ApiCode::ApiKeyRequired,
                "Send an API key as Authorization: Bearer plk_…",
            )
        })?;
    let invalid = || {
        ApiError::new(
            ApiCode::ApiKeyInvalid,
            "This API key is unknown or revoked.",
        )
    };
    let key = state
        .store
        .api_key_by_hash(&token_hash(key))
        .await?
        .filter(|key| key.revoked_at.is_none())
        .ok_or_else(invalid)?;
    state
        .throttles
        .api_per_key
        .take(&key.id, Instant::now())
        .map_err(|wait| {
            ApiError::new(
                ApiCode::RateLimited,
                format!(
                    "Too many requests with this key; try again {}.",
                    retry_in(wait)
                ),
            )
            .retry_after(wait)
        })?;
    let site = state.store.site(key.site_id).await?.ok_or_else(invalid)?;
    // The last use is written at most once a minute: no write on every request.
    let now = now_ms();
    if key
        .last_used_at
        .is_none_or(|at| now - at >= LAST_USE_EVERY_MS)
    {
        state.store.touch_api_key(key.id, now).await?;
    }
    Ok(ApiCaller { site, key })
}

impl FromRequestParts<AppState> for ApiReader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        caller(parts, state).await.map(Self)
    }
}

impl FromRequestParts<AppState> for ApiWriter {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = caller(parts, state).await?;
        if caller.key.scope != KeyScope::ReadWrite {
            return Err(ApiError::new(
                ApiCode::ReadOnlyKey,
                "This API key may only read; make a read_write key to change things.",
            ));
        }
        Ok(Self(caller))
    }
}
