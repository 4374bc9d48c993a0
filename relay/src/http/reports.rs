//! Reports for admins: `GET /api/reports?from=YYYY-MM-DD&to=YYYY-MM-DD` sums up the
//! chats started in the range; `/api/reports/chats.csv` and `/api/reports/messages.csv`
//! export them. The sums are `crate::reports`'.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use jiff::civil::Date;
use porchlight_protocol::api::reports::Report;

use crate::auth::Admin;
use crate::error::{ApiError, ApiResult};
use crate::reports::{Days, Range, chats_csv, messages_csv, summarise, utc_date};
use crate::state::AppState;
use crate::store::now_ms;

/// The range asked for, as days and `[start, end)` milliseconds.
fn range_of(range: &Range) -> ApiResult<(Days, i64, i64)> {
    let today = utc_date(now_ms()).unwrap_or(Date::constant(2026, 1, 1));
    let days = Days::parse(range, today).map_err(ApiError::invalid)?;
    let (from, to) = days.millis();
    Ok((days, from, to))
}

/// `GET /api/reports`.
pub(crate) async fn report(
    State(state): State<AppState>,
    _: Admin,
    Query(range): Query<Range>,
) -> ApiResult<Json<Report>> {
    let (days, from, to) = range_of(&range)?;
    let chats = state.store.chat_records(from, to).await?;
    Ok(Json(summarise(days, &chats)))
}

fn csv_response(body: String, name: &str, days: Days) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(value) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{name}-{}-to-{}.csv\"",
        days.from, days.to
    )) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// `GET /api/reports/chats.csv`.
pub(crate) async fn chats_export(
    State(state): State<AppState>,
    _: Admin,
    Query(range): Query<Range>,
) -> ApiResult<Response> {
    let (days, from, to) = range_of(&range)?;
    let chats = state.store.chat_records(from, to).await?;
    Ok(csv_response(chats_csv(&chats), "chats", days))
}

/// `GET /api/reports/messages.csv`.
pub(crate) async fn messages_export(
    State(state): State<AppState>,
    _: Admin,
    Query(range): Query<Range>,
) -> ApiResult<Response> {
    let (days, from, to) = range_of(&range)?;
    let messages = state.store.message_records(from, to).await?;
    Ok(csv_response(messages_csv(&messages), "messages", days))
}
