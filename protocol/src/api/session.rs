//! Logging in to the console (`/api/login`, `/api/me`).

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
}

impl Me {
    pub fn is_admin(&self) -> bool {
        self.role == "admin"
    }
}
