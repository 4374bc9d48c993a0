//! Logging in to the console (`/api/login`, `/api/me`) and choosing a password
//! (`/api/password`).

use serde::{Deserialize, Serialize};

/// `POST /api/login`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Login {
    pub email: String,
    pub password: String,
}

/// The logged-in agent: the answer to a login and to `GET /api/me`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Me {
    pub id: i64,
    pub name: String,
    pub email: String,
    /// `admin` or `agent`.
    pub role: String,
    /// Logged in with a one-time password: the console asks for a new one first.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub must_change_password: bool,
}

/// `POST /api/password`: the agent's own new password, with the current one.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current: String,
    pub new: String,
}

/// The shortest password the relay takes.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// Why a new password is not taken, in words; `None` when it is fine.
pub fn weak_password(new: &str, current: &str) -> Option<&'static str> {
    if new.chars().count() < MIN_PASSWORD_CHARS {
        Some("Choose a password of at least 10 characters.")
    } else if new == current {
        Some("Choose a password other than the one-time password.")
    } else if new.chars().count() > 512 {
        Some("Choose a password of at most 512 characters.")
    } else {
        None
    }
}

impl Me {
    pub fn is_admin(&self) -> bool {
        self.role == "admin"
    }
}
