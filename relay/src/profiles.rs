//! Stored chat profiles as runnable flows: parsed and checked once per change, and
//! shared by every conversation that uses them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::flow::{self, Flow, Format, Problem, Profile};
use crate::store::{Store, StoreError, StoredProfile};

/// The profile seeded with the demo site: every chat goes straight to live chat.
pub fn default_profile() -> Profile {
    let text = r#"
name = "Default"
start = "live_chat"

[[steps]]
id = "live_chat"
type = "action"
action = "start_live_chat"
teams = ["Support"]
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
        if let Some((updated_at, flow)) = cache.get(&id) {
            if *updated_at == stored.updated_at {
                return Ok(Some(Arc::clone(flow)));
            }
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
