//! The REST API's OpenAPI 3.1 document (`GET /api/v1/openapi.json`), generated from
//! the handlers, and a page that renders it (`GET /api/v1/docs`) with nothing loaded
//! from elsewhere.

use std::sync::LazyLock;

use axum::http::header;
use axum::response::{IntoResponse, Response};

static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
    super::routes()
        .1
        .to_pretty_json()
        .unwrap_or_else(|_| "{}".into())
});

const PAGE: &str = include_str!("docs.html");

pub(crate) async fn document() -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ],
        DOCUMENT.as_str(),
    )
        .into_response()
}

pub(crate) async fn page() -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], PAGE).into_response()
}
