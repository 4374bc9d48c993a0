//! Pages and files: the demo host page, the embed loader, the widget and the console.

use axum::Json;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use tower_http::services::ServeDir;

use crate::chat::bot::is_open;
use crate::error::{ApiError, ApiResult};
use crate::flow::profile::{LauncherIcon, Position};
use crate::state::AppState;
use porchlight_protocol::api::ApiCode;

/// The page a site owner's snippet is shown on: `examples/demo.html`.
const DEMO_PAGE: &str = include_str!("../../../examples/demo.html");
/// The same page with the chat starting at the AI agent: `examples/ai-demo.html`.
const AI_DEMO_PAGE: &str = include_str!("../../../examples/ai-demo.html");
/// The loader a site owner's `<script>` tag fetches.
const EMBED_JS: &str = include_str!("../../../widget/embed.js");
/// The page API the loader fetches when the page uses `window.Porchlight`.
const EMBED_API_JS: &str = include_str!("../../../widget/embed-api.js");

pub(crate) async fn demo_page() -> Response {
    html_page(DEMO_PAGE)
}

pub(crate) async fn ai_demo_page() -> Response {
    html_page(AI_DEMO_PAGE)
}

fn html_page(page: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        page,
    )
        .into_response()
}

pub(crate) async fn embed_js() -> Response {
    script(EMBED_JS)
}

pub(crate) async fn embed_api_js() -> Response {
    script(EMBED_API_JS)
}

fn script(body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}

#[derive(Serialize)]
pub(crate) struct Health {
    status: &'static str,
    visitors: usize,
    agents: usize,
}

pub(crate) async fn healthz(State(state): State<AppState>) -> Json<Health> {
    let (visitors, agents) = state.hub.counts();
    Json(Health {
        status: "ok",
        visitors,
        agents,
    })
}

#[derive(Deserialize)]
pub(crate) struct WidgetQuery {
    site: Option<String>,
}

/// What the loader needs to draw the launcher.
#[derive(Serialize)]
pub(crate) struct Launcher {
    /// Inside the profile's working hours.
    online: bool,
    colour: String,
    position: Position,
    launcher_icon: LauncherIcon,
    /// That icon as an SVG path (24×24), so the loader carries no drawings.
    icon: &'static str,
    title: String,
}

/// `GET /api/v1/sites/{key}/launcher`: whether the chat is open and how the launcher
/// looks, for the loader (and any page, e.g. to hide its own chat link out of hours).
/// Public and readable cross-origin: it holds nothing private.
#[utoipa::path(
    get,
    path = "/api/v1/sites/{key}/launcher",
    tag = "public",
    params(("key" = String, Path, description = "The site's key (data-site)")),
    responses(
        (status = 200, description = "`{online, colour, position, launcher_icon, icon, title}`; no key needed", content_type = "application/json"),
        (status = 404, description = "No site has this key", body = porchlight_protocol::api::ApiError),
    )
)]
pub(crate) async fn launcher(
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> ApiResult<Response> {
    let site = state
        .store
        .site_by_key(&key)
        .await?
        .ok_or_else(|| ApiError::new(ApiCode::UnknownSite, "No site has this key."))?;
    let flow = match site.default_profile_id {
        Some(id) => state
            .flows
            .get(state.store.as_ref(), id)
            .await
            .ok()
            .flatten(),
        None => None,
    };
    let appearance = flow
        .as_ref()
        .map(|flow| flow.profile.appearance.clone())
        .unwrap_or_default();
    let mut response = Json(Launcher {
        online: flow.as_deref().is_none_or(is_open),
        colour: appearance.colour,
        position: appearance.position,
        launcher_icon: appearance.launcher_icon,
        icon: appearance.launcher_icon.svg_path(),
        title: appearance.title,
    })
    .into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}

/// Who may frame the widget: the relay itself and the site's allowed origins.
pub(crate) fn frame_ancestors(allowed_origins: &[String]) -> String {
    if allowed_origins.iter().any(|origin| origin == "*") {
        return "frame-ancestors *".to_owned();
    }
    let mut policy = "frame-ancestors 'self'".to_owned();
    for origin in allowed_origins {
        // Only plain origins; anything that could smuggle another directive is dropped.
        let plain = origin
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b":/.-*".contains(&byte));
        if plain && !origin.is_empty() {
            policy.push(' ');
            policy.push_str(origin);
        }
    }
    policy
}

async fn index_html(path: &std::path::Path) -> Result<String, Response> {
    tokio::fs::read_to_string(path).await.map_err(|_| {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "{} is missing: build the web assets first (make run does).",
                path.display()
            ),
        )
            .into_response()
    })
}

fn html(body: String, csp: &str) -> Response {
    let mut response = (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(csp) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

/// `GET /widget/?site=KEY`: the widget app, framable only by the site's origins.
pub(crate) async fn widget_page(
    State(state): State<AppState>,
    Query(query): Query<WidgetQuery>,
) -> Response {
    let site = match query.site {
        Some(key) => state.store.site_by_key(&key).await.ok().flatten(),
        None => None,
    };
    let Some(site) = site else {
        return (
            StatusCode::NOT_FOUND,
            "Unknown site: check data-site on the script tag.",
        )
            .into_response();
    };
    // The site's origins and its chat profile's may frame the widget.
    let mut origins = site.allowed_origins.clone();
    if let Some(id) = site.default_profile_id
        && let Ok(Some(flow)) = state.flows.get(state.store.as_ref(), id).await
    {
        origins.extend(flow.profile.allowed_origins.iter().cloned());
    }
    match index_html(&state.config.assets_dir.join("widget/index.html")).await {
        Ok(body) => html(body, &frame_ancestors(&origins)),
        Err(response) => response,
    }
}

/// `GET /console/`: the agent console, never framed.
pub(crate) async fn console_page(State(state): State<AppState>) -> Response {
    match index_html(&state.config.assets_dir.join("console/index.html")).await {
        Ok(body) => never_framed(html(body, NO_FRAMING)),
        Err(response) => response,
    }
}

const NO_FRAMING: &str = "frame-ancestors 'none'";

/// Also says so to browsers that predate `frame-ancestors`.
fn never_framed(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

fn is_html(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value
                .trim_start()
                .to_ascii_lowercase()
                .starts_with("text/html")
        })
}

/// Every HTML response carries a framing policy: a page that sets none (the demo
/// pages, or any HTML a path spelling could reach) may not be framed at all.
pub(crate) async fn unframed_by_default(mut response: Response) -> Response {
    if is_html(response.headers())
        && !response
            .headers()
            .contains_key(header::CONTENT_SECURITY_POLICY)
    {
        response.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(NO_FRAMING),
        );
        response = never_framed(response);
    }
    response
}

/// `GET /widget/*` and `/console/*`: the built files (hashed names, so cached long).
pub(crate) async fn asset(State(state): State<AppState>, request: Request) -> Response {
    // Pages are served only by their own routes, with their frame-ancestors policy:
    // no spelling of a path (`//`, `/./`, `%69ndex.html`, a folder) reaches them here.
    let path = request.uri().path();
    if path.contains('%') || path.ends_with(".html") || path.ends_with('/') {
        return StatusCode::NOT_FOUND.into_response();
    }
    let mut files = ServeDir::new(&state.config.assets_dir)
        .append_index_html_on_directories(false)
        .precompressed_br()
        .precompressed_gzip();
    match files.try_call(request).await {
        Ok(response) if is_html(response.headers()) => StatusCode::NOT_FOUND.into_response(),
        Ok(mut response) => {
            if response.status().is_success() {
                response.headers_mut().insert(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=31536000, immutable"),
                );
            }
            response.into_response()
        }
        Err(err) => {
            tracing::error!(error = %err, "cannot read an asset");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

pub(crate) async fn console_redirect() -> Redirect {
    Redirect::permanent("/console/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_ancestors_lists_only_plain_origins() {
        assert_eq!(frame_ancestors(&[]), "frame-ancestors 'self'");
        assert_eq!(
            frame_ancestors(&["https://shop.example".into(), "x; script-src *".into()]),
            "frame-ancestors 'self' https://shop.example"
        );
        assert_eq!(frame_ancestors(&["*".into()]), "frame-ancestors *");
    }
}
