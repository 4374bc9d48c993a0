//! Logging in and out of the console: `POST /api/login` sets an HttpOnly,
//! SameSite=Strict session cookie; `POST /api/logout` ends the session; `GET /api/me`
//! says who is logged in.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use porchlight_protocol::api::ApiCode;
use porchlight_protocol::api::session::{Login, Me};

use crate::auth::{
    LoggedIn, SESSION_COOKIE, random_token, same_origin, session_token, token_hash, verify_password,
};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::{Agent, now_ms};

const SESSION_DAYS: i64 = 14;

fn me(agent: &Agent) -> Json<Me> {
    Json(Me {
        id: agent.id,
        name: agent.name.clone(),
        email: agent.email.clone(),
        role: agent.role.as_str().to_owned(),
    })
}

/// `POST /api/login` with `{"email", "password"}`: sets the session cookie.
pub(crate) async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(request): Json<Login>,
) -> ApiResult<Response> {
    if !same_origin(&headers) {
        return Err(ApiError::new(
            ApiCode::BadOrigin,
            "Log in from the relay's own console.",
        ));
    }
    // Each attempt costs an argon2 hash: a bounded number run at once, and a flood is
    // turned away before it can crowd out the store's reads.
    let Ok(_permit) = state.login_permits.try_acquire() else {
        return Err(ApiError::new(
            ApiCode::RateLimited,
            "Too many login attempts at once; try again in a moment.",
        ));
    };
    let agent = state.store.agent_by_email(request.email.trim()).await?;
    // Verify against a real hash even for unknown emails, so timing does not tell
    // which emails exist.
    let hash = agent
        .as_ref()
        .map(|agent| agent.password_hash.clone())
        .unwrap_or_else(|| state.dummy_hash.to_string());
    let password = request.password;
    let valid = tokio::task::spawn_blocking(move || verify_password(&hash, &password))
        .await
        .unwrap_or(false);
    let Some(agent) = agent.filter(|_| valid) else {
        return Err(ApiError::new(
            ApiCode::BadCredentials,
            "The email or password is wrong.",
        ));
    };
    let token = random_token();
    let expires = now_ms() + SESSION_DAYS * 24 * 3600 * 1000;
    state
        .store
        .create_session(agent.id, token_hash(&token), expires)
        .await?;
    tracing::info!(agent = agent.id, "agent logged in");
    let cookie = format!(
        "{SESSION_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
        SESSION_DAYS * 24 * 3600
    );
    let mut response = me(&agent).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}

/// `POST /api/logout`: ends the session and clears the cookie.
pub(crate) async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = session_token(&headers)
        && let Err(err) = state.store.delete_session(&token_hash(token)).await
    {
        tracing::error!(error = %err, "cannot delete a session");
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "porchlight_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0",
        ),
    );
    response
}

/// `GET /api/me`: the logged-in agent, or 401.
pub(crate) async fn whoami(LoggedIn(agent): LoggedIn) -> Json<Me> {
    me(&agent)
}
