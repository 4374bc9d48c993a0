//! Who may call a handler, said by its signature: a handler that takes [`Admin`] runs
//! only for a logged-in admin (who has chosen their own password; only [`SignedIn`]
//! lets one who must still do so through); one that takes [`AdminWriting`] also only for a request
//! from the relay's own console (a cross-site form or script cannot make changes with
//! an admin's cookie). Each is checked before the handler runs; a refusal is an
//! [`ApiError`].

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use porchlight_protocol::api::ApiCode;

use super::{current_agent, same_origin};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{Agent, Role};

/// Any agent with a session, also one who must first replace a one-time password
/// (for `/api/me` and `/api/password` only).
pub struct SignedIn(pub Agent);

/// Any logged-in agent, reading.
pub struct LoggedIn(pub Agent);

/// Any logged-in agent, changing something, from the console's own origin.
pub struct LoggedInWriting(pub Agent);

/// An admin, reading.
pub struct Admin(pub Agent);

/// An admin, changing something, from the console's own origin.
pub struct AdminWriting(pub Agent);

fn from_console(parts: &Parts) -> Result<(), ApiError> {
    if same_origin(&parts.headers) {
        Ok(())
    } else {
        Err(ApiError::new(
            ApiCode::BadOrigin,
            "Make changes from the relay's own console.",
        ))
    }
}

async fn signed_in(parts: &Parts, state: &AppState) -> Result<Agent, ApiError> {
    current_agent(state, &parts.headers)
        .await
        .ok_or_else(|| ApiError::new(ApiCode::LoginRequired, "Log in first."))
}

/// Signed in, with a password of their own.
async fn logged_in(parts: &Parts, state: &AppState) -> Result<Agent, ApiError> {
    let agent = signed_in(parts, state).await?;
    if agent.must_change_password {
        return Err(ApiError::new(
            ApiCode::PasswordChangeRequired,
            "Choose your own password first.",
        ));
    }
    Ok(agent)
}

fn admin(agent: Agent) -> Result<Agent, ApiError> {
    if agent.role == Role::Admin {
        Ok(agent)
    } else {
        Err(ApiError::new(
            ApiCode::AdminOnly,
            "Only admins can do that.",
        ))
    }
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        signed_in(parts, state).await.map(Self)
    }
}

impl FromRequestParts<AppState> for LoggedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        logged_in(parts, state).await.map(Self)
    }
}

impl FromRequestParts<AppState> for LoggedInWriting {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        from_console(parts)?;
        logged_in(parts, state).await.map(Self)
    }
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        admin(logged_in(parts, state).await?).map(Self)
    }
}

impl FromRequestParts<AppState> for AdminWriting {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        from_console(parts)?;
        admin(logged_in(parts, state).await?).map(Self)
    }
}
