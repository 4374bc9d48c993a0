//! The site's set-up, read through the REST API: its chat profiles and the documents
//! of its knowledge.

use axum::Json;
use axum::extract::State;
use porchlight_protocol::api::knowledge::DocumentInfo;
use porchlight_protocol::api::profiles::ProfileLine;

use crate::auth::ApiReader;
use crate::error::ApiResult;
use crate::state::AppState;

/// The site's chat profiles; `default` marks the one new chats use.
#[utoipa::path(
    get,
    path = "/api/v1/profiles",
    tag = "setup",
    responses(
        (status = 200, body = [ProfileLine]),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn profiles(
    State(state): State<AppState>,
    ApiReader(caller): ApiReader,
) -> ApiResult<Json<Vec<ProfileLine>>> {
    let site = caller.site;
    let lines = state
        .store
        .all_profiles()
        .await?
        .into_iter()
        .filter(|profile| profile.site_id == site.id)
        .map(|profile| ProfileLine {
            id: profile.id,
            name: profile.name,
            site: site.key.clone(),
            default: site.default_profile_id == Some(profile.id),
            updated_at: profile.updated_at,
        })
        .collect();
    Ok(Json(lines))
}

/// The documents of the site's knowledge, which the AI agent answers from.
#[utoipa::path(
    get,
    path = "/api/v1/knowledge",
    tag = "setup",
    responses(
        (status = 200, body = [DocumentInfo]),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn knowledge(
    State(state): State<AppState>,
    ApiReader(caller): ApiReader,
) -> ApiResult<Json<Vec<DocumentInfo>>> {
    Ok(Json(state.store.kb_documents(caller.site.id).await?))
}
