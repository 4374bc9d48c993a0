//! Which AI provider the relay talks to, from the `[ai]` table of the config file or
//! from the console (which wins once saved). Secrets are never sent back.

use porchlight_protocol::api::ai::{
    AiSettingsForm, AiSettingsView, DEFAULT_DAILY_MODEL_CALLS, ProviderKind,
};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct AiSettings {
    pub provider: ProviderKind,
    pub api_key: String,
    /// OpenAI and compatible servers: the chat model.
    pub chat_model: String,
    /// OpenAI and compatible servers: the embedding model (empty: keyword search only).
    pub embedding_model: String,
    /// Compatible servers (required) and OpenAI (optional): the API's base URL.
    pub base_url: String,
    /// Azure: `https://NAME.openai.azure.com`.
    pub endpoint: String,
    pub api_version: String,
    pub chat_deployment: String,
    /// Azure: empty for keyword search only.
    pub embedding_deployment: String,
    /// How long a request may wait for the provider's next bytes.
    pub timeout_secs: u64,
    /// Model calls the AI agent may make for one site in a day (UTC); past it, chats
    /// go to a person.
    pub daily_model_calls: u64,
}

impl Default for AiSettings {
    fn default() -> Self {
        Self {
            provider: ProviderKind::None,
            api_key: String::new(),
            chat_model: String::new(),
            embedding_model: String::new(),
            base_url: String::new(),
            endpoint: String::new(),
            api_version: "2024-10-21".into(),
            chat_deployment: String::new(),
            embedding_deployment: String::new(),
            timeout_secs: 30,
            daily_model_calls: DEFAULT_DAILY_MODEL_CALLS,
        }
    }
}

impl AiSettings {
    /// Every missing value, named as in the config file.
    pub fn problems(&self) -> Vec<String> {
        let mut missing = Vec::new();
        let mut need = |value: &str, name: &str| {
            if value.trim().is_empty() {
                missing.push(format!("ai.{name} is required for this provider"));
            }
        };
        match self.provider {
            ProviderKind::None => {}
            ProviderKind::OpenAi => {
                need(&self.api_key, "api_key");
                need(&self.chat_model, "chat_model");
            }
            ProviderKind::Azure => {
                need(&self.endpoint, "endpoint");
                need(&self.api_key, "api_key");
                need(&self.api_version, "api_version");
                need(&self.chat_deployment, "chat_deployment");
            }
            ProviderKind::Compatible => {
                need(&self.base_url, "base_url");
                need(&self.chat_model, "chat_model");
            }
        }
        for (value, name) in [(&self.base_url, "base_url"), (&self.endpoint, "endpoint")] {
            if !(value.is_empty() || value.starts_with("https://") || value.starts_with("http://"))
            {
                missing.push(format!("ai.{name} must be an http(s) URL"));
            }
        }
        if self.timeout_secs == 0 {
            missing.push("ai.timeout_secs must be at least 1".into());
        }
        if self.daily_model_calls == 0 {
            missing.push("ai.daily_model_calls must be at least 1".into());
        }
        missing
    }

    /// The name stored with each vector: a new model means new vectors.
    pub fn embedding_name(&self) -> Option<String> {
        let name = match self.provider {
            ProviderKind::None => "",
            ProviderKind::Azure => &self.embedding_deployment,
            ProviderKind::OpenAi | ProviderKind::Compatible => &self.embedding_model,
        };
        (!name.trim().is_empty()).then(|| format!("{:?}:{name}", self.provider).to_lowercase())
    }

    /// What the console shows: everything but the key.
    pub fn view(&self) -> AiSettingsView {
        AiSettingsView {
            provider: self.provider,
            api_key_set: !self.api_key.is_empty(),
            chat_model: self.chat_model.clone(),
            embedding_model: self.embedding_model.clone(),
            base_url: self.base_url.clone(),
            endpoint: self.endpoint.clone(),
            api_version: self.api_version.clone(),
            chat_deployment: self.chat_deployment.clone(),
            embedding_deployment: self.embedding_deployment.clone(),
            timeout_secs: self.timeout_secs,
            daily_model_calls: self.daily_model_calls,
        }
    }

    /// Applies the console's form; an empty key keeps the stored one.
    pub fn update(&self, form: AiSettingsForm) -> Self {
        Self {
            provider: form.provider,
            api_key: match form.api_key {
                Some(key) if !key.trim().is_empty() => key.trim().to_owned(),
                _ if form.clear_api_key => String::new(),
                _ => self.api_key.clone(),
            },
            chat_model: form.chat_model.trim().to_owned(),
            embedding_model: form.embedding_model.trim().to_owned(),
            base_url: form.base_url.trim().trim_end_matches('/').to_owned(),
            endpoint: form.endpoint.trim().trim_end_matches('/').to_owned(),
            api_version: form.api_version.trim().to_owned(),
            chat_deployment: form.chat_deployment.trim().to_owned(),
            embedding_deployment: form.embedding_deployment.trim().to_owned(),
            timeout_secs: form.timeout_secs,
            daily_model_calls: form.daily_model_calls,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_provider_names_what_it_is_missing() {
        assert!(AiSettings::default().problems().is_empty());
        let openai = AiSettings {
            provider: ProviderKind::OpenAi,
            ..AiSettings::default()
        };
        assert_eq!(
            openai.problems(),
            [
                "ai.api_key is required for this provider",
                "ai.chat_model is required for this provider"
            ]
        );
        let azure = AiSettings {
            provider: ProviderKind::Azure,
            endpoint: "ftp://x".into(),
            api_key: "k".into(),
            chat_deployment: "gpt".into(),
            ..AiSettings::default()
        };
        assert_eq!(azure.problems(), ["ai.endpoint must be an http(s) URL"]);
    }

    #[test]
    fn the_view_hides_the_key_and_an_empty_form_key_keeps_it() {
        let stored = AiSettings {
            provider: ProviderKind::OpenAi,
            api_key: "sk-secret".into(),
            chat_model: "gpt-4o-mini".into(),
            ..AiSettings::default()
        };
        let view = serde_json::to_string(&stored.view()).unwrap();
        assert!(!view.contains("sk-secret"));
        assert!(view.contains("\"api_key_set\":true"));
        let form: AiSettingsForm = serde_json::from_str(
            r#"{"provider":"compatible","api_key":"","base_url":"http://localhost:11434/v1/","chat_model":"llama3.2"}"#,
        )
        .unwrap();
        let updated = stored.update(form);
        assert_eq!(updated.api_key, "sk-secret");
        assert_eq!(updated.base_url, "http://localhost:11434/v1");
        assert_eq!(updated.embedding_name(), None);
        let form: AiSettingsForm =
            serde_json::from_str(r#"{"provider":"none","clear_api_key":true}"#).unwrap();
        assert_eq!(updated.update(form).api_key, "");
    }
}
