//! A chat profile as site owners write it (TOML or JSON), and its working hours.
//!
//! Steps are written flat — `id`, `type`, and the fields of that type — and unknown
//! fields are refused, so a typo is an error that names the step rather than a field
//! silently ignored. [`super::validate`] turns this into a checked [`super::Flow`].

use std::collections::BTreeMap;

use porchlight_protocol::RatingScale;
use porchlight_protocol::words::{Language, Overrides};
use serde::{Deserialize, Serialize};

use crate::chat::queue::estimate::WaitSettings;

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub name: String,
    #[serde(default)]
    pub access: Access,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_hours: Option<WorkingHours>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_origins: Vec<String>,
    #[serde(default)]
    pub appearance: Appearance,
    /// `$WAITTIME`, the wait banner and the queue position.
    #[serde(default, skip_serializing_if = "is_default_waiting")]
    pub waiting: WaitSettings,
    /// Where every chat starts.
    pub start: String,
    /// Where a chat starts outside working hours (usually: take a message).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offline_start: Option<String>,
    /// Agents with the "can toggle visitor uploads" permission may switch a chat's
    /// visitor uploads on or off, whatever its start_live_chat step says.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub agents_can_toggle_uploads: bool,
    /// Visitors rate a chat once it ended: `stars` (1 to 5) or `thumbs`; `off` by default.
    #[serde(default, skip_serializing_if = "RatingScale::is_off")]
    pub rating: RatingScale,
    #[serde(default)]
    pub steps: Vec<RawStep>,
}

fn is_default_waiting(settings: &WaitSettings) -> bool {
    *settings == WaitSettings::default()
}

#[derive(Serialize, Deserialize, Debug, Clone, Copy, Default, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    #[default]
    Anyone,
    /// Only visitors the site has identified may chat.
    Identified,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct Appearance {
    /// The accent colour, `#rrggbb`.
    pub colour: String,
    pub position: Position,
    /// Shown at the top of a new chat.
    pub greeting: String,
    pub title: String,
    pub launcher_icon: LauncherIcon,
    /// The widget's language; none: the visitor's browser's, if the widget speaks it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<Language>,
    /// The profile's own widget lines: `[appearance.strings.de] end_chat = "…"`.
    #[serde(skip_serializing_if = "Overrides::is_empty")]
    pub strings: Overrides,
}

impl Default for Appearance {
    fn default() -> Self {
        Self {
            colour: "#2554c7".into(),
            position: Position::Right,
            greeting: String::new(),
            title: "Chat with us".into(),
            launcher_icon: LauncherIcon::Chat,
            language: None,
            strings: Overrides::new(),
        }
    }
}

#[derive(Serialize, Deserialize, Debug, Clone, Copy, Default, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Position {
    #[default]
    Right,
    Left,
}

#[derive(Serialize, Deserialize, Debug, Clone, Copy, Default, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LauncherIcon {
    #[default]
    Chat,
    Help,
    Mail,
}

impl LauncherIcon {
    /// The icon as an SVG path on a 24×24 grid, for the loader to draw.
    pub fn svg_path(self) -> &'static str {
        match self {
            Self::Chat => "M4 4h16v12H7l-3 3z",
            Self::Help => {
                "M11 18h2v-2h-2zm1-16a10 10 0 100 20 10 10 0 000-20zm0 4a4 4 0 00-4 4h2a2 2 0 114 0c0 2-3 2-3 5h2c0-2 3-3 3-5a4 4 0 00-4-4z"
            }
            Self::Mail => "M3 5h18v14H3zm2 2v1l7 5 7-5V7l-7 5z",
        }
    }
}

/// Opening hours in a time zone: per weekday a list of `"HH:MM-HH:MM"` ranges, plus
/// closed dates (`"YYYY-MM-DD"`). A weekday that is not listed is closed.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct WorkingHours {
    pub time_zone: String,
    #[serde(default)]
    pub schedule: BTreeMap<String, Vec<String>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub closed_dates: Vec<String>,
}

pub const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl WorkingHours {
    /// Whether the chat is open at `now`. Malformed entries (which validation
    /// reports) count as closed.
    pub fn is_open(&self, now: jiff::Timestamp) -> bool {
        let Ok(zone) = jiff::tz::TimeZone::get(&self.time_zone) else {
            return false;
        };
        let local = now.to_zoned(zone);
        let date = local.date().to_string();
        if self.closed_dates.contains(&date) {
            return false;
        }
        let day = WEEKDAYS[usize::from(local.weekday().to_monday_zero_offset().unsigned_abs())];
        let time = local.time();
        self.schedule.get(day).is_some_and(|ranges| {
            ranges.iter().any(|range| {
                parse_range(range).is_some_and(|(open, close)| open <= time && time < close)
            })
        })
    }
}

/// `"09:00-17:30"` into its two times.
pub fn parse_range(range: &str) -> Option<(jiff::civil::Time, jiff::civil::Time)> {
    let (open, close) = range.split_once('-')?;
    let open: jiff::civil::Time = format!("{}:00", open.trim()).parse().ok()?;
    let close: jiff::civil::Time = format!("{}:00", close.trim()).parse().ok()?;
    (open < close).then_some((open, close))
}

/// One step as written. Which fields apply depends on `type` (and, for actions, on
/// `action`); validation says which are missing or out of place.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RawStep {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub can_start_here: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// `question`: the buttons.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<RawChoice>,
    /// `input`: text, email, number, date, yes_no or choice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// `input`: the variable the answer goes into.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variable: Option<String>,
    /// `input`: a regular expression the answer must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// `input`: what to say when the answer is not valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalid: Option<String>,
    /// `input` of type `choice`: the allowed answers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// `condition`: what to test.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<RawCondition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub then: Option<String>,
    #[serde(default, rename = "else", skip_serializing_if = "Option::is_none")]
    pub otherwise: Option<String>,
    /// `action`: start_live_chat, ai_agent, create_ticket, call_webhook, set_variable,
    /// end_chat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// `start_live_chat`, `ai_agent` (who it hands over to), and the
    /// `agents_available` condition: team names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub teams: Vec<String>,
    /// `start_live_chat`: prevent, allow or identified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachments: Option<String>,
    /// `create_ticket`: the ticket's subject (variables expand).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// `create_ticket`: an email acknowledging the ticket, to the visitor's `email`
    /// variable when they gave one (variables, `$TICKETID` and `$WAITTIME` expand).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledgement: Option<String>,
    /// `call_webhook`: where to POST the chat's variables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    /// `call_webhook`: variable name → JSON pointer into the response.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub save: BTreeMap<String, String>,
    /// `ai_agent`: the agent's instructions, greeting and escalation rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<crate::ai::AgentConfig>,
    /// `set_variable`: the variable and its value (variables expand).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RawChoice {
    pub label: String,
    pub next: String,
}

/// A condition as written: `test` is one of linked_to_ticket, identified,
/// in_working_hours, agents_available, variable.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RawCondition {
    pub test: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub teams: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variable: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contains: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub is_set: bool,
}

/// The formats a profile is read and written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Toml,
    Json,
}

impl Format {
    /// By file extension; TOML unless it ends in `.json`.
    pub fn of_path(path: &std::path::Path) -> Self {
        if path
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("json"))
        {
            Self::Json
        } else {
            Self::Toml
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct ParseError(pub String);

impl Profile {
    pub fn parse(text: &str, format: Format) -> Result<Self, ParseError> {
        match format {
            Format::Toml => toml::from_str(text).map_err(|err| ParseError(err.to_string())),
            Format::Json => serde_json::from_str(text).map_err(|err| ParseError(err.to_string())),
        }
    }

    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Toml => toml::to_string_pretty(self).unwrap_or_default(),
            Format::Json => serde_json::to_string_pretty(self).unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hours() -> WorkingHours {
        WorkingHours {
            time_zone: "Europe/London".into(),
            schedule: BTreeMap::from([
                (
                    "mon".into(),
                    vec!["09:00-12:00".into(), "13:00-17:30".into()],
                ),
                ("sat".into(), vec!["10:00-12:00".into()]),
            ]),
            closed_dates: vec!["2026-12-28".into()],
        }
    }

    fn at(text: &str) -> jiff::Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn working_hours_follow_the_schedule_in_the_profiles_time_zone() {
        let hours = hours();
        // Monday 2026-11-23; London is UTC+0 in November.
        assert!(hours.is_open(at("2026-11-23T09:00:00Z")));
        assert!(!hours.is_open(at("2026-11-23T12:30:00Z")), "lunch break");
        assert!(hours.is_open(at("2026-11-23T17:29:00Z")));
        assert!(!hours.is_open(at("2026-11-23T17:30:00Z")));
        assert!(
            !hours.is_open(at("2026-11-24T10:00:00Z")),
            "Tuesday is not listed"
        );
        // In summer London is UTC+1: 08:30 UTC is 09:30 local.
        assert!(hours.is_open(at("2026-06-01T08:30:00Z")));
        assert!(!hours.is_open(at("2026-12-28T10:00:00Z")), "a closed date");
        assert!(
            hours.is_open(at("2026-11-28T11:00:00Z")),
            "Saturday morning"
        );
    }

    #[test]
    fn an_unknown_time_zone_is_never_open() {
        let hours = WorkingHours {
            time_zone: "Mars/Olympus".into(),
            ..hours()
        };
        assert!(!hours.is_open(at("2026-11-23T10:00:00Z")));
    }

    #[test]
    fn ranges_must_be_ordered_times() {
        assert!(parse_range("09:00-17:00").is_some());
        assert!(parse_range("17:00-09:00").is_none());
        assert!(parse_range("9am-5pm").is_none());
    }

    #[test]
    fn profiles_round_trip_through_toml_and_json() {
        let text = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/helpdesk.toml"),
        )
        .unwrap();
        let profile = Profile::parse(&text, Format::Toml).unwrap();
        let json = profile.render(Format::Json);
        assert_eq!(Profile::parse(&json, Format::Json).unwrap(), profile);
        let toml = profile.render(Format::Toml);
        assert_eq!(Profile::parse(&toml, Format::Toml).unwrap(), profile);
    }

    #[test]
    fn an_unknown_field_is_an_error_that_names_it() {
        let err = Profile::parse(
            "name = \"x\"\nstart = \"a\"\n[[steps]]\nid = \"a\"\ntype = \"message\"\ntxet = \"hi\"\n",
            Format::Toml,
        )
        .unwrap_err();
        assert!(err.0.contains("txet"), "{err}");
    }
}
