//! The console's API for chat profiles (admins): list, read, check, create and save.
//! A text that is not a valid profile is never stored: it is answered 422 with every
//! problem, each placed at its step.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use porchlight_protocol::api::ApiCode;
use porchlight_protocol::api::profiles::{
    Checked, ProblemLine, ProfileDoc, ProfileLine, ProfileText, StepLine, TextFormat,
};

use crate::auth::{Admin, AdminWriting};
use crate::error::{ApiError, ApiResult};
use crate::flow::profile::RawStep;
use crate::flow::{self, Format, Problem, Profile, Severity};
use crate::profiles::webhook_problems;
use crate::server::DEMO_SITE_KEY;
use crate::state::AppState;
use crate::store::{StoreError, StoredProfile};

fn refused(err: StoreError) -> ApiError {
    match err {
        StoreError::NotFound => ApiError::not_found("No such profile."),
        StoreError::Duplicate => ApiError::new(
            ApiCode::NameTaken,
            "The site already has a profile with that name.",
        ),
        other => other.into(),
    }
}

fn format_of(format: TextFormat) -> Format {
    match format {
        TextFormat::Toml => Format::Toml,
        TextFormat::Json => Format::Json,
    }
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
            }
            .to_owned(),
            step: problem.step.clone(),
            field: problem.field.map(str::to_owned),
            message: problem.message.clone(),
        })
        .collect()
}

/// Parses and checks an editor text: the profile when it is valid, and what to show.
pub(crate) fn check_text(text: &str, format: Format) -> (Option<Profile>, Checked) {
    let profile = match Profile::parse(text, format) {
        Ok(profile) => profile,
        Err(err) => {
            return (
                None,
                Checked {
                    ok: false,
                    problems: vec![ProblemLine {
                        severity: "error".to_owned(),
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

/// [`check_text`], then where its webhooks point, as the relay would call them.
async fn check_all(state: &AppState, body: &ProfileText) -> (Option<Profile>, Checked) {
    let (profile, mut checked) = check_text(&body.text, format_of(body.format));
    let Some(valid) = profile else {
        return (None, checked);
    };
    let webhooks = webhook_problems(&valid, &state.outbound).await;
    let refused = webhooks
        .iter()
        .any(|problem| problem.severity == Severity::Error);
    checked.problems.extend(problem_lines(&webhooks));
    if refused {
        checked.ok = false;
        return (None, checked);
    }
    (Some(valid), checked)
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
pub(crate) async fn list(
    State(state): State<AppState>,
    _: Admin,
) -> ApiResult<Json<Vec<ProfileLine>>> {
    let sites = state.store.sites().await?;
    let profiles = state.store.all_profiles().await?;
    let lines = profiles
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
    Ok(Json(lines))
}

/// `GET /api/profiles/{id}`
pub(crate) async fn read(
    State(state): State<AppState>,
    _: Admin,
    Path(id): Path<i64>,
) -> ApiResult<Json<ProfileDoc>> {
    let stored = state
        .store
        .profile(id)
        .await?
        .ok_or_else(|| refused(StoreError::NotFound))?;
    Ok(Json(document(&state, stored, Format::Toml).await?))
}

/// `POST /api/profiles/check`: the problems and steps of a text, nothing stored.
pub(crate) async fn check(
    State(state): State<AppState>,
    _: Admin,
    Json(body): Json<ProfileText>,
) -> Json<Checked> {
    Json(check_all(&state, &body).await.1)
}

/// Why a save was refused: the text's problems (422, as a check shows them), or an
/// error in the one shape.
pub(crate) enum Refused {
    Problems(Box<Checked>),
    Error(ApiError),
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Self::Problems(checked) => {
                (StatusCode::UNPROCESSABLE_ENTITY, Json(*checked)).into_response()
            }
            Self::Error(err) => err.into_response(),
        }
    }
}

impl<E: Into<ApiError>> From<E> for Refused {
    fn from(err: E) -> Self {
        Self::Error(err.into())
    }
}

/// A valid profile from the text, or its problems.
async fn valid(state: &AppState, body: &ProfileText) -> Result<Profile, Refused> {
    let (profile, checked) = check_all(state, body).await;
    profile.ok_or_else(|| Refused::Problems(Box::new(checked)))
}

/// `POST /api/profiles`: create (or replace the site's profile of the same name).
pub(crate) async fn create(
    State(state): State<AppState>,
    _: AdminWriting,
    Json(body): Json<ProfileText>,
) -> Result<(StatusCode, Json<ProfileDoc>), Refused> {
    let profile = valid(&state, &body).await?;
    let key = body.site.unwrap_or_else(|| DEMO_SITE_KEY.into());
    let site = super::sites::by_key(&state, &key).await?;
    let stored = state
        .store
        .save_profile(
            site.id,
            &profile.name,
            profile.render(Format::Json),
            body.make_default,
        )
        .await
        .map_err(refused)?;
    let doc = document(&state, stored, Format::Toml).await?;
    Ok((StatusCode::CREATED, Json(doc)))
}

/// `PUT /api/profiles/{id}`: replace a profile; refused (422) with its problems when
/// the text is not valid, so nothing stored is ever broken.
pub(crate) async fn update(
    State(state): State<AppState>,
    _: AdminWriting,
    Path(id): Path<i64>,
    Json(body): Json<ProfileText>,
) -> Result<Json<ProfileDoc>, Refused> {
    let profile = valid(&state, &body).await?;
    let stored = state
        .store
        .update_profile(id, &profile.name, profile.render(Format::Json))
        .await
        .map_err(refused)?;
    if body.make_default {
        state
            .store
            .set_default_profile(stored.site_id, stored.id)
            .await?;
    }
    Ok(Json(document(&state, stored, Format::Toml).await?))
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
        assert_eq!(checked.problems[0].field.as_deref(), Some("choices"));
    }
}
