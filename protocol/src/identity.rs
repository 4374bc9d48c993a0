//! Who the host page says the visitor is (`Porchlight.identify`, the hello's
//! `identity`, the `identify` frame and the REST API's identify). With the site's
//! "require verified identity" setting, `token` must prove `user_id`: an HS256 JWT
//! signed with the site's secret, or `hex(HMAC-SHA256(secret, user_id))`.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

/// The most traits or context entries one visitor keeps.
pub const MAX_IDENTITY_ENTRIES: usize = 50;

/// The longest name, email, company, user id, trait or label, in bytes.
pub const MAX_IDENTITY_FIELD: usize = 200;

/// The longest context value, in bytes.
pub const MAX_CONTEXT_VALUE: usize = 2000;

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    /// The site's own stable id for the person. Empty: anonymous, only the other
    /// fields are kept (a JWT's `sub` fills it).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub user_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    /// Simple facts ("plan": "Pro"), shown to agents and the AI agent.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub traits: BTreeMap<String, String>,
    /// Labelled sections ("Current plan") by key; setting a key replaces its entry.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub context: BTreeMap<String, ContextEntry>,
    /// The proof made by the site's server: a JWT, or the hex HMAC of `user_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// An [`Identity`] on the wire, as JSON text: the widget passes on what the page
/// wrote without reading it (which keeps the identity's parsing out of the wasm), and
/// the relay reads it with [`IdentityText::read`].
#[derive(Debug, Clone)]
pub struct IdentityText(Box<RawValue>);

impl IdentityText {
    /// The page's JSON, if it is an object.
    pub fn from_json(json: String) -> Option<Self> {
        RawValue::from_string(json)
            .ok()
            .filter(|raw| raw.get().starts_with('{'))
            .map(Self)
    }

    /// The identity, or why it is not one.
    pub fn read(&self) -> Result<Identity, String> {
        serde_json::from_str(self.0.get())
            .map_err(|err| format!("The identity is not valid: {err}."))
    }
}

impl PartialEq for IdentityText {
    fn eq(&self, other: &Self) -> bool {
        self.0.get() == other.0.get()
    }
}

impl Eq for IdentityText {}

impl Serialize for IdentityText {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

/// Through a `Value`: frames are internally tagged, and serde buffers those in a way
/// a `RawValue` cannot be read from. (Only the relay reads identities.)
impl<'de> Deserialize<'de> for IdentityText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        Self::from_json(value.to_string())
            .ok_or_else(|| serde::de::Error::custom("an identity is a JSON object"))
    }
}

/// What the site has said about a visitor, as kept (the contact panel and the
/// visitor's data export show it).
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownVisitor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub traits: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub context: BTreeMap<String, ContextEntry>,
}

/// One labelled section of context. A value of several lines is a list.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContextEntry {
    pub label: String,
    pub value: String,
}

impl Identity {
    /// Too many entries or a field too long, said in a sentence.
    pub fn check(&self) -> Result<(), String> {
        if self.traits.len() > MAX_IDENTITY_ENTRIES || self.context.len() > MAX_IDENTITY_ENTRIES {
            return Err(format!(
                "At most {MAX_IDENTITY_ENTRIES} traits and {MAX_IDENTITY_ENTRIES} context entries."
            ));
        }
        let fields = [
            Some(self.user_id.as_str()),
            self.name.as_deref(),
            self.email.as_deref(),
            self.company.as_deref(),
        ];
        let short = fields
            .into_iter()
            .flatten()
            .chain(
                self.traits
                    .iter()
                    .flat_map(|(k, v)| [k.as_str(), v.as_str()]),
            )
            .chain(
                self.context
                    .iter()
                    .flat_map(|(k, entry)| [k.as_str(), entry.label.as_str()]),
            );
        if short
            .into_iter()
            .any(|text| text.len() > MAX_IDENTITY_FIELD)
        {
            return Err(format!(
                "Identity fields, trait names and values, and context keys and labels are at most {MAX_IDENTITY_FIELD} bytes."
            ));
        }
        if self
            .context
            .values()
            .any(|entry| entry.value.len() > MAX_CONTEXT_VALUE)
        {
            return Err(format!(
                "A context value is at most {MAX_CONTEXT_VALUE} bytes."
            ));
        }
        Ok(())
    }
}
