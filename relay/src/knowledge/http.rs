//! The console's knowledge API (admins): list, upload, crawl and delete documents.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::crawl::{self, Limits};
use super::{DocFormat, NewDocument};
use crate::auth::{Need, api_error, api_error_text, require};
use crate::server::AppState;
use crate::store::{SiteId, StoreError};

/// The largest document accepted from the console.
const MAX_UPLOAD_CHARS: usize = 2 * 1024 * 1024;
/// Crawls from the console are bounded tighter than the command line's.
const MAX_CONSOLE_PAGES: usize = 500;

#[derive(Deserialize)]
pub struct SiteQuery {
    #[serde(default)]
    site: Option<String>,
}

fn internal(err: &StoreError) -> Response {
    tracing::error!(error = %err, "knowledge store failure");
    api_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "The relay could not do that; try again.",
    )
}

/// Checks the caller is an admin (`need`) and finds the site named by `?site=KEY`
/// (default: the demo site).
async fn admin_site(
    state: &AppState,
    headers: &HeaderMap,
    need: Need,
    query: &SiteQuery,
) -> Result<SiteId, Response> {
    require(state, headers, need).await?;
    let key = query
        .site
        .as_deref()
        .unwrap_or(crate::server::DEMO_SITE_KEY);
    match state.store.site_by_key(key).await {
        Ok(Some(site)) => Ok(site.id),
        Ok(None) => Err(api_error(
            StatusCode::NOT_FOUND,
            "not_found",
            "No such site.",
        )),
        Err(err) => Err(internal(&err)),
    }
}

/// `GET /api/admin/knowledge`: the site's documents.
pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<SiteQuery>,
) -> Response {
    let site = match admin_site(&state, &headers, Need::Admin, &query).await {
        Ok(site) => site,
        Err(response) => return response,
    };
    match state.store.kb_documents(site).await {
        Ok(documents) => Json(documents).into_response(),
        Err(err) => internal(&err),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Upload {
    /// The file name: its extension says the format; uploading the same name again
    /// replaces the document.
    name: String,
    text: String,
}

/// `POST /api/admin/knowledge`: adds or replaces one document.
pub async fn upload(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<SiteQuery>,
    Json(upload): Json<Upload>,
) -> Response {
    let site = match admin_site(&state, &headers, Need::AdminWriting, &query).await {
        Ok(site) => site,
        Err(response) => return response,
    };
    let name = upload.name.trim();
    let Some(format) = DocFormat::from_path(std::path::Path::new(name)) else {
        return api_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unsupported",
            "Knowledge must be Markdown, HTML or text (.md, .html, .txt).",
        );
    };
    if upload.text.len() > MAX_UPLOAD_CHARS {
        return api_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            "A document may be at most 2 MB.",
        );
    }
    let title = name
        .rsplit_once('.')
        .map_or(name, |(stem, _)| stem)
        .replace(['-', '_'], " ");
    let document = NewDocument::parse(&format!("upload:{name}"), format, &upload.text, &title);
    let chunks = document.chunks.len();
    match state.store.kb_put(site, document).await {
        Ok(outcome) => {
            state.knowledge_changed.notify_one();
            Json(serde_json::json!({ "outcome": outcome, "chunks": chunks })).into_response()
        }
        Err(err) => internal(&err),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrawlRequest {
    url: String,
    #[serde(default)]
    max_pages: Option<usize>,
    #[serde(default)]
    max_depth: Option<usize>,
}

/// `POST /api/admin/knowledge/crawl`: crawls a help site and answers with the report.
pub async fn crawl(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<SiteQuery>,
    Json(request): Json<CrawlRequest>,
) -> Response {
    let site = match admin_site(&state, &headers, Need::AdminWriting, &query).await {
        Ok(site) => site,
        Err(response) => return response,
    };
    let defaults = Limits::default();
    let limits = Limits {
        max_pages: request
            .max_pages
            .unwrap_or(defaults.max_pages)
            .clamp(1, MAX_CONSOLE_PAGES),
        max_depth: request.max_depth.unwrap_or(defaults.max_depth).min(10),
    };
    // Its own client: the relay's does not follow redirects, a crawl must.
    let http = match reqwest::Client::builder()
        .user_agent(concat!("porchlight/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(http) => http,
        Err(err) => {
            return api_error_text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                err.to_string(),
            );
        }
    };
    match crawl::crawl(
        &http,
        state.store.as_ref(),
        site,
        request.url.trim(),
        limits,
        |_, _| {},
    )
    .await
    {
        Ok(report) => {
            state.knowledge_changed.notify_one();
            Json(report).into_response()
        }
        Err(crawl::CrawlError::Store(err)) => internal(&err),
        Err(err) => api_error_text(
            StatusCode::UNPROCESSABLE_ENTITY,
            "crawl_failed",
            err.to_string(),
        ),
    }
}

/// `DELETE /api/admin/knowledge/{id}`.
pub async fn delete(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(query): Query<SiteQuery>,
) -> Response {
    let site = match admin_site(&state, &headers, Need::AdminWriting, &query).await {
        Ok(site) => site,
        Err(response) => return response,
    };
    match state.store.kb_delete(site, id).await {
        Ok(true) => StatusCode::NO_CONTENT.into_response(),
        Ok(false) => api_error(StatusCode::NOT_FOUND, "not_found", "No such document."),
        Err(err) => internal(&err),
    }
}
