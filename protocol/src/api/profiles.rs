//! The Profiles page's bodies (`/api/profiles`): the list, a profile's text and
//! steps, and what a check found.

use serde::{Deserialize, Serialize};

/// A profile as the list shows it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProfileLine {
    pub id: i64,
    pub name: String,
    pub site: String,
    /// The site's chat profile.
    pub default: bool,
    pub updated_at: i64,
}

/// A step as the editor's table shows it.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq, Eq)]
pub struct StepLine {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub leads_to: Vec<String>,
    pub can_start_here: bool,
}

/// A problem a check found; `step` and `field` say where, when it is about one.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ProblemLine {
    /// `error` or `warning`.
    pub severity: String,
    pub step: Option<String>,
    pub field: Option<String>,
    pub message: String,
}

impl ProblemLine {
    /// "field: message", or the message alone.
    pub fn describe(&self) -> String {
        match &self.field {
            Some(field) => format!("{field}: {}", self.message),
            None => self.message.clone(),
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == "error"
    }
}

/// What a check found (`POST /api/profiles/check`), and the body of a refused save
/// (422).
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq, Eq)]
pub struct Checked {
    pub ok: bool,
    pub problems: Vec<ProblemLine>,
    pub steps: Vec<StepLine>,
}

/// A stored profile as the editor opens it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ProfileDoc {
    pub id: i64,
    pub name: String,
    pub site: String,
    pub default: bool,
    /// The profile as TOML (or JSON when asked).
    pub text: String,
    pub steps: Vec<StepLine>,
}

/// How a profile's text is written.
#[derive(Serialize, Deserialize, Debug, Default, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum TextFormat {
    #[default]
    Toml,
    Json,
}

/// A profile to check or save.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ProfileText {
    pub text: String,
    #[serde(default)]
    pub format: TextFormat,
    /// For a new profile: the site's key (default "demo").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    /// Make it the site's chat profile.
    #[serde(default)]
    pub make_default: bool,
}
