//! Every HTTP handler's errors become a response here, in one shape: the status, a
//! stable code ([`ApiCode`]) and a sentence for people. Store failures map in one
//! place; what went wrong inside the relay goes to the log, never to the client.

use std::borrow::Cow;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use porchlight_protocol::api::ApiCode;

use crate::store::StoreError;

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: ApiCode,
    message: Cow<'static, str>,
    /// Seconds to wait, sent as `Retry-After` (with `rate_limited`).
    retry_after: Option<u64>,
}

impl ApiError {
    /// An error with the code's own status.
    pub fn new(code: ApiCode, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            status: StatusCode::from_u16(code.status()).unwrap_or(StatusCode::BAD_REQUEST),
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// The same error telling the client when to try again.
    pub fn retry_after(mut self, wait: std::time::Duration) -> Self {
        self.retry_after = Some(wait.as_secs().max(1));
        self
    }

    /// The same error with another status (an AI failure that is the caller's setup).
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    pub fn not_found(message: &'static str) -> Self {
        Self::new(ApiCode::NotFound, message)
    }

    pub fn invalid(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ApiCode::Invalid, message)
    }

    /// The relay failed: `err` goes to the log, the client reads a plain sentence.
    pub fn internal(err: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %err, "request failed");
        Self::new(ApiCode::Internal, "The relay could not do that; try again.")
    }

    pub fn code(&self) -> ApiCode {
        self.code
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => Self::not_found("No such thing, or not one you may see."),
            StoreError::ConversationEnded => {
                Self::new(ApiCode::ConversationEnded, "This conversation has ended.")
            }
            StoreError::NotJoined => {
                Self::new(ApiCode::NotJoined, "Only an agent in the chat can do that.")
            }
            StoreError::Duplicate => Self::new(ApiCode::NameTaken, "That name is already taken."),
            StoreError::LastAdmin => Self::new(ApiCode::LastAdmin, "Keep at least one admin."),
            StoreError::NulInText => Self::invalid("Text must not contain NUL characters."),
            other => Self::internal(&other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = porchlight_protocol::api::ApiError {
            code: self.code.as_str().to_owned(),
            message: self.message.into_owned(),
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// What a handler returns: a JSON answer, or an error in the one shape.
pub type ApiResult<T> = Result<T, ApiError>;
