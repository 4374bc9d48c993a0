//! Who is calling: argon2 password hashes, random tokens stored hashed, the agent
//! behind a session cookie, the console's own origin, and (in [`extract`]) the
//! extractors that let a handler's signature say who may call it, and (in
//! [`client_ip`]) the address a request comes from. Signed links from a
//! site's server are checked in [`ticket_link`], the host page's claims about the
//! visitor in [`identity`].

pub mod api_key;
pub mod client_ip;
pub mod extract;
pub mod identity;
pub mod ticket_link;

pub use api_key::{ApiCaller, ApiReader, ApiWriter};
pub use client_ip::{ClientIp, Https};
pub use extract::{Admin, AdminWriting, LoggedIn, LoggedInWriting, SignedIn};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::http::{HeaderMap, header};
use sha2::{Digest, Sha256};

use crate::state::AppState;
use crate::store::{Agent, now_ms};

pub const SESSION_COOKIE: &str = "porchlight_session";

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

pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
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

pub fn session_token(headers: &HeaderMap) -> Option<&str> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

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
