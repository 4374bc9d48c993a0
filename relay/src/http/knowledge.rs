//! The console's knowledge API (admins): list, upload, crawl and delete documents of
//! the site named by `?site=KEY` (default: the demo site).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use porchlight_protocol::api::ApiCode;
use porchlight_protocol::api::knowledge::{CrawlRequest, Upload, Uploaded};
use serde::Deserialize;

use crate::auth::{Admin, AdminWriting};
use crate::error::{ApiError, ApiResult};
use crate::knowledge;
use crate::knowledge::crawl::{self, CrawlReport, Limits};
use crate::outbound::{Outbound, Redirects};
use crate::server::DEMO_SITE_KEY;
use crate::state::AppState;
use crate::store::SiteId;
use crate::store::knowledge::{DocFormat, DocumentInfo};

/// The largest document accepted from the console.
const MAX_UPLOAD_CHARS: usize = 2 * 1024 * 1024;
/// Crawls from the console are bounded tighter than the command line's.
const MAX_CONSOLE_PAGES: usize = 500;

#[derive(Deserialize)]
pub(crate) struct SiteQuery {
    #[serde(default)]
    site: Option<String>,
}

/// The site named by `?site=KEY`.
async fn site_of(state: &AppState, query: &SiteQuery) -> ApiResult<SiteId> {
    let key = query.site.as_deref().unwrap_or(DEMO_SITE_KEY);
    match state.store.site_by_key(key).await? {
        Some(site) => Ok(site.id),
        None => Err(ApiError::not_found("No such site.")),
    }
}

/// `GET /api/admin/knowledge`: the site's documents.
pub(crate) async fn list(
    State(state): State<AppState>,
    _: Admin,
    Query(query): Query<SiteQuery>,
) -> ApiResult<Json<Vec<DocumentInfo>>> {
    let site = site_of(&state, &query).await?;
    Ok(Json(state.store.kb_documents(site).await?))
}

/// `POST /api/admin/knowledge`: adds or replaces one document.
pub(crate) async fn upload(
    State(state): State<AppState>,
    _: AdminWriting,
    Query(query): Query<SiteQuery>,
    Json(upload): Json<Upload>,
) -> ApiResult<Json<Uploaded>> {
    let site = site_of(&state, &query).await?;
    let name = upload.name.trim();
    let Some(format) = DocFormat::from_path(std::path::Path::new(name)) else {
        return Err(ApiError::new(
            ApiCode::Unsupported,
            "Knowledge must be Markdown, HTML or text (.md, .html, .txt).",
        ));
    };
    if upload.text.len() > MAX_UPLOAD_CHARS {
        return Err(ApiError::new(
            ApiCode::TooLarge,
            "A document may be at most 2 MB.",
        ));
    }
    let title = name
        .rsplit_once('.')
        .map_or(name, |(stem, _)| stem)
        .replace(['-', '_'], " ");
    let document = knowledge::document(&format!("upload:{name}"), format, &upload.text, &title);
    let chunks = document.chunks.len();
    let outcome = state.store.kb_put(site, document).await?;
    state.knowledge_changed.notify_one();
    Ok(Json(Uploaded { outcome, chunks }))
}

/// `POST /api/admin/knowledge/crawl`: crawls a help site and answers with the report.
pub(crate) async fn crawl(
    State(state): State<AppState>,
    _: AdminWriting,
    Query(query): Query<SiteQuery>,
    Json(request): Json<CrawlRequest>,
) -> ApiResult<Json<CrawlReport>> {
    let site = site_of(&state, &query).await?;
    let defaults = Limits::default();
    let limits = Limits {
        max_pages: request
            .max_pages
            .unwrap_or(defaults.max_pages)
            .clamp(1, MAX_CONSOLE_PAGES),
        max_depth: request.max_depth.unwrap_or(defaults.max_depth).min(10),
    };
    // Its own client: webhooks' does not follow redirects, a crawl must.
    let http = Outbound::new(&state.outbound, Redirects::SameOrigin, crawl::PAGE_TIMEOUT)
        .map_err(|err| ApiError::internal(&err))?;
    let report = crawl::crawl(
        &http,
        state.store.as_ref(),
        site,
        request.url.trim(),
        limits,
        |_, _| {},
    )
    .await
    .map_err(|err| match err {
        crawl::CrawlError::Store(err) => err.into(),
        other => ApiError::new(ApiCode::CrawlFailed, other.to_string()),
    })?;
    state.knowledge_changed.notify_one();
    Ok(Json(report))
}

/// `DELETE /api/admin/knowledge/{id}`.
pub(crate) async fn delete(
    State(state): State<AppState>,
    _: AdminWriting,
    Path(id): Path<i64>,
    Query(query): Query<SiteQuery>,
) -> ApiResult<StatusCode> {
    let site = site_of(&state, &query).await?;
    if !state.store.kb_delete(site, id).await? {
        return Err(ApiError::not_found("No such document."));
    }
    Ok(StatusCode::NO_CONTENT)
}
