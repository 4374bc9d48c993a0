//! Reports for admins: `GET /api/reports?from=YYYY-MM-DD&to=YYYY-MM-DD` sums up the
//! chats started in the range from the store's sums per day;
//! `/api/reports/chats.csv` and `/api/reports/messages.csv` export them, streamed a
//! page at a time. The report is put together by `crate::reports`.

use std::sync::Arc;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use futures_util::{StreamExt, TryStreamExt};
use jiff::civil::Date;
use porchlight_protocol::api::reports::Report;

use crate::auth::Admin;
use crate::error::{ApiError, ApiResult};
use crate::reports::{
    CHATS_CSV_HEADER, Days, MESSAGES_CSV_HEADER, Range, chats_csv, messages_csv,
    report as report_of, utc_date,
};
use crate::state::AppState;
use crate::store::{ChatCursor, ChatRecord, Store, StoreError, now_ms};

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
    let (days, _, _) = range_of(&range)?;
    let (from, to) = days.day_numbers();
    let sums = state.store.report_sums(from, to).await?;
    Ok(Json(report_of(days, sums)))
}

/// Chats read per page of a report or an export: each page is one short read, and
/// memory holds a page at a time.
const PAGE: usize = 200;

/// Where the page after `chats` starts; none when `chats` was the last page (not full).
fn next_page(chats: &[ChatRecord]) -> Option<ChatCursor> {
    chats
        .last()
        .filter(|_| chats.len() == PAGE)
        .map(ChatRecord::cursor)
}

/// What an export lists.
#[derive(Clone, Copy)]
enum Export {
    Chats,
    Messages,
}

impl Export {
    fn name(self) -> &'static str {
        match self {
            Self::Chats => "chats",
            Self::Messages => "messages",
        }
    }

    fn header(self) -> &'static str {
        match self {
            Self::Chats => CHATS_CSV_HEADER,
            Self::Messages => MESSAGES_CSV_HEADER,
        }
    }

    /// Appends the CSV lines of a page of chats to `out`.
    async fn lines(
        self,
        store: &dyn Store,
        chats: &[ChatRecord],
        out: &mut String,
    ) -> Result<(), StoreError> {
        match self {
            Self::Chats => chats_csv(out, chats),
            Self::Messages => {
                let ids = chats.iter().map(|chat| chat.id).collect();
                messages_csv(out, &store.message_records(ids).await?);
            }
        }
        Ok(())
    }
}

/// An export written a page of chats at a time as the client reads it, so its memory
/// stays the same however many chats the range holds. The first page is read before
/// answering, so a store that fails at once gets an error response; a later failure
/// ends the download unfinished rather than short.
async fn export(state: AppState, range: &Range, export: Export) -> ApiResult<Response> {
    let (days, from, to) = range_of(range)?;
    let first = state.store.chat_records(from, to, None, PAGE).await?;
    let mut head = export.header().to_owned();
    export
        .lines(state.store.as_ref(), &first, &mut head)
        .await?;
    let pages = futures_util::stream::try_unfold(next_page(&first), move |after| {
        let store = Arc::clone(&state.store);
        async move {
            let Some(after) = after else {
                return Ok(None);
            };
            let chats = store.chat_records(from, to, Some(after), PAGE).await?;
            let next = next_page(&chats);
            let mut lines = String::new();
            export.lines(store.as_ref(), &chats, &mut lines).await?;
            Ok::<_, StoreError>(Some((Bytes::from(lines), next)))
        }
    })
    .inspect_err(|err| tracing::warn!("a CSV export stopped: {err}"));
    let body = futures_util::stream::once(async move { Ok(Bytes::from(head)) }).chain(pages);
    Ok(csv_response(Body::from_stream(body), export.name(), days))
}

fn csv_response(body: Body, name: &str, days: Days) -> Response {
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
    export(state, &range, Export::Chats).await
}

/// `GET /api/reports/messages.csv`.
pub(crate) async fn messages_export(
    State(state): State<AppState>,
    _: Admin,
    Query(range): Query<Range>,
) -> ApiResult<Response> {
    export(state, &range, Export::Messages).await
}
