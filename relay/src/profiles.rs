//! Stored chat profiles as runnable flows: parsed and checked once per change, and
//! shared by every conversation that uses them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::flow::{self, Flow, Format, Problem, Profile, Severity};
use crate::outbound::{OutboundPolicy, Refused};
use crate::store::{Store, StoreError, StoredProfile};

/// The profile seeded with the demo site: every chat goes straight to live chat, and
/// visitors may send files (agents with the permission may switch that per chat). A
/// page may start the chat with the AI agent instead (`data-start-step="ai"`).
pub fn default_profile() -> Profile {
    let text = r#"
name = "Default"
start = "live_chat"
agents_can_toggle_uploads = true

[waiting]
banner = true
position = true
messages = ["Thanks for waiting. You're number $QUEUEPOSITION in the queue; the wait is about $WAITTIME min."]
message_interval_minutes = 2
repeat_messages = true

[[steps]]
id = "live_chat"
type = "action"
action = "start_live_chat"
teams = ["Support"]
attachments = "allow"

# The demo's /ai page starts here: the AI agent answers from the knowledge and
# hands over to Support.
[[steps]]
id = "ai"
type = "action"
action = "ai_agent"
can_start_here = true
teams = ["Support"]

[steps.agent]
name = "Acme assistant"
greeting = "Hi! I'm Acme's AI assistant: I answer from our help articles. Ask me anything, or choose \"Talk to a person\"."
"#;
    // A constant that the tests check; it cannot fail to parse.
    Profile::parse(text, Format::Toml).unwrap_or_else(|err| panic!("default profile: {err}"))
}

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("{0}")]
    Parse(String),
    #[error("the profile has {} problem(s)", .0.len())]
    Invalid(Vec<Problem>),
}

/// Parses and checks a stored definition (JSON).
pub fn compile_stored(stored: &StoredProfile) -> Result<Flow, ProfileError> {
    let profile = Profile::parse(&stored.definition, Format::Json)
        .map_err(|err| ProfileError::Parse(err.0))?;
    flow::compile(profile)
        .map(|(flow, _warnings)| flow)
        .map_err(ProfileError::Invalid)
}

/// Compiled flows by profile id, rebuilt when a profile's `updated_at` changes.
#[derive(Default)]
pub struct Flows {
    cache: Mutex<HashMap<i64, (i64, Arc<Flow>)>>,
}

impl Flows {
    /// The runnable flow of profile `id`, or `None` if it does not exist or (only
    /// possible by editing the database by hand) no longer compiles.
    pub async fn get(&self, store: &dyn Store, id: i64) -> Result<Option<Arc<Flow>>, StoreError> {
        let Some(stored) = store.profile(id).await? else {
            return Ok(None);
        };
        let mut cache = self
            .cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((updated_at, flow)) = cache.get(&id)
            && *updated_at == stored.updated_at
        {
            return Ok(Some(Arc::clone(flow)));
        }
        match compile_stored(&stored) {
            Ok(flow) => {
                let flow = Arc::new(flow);
                cache.insert(id, (stored.updated_at, Arc::clone(&flow)));
                Ok(Some(flow))
            }
            Err(err) => {
                tracing::error!(profile = id, error = %err, "a stored profile does not compile");
                Ok(None)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_profile_is_valid_and_goes_straight_to_live_chat() {
        let (flow, warnings) = flow::compile(default_profile()).unwrap();
        assert!(warnings.is_empty());
        assert_eq!(flow.profile.start, "live_chat");
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a valid profile: {message}")]
    Parse { path: String, message: String },
    #[error("{path} has {} problem(s)", .problems.len())]
    Invalid {
        path: String,
        problems: Vec<Problem>,
    },
    #[error("no site has the key \"{0}\" (the relay creates the demo site on its first start)")]
    UnknownSite(String),
    #[error("site \"{0}\" has no chat profile")]
    NoProfile(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Reads and checks a profile file (TOML, or JSON by extension): the flow and its
/// warnings, or why not.
pub async fn check_file(
    path: &std::path::Path,
    policy: &OutboundPolicy,
) -> Result<(Flow, Vec<Problem>), FileError> {
    let text = std::fs::read_to_string(path).map_err(|source| FileError::Read {
        path: path.display().to_string(),
        source,
    })?;
    let profile = Profile::parse(&text, Format::of_path(path)).map_err(|err| FileError::Parse {
        path: path.display().to_string(),
        message: err.0,
    })?;
    let (flow, mut warnings) = flow::compile(profile).map_err(|problems| FileError::Invalid {
        path: path.display().to_string(),
        problems,
    })?;
    let webhooks = webhook_problems(&flow.profile, policy).await;
    if webhooks
        .iter()
        .any(|problem| problem.severity == Severity::Error)
    {
        return Err(FileError::Invalid {
            path: path.display().to_string(),
            problems: webhooks,
        });
    }
    warnings.extend(webhooks);
    Ok((flow, warnings))
}

/// Where the profile's webhooks point, checked as a call would be: an address the
/// relay would refuse is an error that names the host; a name that does not resolve
/// now is a warning (it may be fixed before a chat calls it).
pub async fn webhook_problems(profile: &Profile, policy: &OutboundPolicy) -> Vec<Problem> {
    let mut problems = Vec::new();
    for step in &profile.steps {
        let (Some("call_webhook"), Some(url)) = (step.action.as_deref(), step.url.as_deref())
        else {
            continue;
        };
        // A malformed URL is the compiler's to report.
        let Ok(parsed) = url::Url::parse(url) else {
            continue;
        };
        let Err(refused) = policy.check(&parsed).await else {
            continue;
        };
        let severity = match refused {
            Refused::Unresolved(_) => Severity::Warning,
            _ => Severity::Error,
        };
        problems.push(Problem {
            severity,
            step: Some(step.id.clone()),
            field: Some("url"),
            message: refused.to_string(),
        });
    }
    problems
}

/// Checks a profile file and stores it as the site's profile (replacing one of the
/// same name), making it the site's default. A running relay uses it for new chats.
pub async fn import_file(
    store: &dyn Store,
    site_key: &str,
    path: &std::path::Path,
    policy: &OutboundPolicy,
) -> Result<(StoredProfile, Vec<Problem>), FileError> {
    let (flow, warnings) = check_file(path, policy).await?;
    let site = store
        .site_by_key(site_key)
        .await?
        .ok_or_else(|| FileError::UnknownSite(site_key.to_owned()))?;
    let stored = store
        .save_profile(
            site.id,
            &flow.profile.name,
            flow.profile.render(Format::Json),
            true,
        )
        .await?;
    Ok((stored, warnings))
}

/// The site's current profile, written out.
pub async fn export(
    store: &dyn Store,
    site_key: &str,
    format: Format,
) -> Result<String, FileError> {
    let site = store
        .site_by_key(site_key)
        .await?
        .ok_or_else(|| FileError::UnknownSite(site_key.to_owned()))?;
    let stored = match site.default_profile_id {
        Some(id) => store.profile(id).await?,
        None => None,
    }
    .ok_or_else(|| FileError::NoProfile(site_key.to_owned()))?;
    let profile =
        Profile::parse(&stored.definition, Format::Json).map_err(|err| FileError::Parse {
            path: format!("profile #{}", stored.id),
            message: err.0,
        })?;
    Ok(profile.render(format))
}
