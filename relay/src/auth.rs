//! Agent login: argon2 password hashes, random session tokens stored hashed, and an
//! HttpOnly SameSite=Strict cookie.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::server::AppState;
use crate::store::{Agent, Role, now_ms};

pub const SESSION_COOKIE: &str = "porchlight_session";
const SESSION_DAYS: i64 = 14;

/// Hashes a password with argon2id and a random salt (PHC string).
pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::encode_b64(&random_bytes::<16>())?;
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    // The OS random source failing is unrecoverable: no safe token can be made.
    getrandom::fill(&mut bytes).expect("the OS random number generator is unavailable");
    bytes
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// A fresh secret: 32 random bytes, hex.
pub fn random_token() -> String {
    hex(&random_bytes::<32>())
}

/// A readable one-time password (no look-alike characters).
pub fn random_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    random_bytes::<16>()
        .iter()
        .map(|byte| ALPHABET[usize::from(*byte) % ALPHABET.len()] as char)
        .collect()
}

/// What is stored for a token: its SHA-256, so a leaked database holds no live token.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// A token as [`random_token`] makes them; anything else is not looked up.
pub fn is_token(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|byte| byte.is_ascii_hexdigit())
}

fn session_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value)
        .filter(|value| is_token(value))
}

/// The logged-in agent, from the session cookie.
pub async fn current_agent(state: &AppState, headers: &HeaderMap) -> Option<Agent> {
    let token = session_token(headers)?;
    state
        .store
        .agent_by_session(&token_hash(token), now_ms())
        .await
        .ok()
        .flatten()
}

/// True when a browser's `Origin` is this relay's own. Requests without one come from
/// non-browser clients, which cannot carry a victim's cookies.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|origin| origin.split_once("://"))
        .map(|(_, rest)| rest);
    matches!((origin_host, host), (Some(a), Some(b)) if a.eq_ignore_ascii_case(b))
}

#[derive(Deserialize)]
pub struct LoginRequest {
    email: String,
    password: String,
}

#[derive(Serialize)]
pub struct ApiError {
    code: &'static str,
    message: std::borrow::Cow<'static, str>,
}

/// Who may call an API handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Any logged-in agent, reading.
    Agent,
    /// Any logged-in agent, changing something: only from the console's own origin.
    AgentWriting,
    /// An admin, reading.
    Admin,
    /// An admin, changing something: also only from the console's own origin.
    AdminWriting,
}

/// The logged-in agent if they may call the handler, else the answer to send.
pub async fn require(state: &AppState, headers: &HeaderMap, need: Need) -> Result<Agent, Response> {
    if matches!(need, Need::AdminWriting | Need::AgentWriting) && !same_origin(headers) {
        return Err(api_error(
            StatusCode::FORBIDDEN,
            "bad_origin",
            "Make changes from the relay's own console.",
        ));
    }
    match current_agent(state, headers).await {
        None => Err(api_error(
            StatusCode::UNAUTHORIZED,
            "login_required",
            "Log in first.",
        )),
        Some(agent)
            if matches!(need, Need::Admin | Need::AdminWriting) && agent.role != Role::Admin =>
        {
            Err(api_error(
                StatusCode::FORBIDDEN,
                "admin_only",
                "Only admins can do that.",
            ))
        }
        Some(agent) => Ok(agent),
    }
}

pub fn api_error(status: StatusCode, code: &'static str, message: &'static str) -> Response {
    api_error_text(status, code, message.into())
}

/// [`api_error`] with a sentence made for the case (a provider's or crawler's failure).
pub fn api_error_text(status: StatusCode, code: &'static str, message: String) -> Response {
    (
        status,
        Json(ApiError {
            code,
            message: message.into(),
        }),
    )
        .into_response()
}

#[derive(Serialize)]
struct Me {
    id: i64,
    name: String,
    email: String,
    role: &'static str,
}

fn me(agent: &Agent) -> Json<Me> {
    Json(Me {
        id: agent.id,
        name: agent.name.clone(),
        email: agent.email.clone(),
        role: agent.role.as_str(),
    })
}

/// `POST /api/login` with `{"email", "password"}`: sets the session cookie.
pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(request): Json<LoginRequest>,
) -> Response {
    if !same_origin(&headers) {
        return api_error(
            StatusCode::FORBIDDEN,
            "bad_origin",
            "Log in from the relay's own console.",
        );
    }
    // Each attempt costs an argon2 hash: a bounded number run at once, and a flood is
    // turned away before it can crowd out the store's reads.
    let Ok(_permit) = state.login_permits.try_acquire() else {
        return api_error(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "Too many login attempts at once; try again in a moment.",
        );
    };
    let agent = state.store.agent_by_email(request.email.trim()).await;
    let agent = match agent {
        Ok(agent) => agent,
        Err(err) => {
            tracing::error!(error = %err, "login lookup failed");
            return api_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "The relay could not check the login.",
            );
        }
    };
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
        return api_error(
            StatusCode::UNAUTHORIZED,
            "bad_credentials",
            "The email or password is wrong.",
        );
    };
    let token = random_token();
    let expires = now_ms() + SESSION_DAYS * 24 * 3600 * 1000;
    if let Err(err) = state
        .store
        .create_session(agent.id, token_hash(&token), expires)
        .await
    {
        tracing::error!(error = %err, "cannot store a session");
        return api_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "The relay could not start a session.",
        );
    }
    tracing::info!(agent = agent.id, "agent logged in");
    let cookie = format!(
        "{SESSION_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
        SESSION_DAYS * 24 * 3600
    );
    let mut response = me(&agent).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// `POST /api/logout`: ends the session and clears the cookie.
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
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
pub async fn whoami(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match current_agent(&state, &headers).await {
        Some(agent) => me(&agent).into_response(),
        None => api_error(StatusCode::UNAUTHORIZED, "login_required", "Log in first."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_own_hash() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password(&hash, "correct horse"));
        assert!(!verify_password(&hash, "wrong horse"));
        assert!(!verify_password("not a hash", "correct horse"));
    }

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let (a, b) = (random_token(), random_token());
        assert_ne!(a, b);
        assert!(is_token(&a));
        assert!(!is_token("short"));
        assert_ne!(token_hash(&a), a);
        assert_eq!(token_hash(&a), token_hash(&a));
        assert_eq!(random_password().len(), 16);
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let token = random_token();
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("theme=dark; {SESSION_COOKIE}={token}; x=1")).unwrap(),
        );
        assert_eq!(session_token(&headers), Some(token.as_str()));
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("porchlight_session=../../etc"),
        );
        assert_eq!(session_token(&headers), None);
    }

    #[test]
    fn only_the_relays_own_origin_is_same_origin() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8080"));
        assert!(same_origin(&headers), "no Origin: not a browser");
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://127.0.0.1:8080"),
        );
        assert!(same_origin(&headers));
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(!same_origin(&headers));
    }
}
