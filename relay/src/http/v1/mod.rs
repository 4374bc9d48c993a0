//! The REST API for the site's own servers, under `/api/v1`, with an API key. Each
//! handler documents itself (`#[utoipa::path]`), and [`routes`] builds the routes and
//! the OpenAPI document from the same list, so that neither can miss one. Bodies and
//! queries that do not parse get the one error shape (`bad_request`).

mod conversations;
mod docs;
mod setup;
mod tickets;
mod users;
mod webhooks;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::{Json, Router};
use porchlight_protocol::api::ApiCode;
use serde::de::DeserializeOwned;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::state::AppState;

pub(crate) use docs::{document, page};

/// The largest JSON body the API reads.
pub(super) const MAX_BODY_BYTES: usize = 64 * 1024;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Porchlight REST API",
        version = "1",
        description = "For the site's own servers. Authenticate with an API key made in the console (Sites → API keys) as `Authorization: Bearer plk_…`. Errors are `{code, message}`; a key's requests are limited (429 with Retry-After)."
    ),
    modifiers(&ApiKeyScheme),
    components(schemas(porchlight_protocol::api::ApiError)),
    paths(crate::http::pages::launcher, crate::http::uploads::upload)
)]
struct ApiDoc;

struct ApiKeyScheme;

impl Modify for ApiKeyScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        openapi
            .components
            .get_or_insert_default()
            .add_security_scheme(
                "api_key",
                SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
            );
    }
}

/// The key-authenticated routes, and the OpenAPI document of every `/api/v1` route.
pub(crate) fn routes() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut document) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(users::identify))
        .routes(routes!(conversations::list))
        .routes(routes!(conversations::one))
        .routes(routes!(
            conversations::messages,
            conversations::post_message
        ))
        .routes(routes!(tickets::create, tickets::list))
        .routes(routes!(tickets::one, tickets::update))
        .routes(routes!(tickets::note))
        .routes(routes!(setup::profiles))
        .routes(routes!(setup::knowledge))
        .routes(routes!(webhooks::list, webhooks::create))
        .routes(routes!(webhooks::one, webhooks::update, webhooks::delete))
        .routes(routes!(webhooks::rotate))
        .routes(routes!(webhooks::deliveries))
        .routes(routes!(webhooks::redeliver))
        .split_for_parts();
    add_key_refusals(&mut document);
    (router, document)
}

/// What any call with a key may be refused with, said once for every operation that
/// takes one (rather than on each handler): no or a bad key, too many requests, and
/// for a change, a read key.
fn add_key_refusals(document: &mut utoipa::openapi::OpenApi) {
    let refusal = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ApiError")))
                    .build(),
            )
            .build()
    };
    for item in document.paths.paths.values_mut() {
        let operations = [
            (&mut item.get, false),
            (&mut item.post, true),
            (&mut item.put, true),
            (&mut item.patch, true),
            (&mut item.delete, true),
        ];
        for (operation, writes) in operations {
            let Some(operation) = operation.as_mut().filter(|op| op.security.is_some()) else {
                continue;
            };
            let responses = &mut operation.responses.responses;
            let mut refused = |status: &str, description: &str| {
                responses
                    .entry(status.to_owned())
                    .or_insert_with(|| refusal(description).into());
            };
            refused(
                "401",
                "No key (api_key_required), or an unknown or revoked one (api_key_invalid)",
            );
            refused(
                "429",
                "Too many requests with this key (rate_limited); see Retry-After",
            );
            if writes {
                refused("403", "A read key (read_only_key)");
            }
        }
    }
}

/// A page's size unless asked, and at most.
const PAGE: usize = 50;
const MAX_PAGE: usize = 200;

fn page_size(limit: Option<usize>) -> Result<usize, ApiError> {
    match limit {
        None => Ok(PAGE),
        Some(limit) if (1..=MAX_PAGE).contains(&limit) => Ok(limit),
        Some(_) => Err(ApiError::invalid(format!("limit is 1 to {MAX_PAGE}."))),
    }
}

/// A `cursor` as the id below which the next page starts.
fn cursor_of(cursor: Option<&str>) -> Result<Option<i64>, ApiError> {
    cursor
        .map(|text| {
            text.parse::<i64>()
                .map_err(|_| ApiError::new(ApiCode::BadRequest, "That cursor is not one of ours."))
        })
        .transpose()
}

/// A JSON body, refused in the API's own error shape.
pub(crate) struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let too_large = || {
            ApiError::new(
                ApiCode::TooLarge,
                format!("Bodies are at most {MAX_BODY_BYTES} bytes."),
            )
        };
        let headers = request.headers().clone();
        let bytes = match Bytes::from_request(request, state).await {
            Ok(bytes) => bytes,
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(too_large());
            }
            Err(rejection) => {
                return Err(ApiError::new(ApiCode::BadRequest, rejection.body_text()));
            }
        };
        // Text with a NUL is refused here, alike on both stores (PostgreSQL cannot
        // store one; SQLite would).
        let holds_nul = escapes_nul(&bytes);
        let mut again = Request::new(axum::body::Body::from(bytes));
        *again.headers_mut() = headers;
        match Json::<T>::from_request(again, state).await {
            Ok(_) if holds_nul => Err(ApiError::invalid("Text must not contain NUL characters.")),
            Ok(Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(ApiError::new(ApiCode::BadRequest, rejection.body_text())),
        }
    }
}

/// Whether JSON text holds a NUL character: written `\u0000` (JSON has no other way),
/// with the backslash not itself escaped.
fn escapes_nul(json: &[u8]) -> bool {
    json.windows(6).enumerate().any(|(at, window)| {
        window == b"\\u0000"
            && json[..at]
                .iter()
                .rev()
                .take_while(|&&byte| byte == b'\\')
                .count()
                % 2
                == 0
    })
}

/// An id in the path; one that is not a number (or too big to be one of ours) is
/// simply not found.
pub(crate) struct Id(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<i64>::from_request_parts(parts, state)
            .await
            .map(|Path(id)| Self(id))
            .map_err(|_| ApiError::not_found("No such thing."))
    }
}

/// Two ids in the path (a webhook and one of its deliveries), as [`Id`].
pub(crate) struct Ids(pub i64, pub i64);

impl<S: Send + Sync> FromRequestParts<S> for Ids {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<(i64, i64)>::from_request_parts(parts, state)
            .await
            .map(|Path((first, second))| Self(first, second))
            .map_err(|_| ApiError::not_found("No such thing."))
    }
}

/// A query string, refused in the API's own error shape.
pub(crate) struct Params<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(value)| Self(value))
            .map_err(|rejection| ApiError::new(ApiCode::BadRequest, rejection.body_text()))
    }
}

#[cfg(test)]
mod tests {
    use super::escapes_nul;

    #[test]
    fn a_nul_is_found_only_where_json_escapes_one() {
        assert!(escapes_nul(br#"{"subject": "a\u0000b"}"#));
        assert!(escapes_nul(br#"{"subject": "a\\\u0000"}"#));
        assert!(!escapes_nul(br#"{"subject": "a\\u0000b"}"#));
        assert!(!escapes_nul(br#"{"subject": "a\u0001b"}"#));
    }
}
