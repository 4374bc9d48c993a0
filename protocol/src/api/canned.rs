//! Canned texts (`/api/canned`).

use serde::{Deserialize, Serialize};

/// A canned text, as `GET /api/canned` lists it. `$NAME` (the visitor) and `$AGENT`
/// (the agent posting it) are filled when it is posted.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct CannedText {
    pub id: i64,
    pub group: String,
    pub title: String,
    pub body: String,
}

/// A canned text as an admin writes it (`POST /api/canned`, `PUT …/ID`); a blank group
/// is "General".
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct CannedForm {
    #[serde(default)]
    pub group: String,
    pub title: String,
    pub body: String,
}
