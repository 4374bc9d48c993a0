//! The AI page's bodies and the chat helpers' answers (`/api/admin/ai`, `/api/ai`,
//! `/api/conversations/ID/ai/...`).

use serde::{Deserialize, Serialize};

/// Which kind of model provider the relay talks to.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// No model: the AI agent answers with cited passages.
    #[default]
    None,
    OpenAi,
    Azure,
    /// Any server speaking OpenAI's API at a base URL (Ollama, vLLM, LM Studio).
    Compatible,
}

/// The provider settings as the console shows them (`GET /api/admin/ai`): never the
/// key, only whether one is set.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct AiSettingsView {
    pub provider: ProviderKind,
    pub api_key_set: bool,
    pub chat_model: String,
    pub embedding_model: String,
    pub base_url: String,
    pub endpoint: String,
    pub api_version: String,
    pub chat_deployment: String,
    pub embedding_deployment: String,
    pub timeout_secs: u64,
    /// Model calls the AI agent may make for one site in a day (UTC).
    #[serde(default = "default_daily_model_calls")]
    pub daily_model_calls: u64,
}

/// The provider form as the console sends it (`PUT /api/admin/ai`, `POST …/test`).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AiSettingsForm {
    pub provider: ProviderKind,
    /// Absent or empty: keep the stored key.
    #[serde(default)]
    pub api_key: Option<String>,
    #[serde(default)]
    pub clear_api_key: bool,
    #[serde(default)]
    pub chat_model: String,
    #[serde(default)]
    pub embedding_model: String,
    #[serde(default)]
    pub base_url: String,
    #[serde(default)]
    pub endpoint: String,
    #[serde(default)]
    pub api_version: String,
    #[serde(default)]
    pub chat_deployment: String,
    #[serde(default)]
    pub embedding_deployment: String,
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    #[serde(default = "default_daily_model_calls")]
    pub daily_model_calls: u64,
}

/// Model calls a site's AI agent may make in a day unless its settings say otherwise.
pub const DEFAULT_DAILY_MODEL_CALLS: u64 = 2000;

fn default_daily_model_calls() -> u64 {
    DEFAULT_DAILY_MODEL_CALLS
}

fn default_timeout() -> u64 {
    30
}

/// What `POST /api/admin/ai/test` found.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ConnectionTest {
    pub ok: bool,
    /// What works, or what failed, in a sentence.
    pub message: String,
}

/// Whether the console's AI helpers work (`GET /api/ai`).
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Helpers {
    pub helpers: bool,
    /// Translation works: through the AI provider, or a translation service.
    #[serde(default)]
    pub translation: bool,
}

/// A translation service for when no AI provider is set.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, Default, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum TranslationService {
    #[default]
    None,
    /// LibreTranslate (self-hostable): `url` is the server, `key` its API key if any.
    Libretranslate,
    /// Azure Translator: `url` is the endpoint (the global one when empty), `key` and
    /// `region` the resource's.
    Azure,
}

/// `GET /api/admin/translation`: the service, without its key.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq, Eq)]
pub struct TranslationView {
    pub service: TranslationService,
    pub url: String,
    pub region: String,
    pub key_set: bool,
}

/// `PUT /api/admin/translation`; an empty `key` keeps the saved one.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq, Eq)]
pub struct TranslationForm {
    pub service: TranslationService,
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub region: String,
    #[serde(default)]
    pub key: String,
}

/// A helper's answer: a suggested reply, a summary or a translation.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct HelperText {
    pub text: String,
}

/// `POST /api/conversations/ID/ai/translate`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TranslateRequest {
    pub text: String,
    /// The agent's language, as a name or a BCP 47 tag ("English", "de").
    pub language: String,
}
