//! Logging in and out of the console: `POST /api/login` sets an HttpOnly,
//! SameSite=Strict session cookie; `POST /api/logout` ends the session; `GET /api/me`
//! says who is logged in; `POST /api/password` replaces the agent's password (a
//! one-time password must be replaced before anything else works).

use std::time::Instant;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use porchlight_protocol::api::ApiCode;
use porchlight_protocol::api::session::{Login, Me, PasswordChange, weak_password};

use crate::auth::{
    ClientIp, Https, SESSION_COOKIE, SignedIn, current_agent, hash_password, random_token,
    same_origin, session_token, token_hash, verify_password,
};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::{Agent, now_ms};
use crate::throttle::retry_in;

const SESSION_DAYS: i64 = 14;

fn me(agent: &Agent) -> Json<Me> {
    Json(Me {
        id: agent.id,
        name: agent.name.clone(),
        email: agent.email.clone(),
        role: agent.role.as_str().to_owned(),
        must_change_password: agent.must_change_password,
    })
}

/// `POST /api/login` with `{"email", "password"}`: sets the session cookie.
pub(crate) async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Https(https): Https,
    headers: HeaderMap,
    Json(request): Json<Login>,
) -> ApiResult<Response> {
    if !same_origin(&headers) {
        return Err(ApiError::new(
            ApiCode::BadOrigin,
            "Log in from the relay's own console.",
        ));
    }
    let account = request.email.trim().to_ascii_lowercase();
    // While an account or an address must wait, no password is tried at all: the
    // right one does not work either, so waiting is the only way on.
    let throttles = &state.throttles;
    let now = Instant::now();
    let waits = [
        throttles.logins_per_account.check(&account, now),
        throttles.logins_per_ip.check(&ip, now),
    ];
    if let Some(wait) = waits.iter().filter_map(|wait| wait.err()).max() {
        return Err(ApiError::new(
            ApiCode::RateLimited,
            format!("Too many wrong passwords; try again {}.", retry_in(wait)),
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
    let Some(agent) = checked(&state, &account, request.password).await? else {
        // The wait runs from the answer, not from the start of the (slow) check.
        let now = Instant::now();
        let (failures, wait) = throttles.logins_per_account.failed(&account, now);
        let (from_ip, ip_wait) = throttles.logins_per_ip.failed(&ip, now);
        if !wait.is_zero() || !ip_wait.is_zero() {
            tracing::warn!(%account, %ip, failures, from_ip, "wrong passwords: logins slowed down");
        }
        return Err(ApiError::new(
            ApiCode::BadCredentials,
            "The email or password is wrong.",
        ));
    };
    throttles.logins_per_account.succeeded(&account);
    usable(&agent)?;
    tracing::info!(agent = agent.id, "agent logged in");
    with_new_session(&state, &agent, https).await
}

/// The right password is not enough for a deactivated account, nor for a one-time
/// password that was not used in time.
fn usable(agent: &Agent) -> ApiResult<()> {
    if !agent.active {
        return Err(ApiError::new(
            ApiCode::AccountInactive,
            "This account is deactivated; an admin can turn it on again.",
        ));
    }
    if agent.must_change_password
        && agent
            .password_expires_at
            .is_some_and(|expires| expires < now_ms())
    {
        return Err(ApiError::new(
            ApiCode::PasswordExpired,
            "This one-time password has expired; ask an admin for a new one.",
        ));
    }
    Ok(())
}

/// A new session for `agent`: the answer says who they are and sets its cookie.
async fn with_new_session(state: &AppState, agent: &Agent, https: bool) -> ApiResult<Response> {
    let token = random_token();
    let expires = now_ms() + SESSION_DAYS * 24 * 3600 * 1000;
    state
        .store
        .create_session(agent.id, token_hash(&token), expires)
        .await?;
    let secure = if https { "; Secure" } else { "" };
    let cookie = format!(
        "{SESSION_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{secure}",
        SESSION_DAYS * 24 * 3600
    );
    let mut response = me(agent).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}

/// `POST /api/password` with `{"current", "new"}`: the agent's own password. Every
/// session and console of the agent ends; this browser gets a new session.
pub(crate) async fn change_password(
    State(state): State<AppState>,
    SignedIn(agent): SignedIn,
    Https(https): Https,
    headers: HeaderMap,
    Json(change): Json<PasswordChange>,
) -> ApiResult<Response> {
    if !same_origin(&headers) {
        return Err(ApiError::new(
            ApiCode::BadOrigin,
            "Change your password from the relay's own console.",
        ));
    }
    let account = agent.email.to_ascii_lowercase();
    let throttles = &state.throttles;
    if let Err(wait) = throttles.logins_per_account.check(&account, Instant::now()) {
        return Err(ApiError::new(
            ApiCode::RateLimited,
            format!("Too many wrong passwords; try again {}.", retry_in(wait)),
        ));
    }
    if let Some(problem) = weak_password(&change.new, &change.current) {
        return Err(ApiError::invalid(problem));
    }
    let hash = agent.password_hash.clone();
    let current = change.current;
    let valid = tokio::task::spawn_blocking(move || verify_password(&hash, &current))
        .await
        .unwrap_or(false);
    if !valid {
        throttles
            .logins_per_account
            .failed(&account, Instant::now());
        return Err(ApiError::new(
            ApiCode::BadCredentials,
            "The current password is wrong.",
        ));
    }
    let new = change.new;
    let hash = tokio::task::spawn_blocking(move || hash_password(&new))
        .await
        .map_err(|err| ApiError::internal(&err))?
        .map_err(|err| ApiError::internal(&err))?;
    state.store.set_password(agent.id, hash, None).await?;
    state.hub.drop_agent(agent.id);
    tracing::info!(
        agent = agent.id,
        "agent chose a new password; their sessions ended"
    );
    let agent = Agent {
        must_change_password: false,
        password_expires_at: None,
        ..agent
    };
    with_new_session(&state, &agent, https).await
}

/// The agent whose email and password these are.
async fn checked(state: &AppState, email: &str, password: String) -> ApiResult<Option<Agent>> {
    let agent = state.store.agent_by_email(email).await?;
    // Verify against a real hash even for unknown emails, so timing does not tell
    // which emails exist.
    let hash = agent
        .as_ref()
        .map(|agent| agent.password_hash.clone())
        .unwrap_or_else(|| state.dummy_hash.to_string());
    let valid = tokio::task::spawn_blocking(move || verify_password(&hash, &password))
        .await
        .unwrap_or(false);
    Ok(agent.filter(|_| valid))
}

/// `POST /api/logout`: ends the session and clears the cookie.
pub(crate) async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = session_token(&headers) {
        let agent = current_agent(&state, &headers).await;
        if let Err(err) = state.store.delete_session(&token_hash(token)).await {
            tracing::error!(error = %err, "cannot delete a session");
        }
        // The agent's open consoles close at once; those of other sessions reconnect
        // on their own cookie, this one's cannot.
        if let Some(agent) = agent {
            state.hub.drop_agent(agent.id);
        }
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
pub(crate) async fn whoami(SignedIn(agent): SignedIn) -> Json<Me> {
    me(&agent)
}
