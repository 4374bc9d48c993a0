//! The console's admin API for chat profiles: list, read, check, create and save.
//! Every handler checks the session and the admin role itself; writes also require
//! the console's own origin.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::auth::{Need, api_error, require};
use crate::flow::profile::RawStep;
use crate::flow::{self, Format, Problem, Profile, Severity};
use crate::server::AppState;
use crate::store::{StoreError, StoredProfile};

fn store_error(err: &StoreError) -> Response {
    match err {
        StoreError::NotFound => api_error(StatusCode::NOT_FOUND, "not_found", "No such profile."),
        StoreError::Duplicate => api_error(
            StatusCode::CONFLICT,
            "name_taken",
            "The site already has a profile with that name.",
        ),
        other => {
            tracing::error!(error = %other, "profile store failure");
            api_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "The relay could not do that; try again.",
            )
        }
    }
}

#[derive(Serialize)]
pub struct ProfileLine {
    id: i64,
    name: String,
    site: String,
    default: bool,
    updated_at: i64,
}

#[derive(Serialize, Debug, PartialEq, Eq)]
pub struct StepLine {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    leads_to: Vec<String>,
    can_start_here: bool,
}

#[derive(Serialize, Debug, PartialEq, Eq)]
pub struct ProblemLine {
    severity: &'static str,
    step: Option<String>,
    field: Option<&'static str>,
    message: String,
}

/// What the editor shows for a text: its steps and its problems.
#[derive(Serialize)]
pub struct Checked {
    ok: bool,
    problems: Vec<ProblemLine>,
    steps: Vec<StepLine>,
}

#[derive(Serialize)]
pub struct ProfileDoc {
    id: i64,
    name: String,
    site: String,
    default: bool,
    /// The profile as TOML (or JSON when asked).
    text: String,
    steps: Vec<StepLine>,
}

#[derive(Deserialize, Default, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub enum FormatName {
    #[default]
    Toml,
    Json,
}

impl From<FormatName> for Format {
    fn from(name: FormatName) -> Self {
        match name {
            FormatName::Toml => Format::Toml,
            FormatName::Json => Format::Json,
        }
    }
}

#[derive(Deserialize)]
pub struct ProfileBody {
    text: String,
    #[serde(default)]
    format: FormatName,
    /// For a new profile: the site's key (default "demo").
    site: Option<String>,
    /// Make it the site's chat profile.
    #[serde(default)]
    make_default: bool,
}

fn step_lines(steps: &[RawStep]) -> Vec<StepLine> {
    steps
        .iter()
        .map(|step| {
            let mut leads_to: Vec<String> = step
                .next
                .iter()
                .chain(&step.then)
                .chain(&step.otherwise)
                .cloned()
                .chain(step.choices.iter().map(|choice| choice.next.clone()))
                .collect();
            leads_to.dedup();
            StepLine {
                id: step.id.clone(),
                kind: match (&*step.kind, &step.action) {
                    ("action", Some(action)) => format!("action: {action}"),
                    (kind, _) => kind.to_owned(),
                },
                leads_to,
                can_start_here: step.can_start_here,
            }
        })
        .collect()
}

fn problem_lines(problems: &[Problem]) -> Vec<ProblemLine> {
    problems
        .iter()
        .map(|problem| ProblemLine {
            severity: match problem.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            },
            step: problem.step.clone(),
            field: problem.field,
            message: problem.message.clone(),
        })
        .collect()
}

/// Parses and checks an editor text: the profile when it is valid, and what to show.
pub fn check_text(text: &str, format: Format) -> (Option<Profile>, Checked) {
    let profile = match Profile::parse(text, format) {
        Ok(profile) => profile,
        Err(err) => {
            return (
                None,
                Checked {
                    ok: false,
                    problems: vec![ProblemLine {
                        severity: "error",
                        step: None,
                        field: None,
                        message: err.0,
                    }],
                    steps: Vec::new(),
                },
            );
        }
    };
    let steps = step_lines(&profile.steps);
    match flow::compile(profile.clone()) {
        Ok((_, warnings)) => (
            Some(profile),
            Checked {
                ok: true,
                problems: problem_lines(&warnings),
                steps,
            },
        ),
        Err(problems) => (
            None,
            Checked {
                ok: false,
                problems: problem_lines(&problems),
                steps,
            },
        ),
    }
}

async fn document(
    state: &AppState,
    stored: StoredProfile,
    format: Format,
) -> Result<ProfileDoc, StoreError> {
    let site = state
        .store
        .sites()
        .await?
        .into_iter()
        .find(|site| site.id == stored.site_id);
    let profile = Profile::parse(&stored.definition, Format::Json).ok();
    Ok(ProfileDoc {
        id: stored.id,
        name: stored.name,
        default: site
            .as_ref()
            .is_some_and(|site| site.default_profile_id == Some(stored.id)),
        site: site.map(|site| site.key).unwrap_or_default(),
        text: profile
            .as_ref()
            .map(|profile| profile.render(format))
            .unwrap_or(stored.definition),
        steps: profile
            .map(|profile| step_lines(&profile.steps))
            .unwrap_or_default(),
    })
}

/// `GET /api/profiles`
pub async fn list(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(response) = require(&state, &headers, Need::Admin).await {
        return response;
    }
    let (sites, profiles) = match (state.store.sites().await, state.store.all_profiles().await) {
        (Ok(sites), Ok(profiles)) => (sites, profiles),
        (Err(err), _) | (_, Err(err)) => return store_error(&err),
    };
    let lines: Vec<ProfileLine> = profiles
        .into_iter()
        .map(|profile| {
            let site = sites.iter().find(|site| site.id == profile.site_id);
            ProfileLine {
                id: profile.id,
                name: profile.name,
                default: site.is_some_and(|site| site.default_profile_id == Some(profile.id)),
                site: site.map(|site| site.key.clone()).unwrap_or_default(),
                updated_at: profile.updated_at,
            }
        })
        .collect();
    Json(lines).into_response()
}

/// `GET /api/profiles/{id}`
pub async fn read(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Response {
    if let Err(response) = require(&state, &headers, Need::Admin).await {
        return response;
    }
    match state.store.profile(id).await {
        Ok(Some(stored)) => match document(&state, stored, Format::Toml).await {
            Ok(doc) => Json(doc).into_response(),
            Err(err) => store_error(&err),
        },
        Ok(None) => store_error(&StoreError::NotFound),
        Err(err) => store_error(&err),
    }
}

/// `POST /api/profiles/check`: the problems and steps of a text, nothing stored.
pub async fn check(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(body): Json<ProfileBody>,
) -> Response {
    if let Err(response) = require(&state, &headers, Need::Admin).await {
        return response;
    }
    Json(check_text(&body.text, body.format.into()).1).into_response()
}

fn invalid(checked: Checked) -> Response {
    (StatusCode::UNPROCESSABLE_ENTITY, Json(checked)).into_response()
}

/// `POST /api/profiles`: create (or replace the site's profile of the same name).
pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(body): Json<ProfileBody>,
) -> Response {
    if let Err(response) = require(&state, &headers, Need::AdminWriting).await {
        return response;
    }
    let (profile, checked) = check_text(&body.text, body.format.into());
    let Some(profile) = profile else {
        return invalid(checked);
    };
    let key = body.site.unwrap_or_else(|| "demo".into());
    let site = match state.store.site_by_key(&key).await {
        Ok(Some(site)) => site,
        Ok(None) => {
            return api_error(
                StatusCode::NOT_FOUND,
                "unknown_site",
                "No site has that key.",
            );
        }
        Err(err) => return store_error(&err),
    };
    let saved = state
        .store
        .save_profile(
            site.id,
            &profile.name,
            profile.render(Format::Json),
            body.make_default,
        )
        .await;
    match saved {
        Ok(stored) => match document(&state, stored, Format::Toml).await {
            Ok(doc) => (StatusCode::CREATED, Json(doc)).into_response(),
            Err(err) => store_error(&err),
        },
        Err(err) => store_error(&err),
    }
}

/// `PUT /api/profiles/{id}`: replace a profile; refused (422) with its problems when
/// the text is not valid, so nothing stored is ever broken.
pub async fn update(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Json(body): Json<ProfileBody>,
) -> Response {
    if let Err(response) = require(&state, &headers, Need::AdminWriting).await {
        return response;
    }
    let (profile, checked) = check_text(&body.text, body.format.into());
    let Some(profile) = profile else {
        return invalid(checked);
    };
    let updated = state
        .store
        .update_profile(id, &profile.name, profile.render(Format::Json))
        .await;
    if let (Ok(stored), true) = (&updated, body.make_default)
        && let Err(err) = state
            .store
            .set_default_profile(stored.site_id, stored.id)
            .await
    {
        return store_error(&err);
    }
    match updated {
        Ok(stored) => match document(&state, stored, Format::Toml).await {
            Ok(doc) => Json(doc).into_response(),
            Err(err) => store_error(&err),
        },
        Err(err) => store_error(&err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_syntax_error_is_one_problem_without_a_step() {
        let (profile, checked) = check_text("name = ", Format::Toml);
        assert!(profile.is_none());
        assert!(!checked.ok);
        assert_eq!(checked.problems.len(), 1);
        assert_eq!(checked.problems[0].step, None);
    }

    #[test]
    fn steps_list_their_type_and_where_they_lead_even_when_invalid() {
        let text = r#"
name = "t"
start = "a"
[[steps]]
id = "a"
type = "question"
text = "?"
choices = [{ label = "x", next = "b" }, { label = "y", next = "ghost" }]
[[steps]]
id = "b"
type = "action"
action = "end_chat"
"#;
        let (profile, checked) = check_text(text, Format::Toml);
        assert!(profile.is_none());
        assert_eq!(
            checked.steps,
            vec![
                StepLine {
                    id: "a".into(),
                    kind: "question".into(),
                    leads_to: vec!["b".into(), "ghost".into()],
                    can_start_here: false,
                },
                StepLine {
                    id: "b".into(),
                    kind: "action: end_chat".into(),
                    leads_to: vec![],
                    can_start_here: false,
                },
            ]
        );
        assert_eq!(checked.problems[0].step.as_deref(), Some("a"));
        assert_eq!(checked.problems[0].field, Some("choices"));
    }
}
