//! Talking to the model through async-openai: chat (streamed, with tools), plain
//! completions and embeddings, with timeouts, retries and errors that say plainly
//! what failed.

use std::sync::Arc;
use std::time::Duration;

use async_openai::Client;
use async_openai::config::{AzureConfig, Config, OpenAIConfig};
use async_openai::error::OpenAIError;
use futures_util::{Stream, StreamExt};
use serde::Deserialize;
use serde_json::{Value, json};

use porchlight_protocol::api::ai::ProviderKind;

use super::settings::AiSettings;

#[derive(Debug, thiserror::Error)]
pub enum AiError {
    #[error("no AI provider is configured")]
    NotConfigured,
    #[error("the AI settings are incomplete: {0}")]
    Settings(String),
    #[error("cannot reach the AI provider: {0}")]
    Unreachable(String),
    #[error("the AI provider refused the API key ({0})")]
    Unauthorized(String),
    #[error("the AI provider does not know that model or deployment ({0})")]
    UnknownModel(String),
    #[error("the AI provider is rate limiting us ({0})")]
    RateLimited(String),
    #[error("the AI provider failed: {0}")]
    Failed(String),
    #[error("the AI provider did not answer within {0} s")]
    Timeout(u64),
}

fn classify(err: OpenAIError) -> AiError {
    match err {
        OpenAIError::ApiError(response) => {
            let status = response.status_code.as_u16();
            let message = format!("{} {}", response.status_code, response.api_error.message);
            match status {
                401 | 403 => AiError::Unauthorized(message),
                404 => AiError::UnknownModel(message),
                429 => AiError::RateLimited(message),
                _ => AiError::Failed(message),
            }
        }
        OpenAIError::Reqwest(err) if err.is_timeout() => {
            AiError::Failed(format!("timed out: {err}"))
        }
        OpenAIError::Reqwest(err) => AiError::Unreachable(plain_reqwest(&err)),
        OpenAIError::JSONDeserialize(_, content) => AiError::Failed(format!(
            "unexpected answer: {}",
            content.chars().take(200).collect::<String>()
        )),
        other => AiError::Failed(other.to_string()),
    }
}

/// reqwest's error with its causes (e.g. "connection refused").
fn plain_reqwest(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

type DynClient = Client<Arc<dyn Config>>;

/// A configured provider.
#[derive(Clone)]
pub struct Provider {
    chat: DynClient,
    chat_model: String,
    embeddings: Option<(DynClient, String)>,
    /// The name vectors are stored under.
    pub embedding_name: Option<String>,
    timeout: Duration,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider")
            .field("chat_model", &self.chat_model)
            .field("embedding_name", &self.embedding_name)
            .finish_non_exhaustive()
    }
}

/// A piece of a streamed answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Text(String),
    /// A complete tool call (its arguments gathered from the deltas).
    ToolCall {
        name: String,
        arguments: String,
    },
}

#[derive(Deserialize)]
struct StreamChunk {
    #[serde(default)]
    choices: Vec<StreamChoice>,
}

#[derive(Deserialize)]
struct StreamChoice {
    #[serde(default)]
    delta: StreamDeltaBody,
}

#[derive(Deserialize, Default)]
struct StreamDeltaBody {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    tool_calls: Vec<ToolCallDelta>,
}

#[derive(Deserialize)]
struct ToolCallDelta {
    #[serde(default)]
    index: usize,
    #[serde(default)]
    function: Option<FunctionDelta>,
}

#[derive(Deserialize)]
struct FunctionDelta {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    arguments: Option<String>,
}

#[derive(Deserialize)]
struct Completion {
    choices: Vec<CompletionChoice>,
}

#[derive(Deserialize)]
struct CompletionChoice {
    message: CompletionMessage,
}

#[derive(Deserialize)]
struct CompletionMessage {
    #[serde(default)]
    content: Option<String>,
}

#[derive(Deserialize)]
struct Embeddings {
    data: Vec<Embedding>,
}

#[derive(Deserialize)]
struct Embedding {
    #[serde(default)]
    index: usize,
    embedding: Vec<f32>,
}

impl Provider {
    /// `None` for no provider; an error names what the settings lack.
    pub fn from_settings(settings: &AiSettings) -> Result<Option<Self>, AiError> {
        if settings.provider == ProviderKind::None {
            return Ok(None);
        }
        let problems = settings.problems();
        if !problems.is_empty() {
            return Err(AiError::Settings(problems.join("; ")));
        }
        let timeout = Duration::from_secs(settings.timeout_secs);
        let http = reqwest::Client::builder()
            .user_agent(concat!("porchlight/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(5))
            .read_timeout(timeout)
            .build()
            .map_err(|err| AiError::Settings(err.to_string()))?;
        let client =
            |config: Arc<dyn Config>| Client::with_config(config).with_http_client(http.clone());
        let openai_config = || -> Arc<dyn Config> {
            let mut config = OpenAIConfig::new().with_api_key(settings.api_key.clone());
            if !settings.base_url.is_empty() {
                config = config.with_api_base(settings.base_url.clone());
            }
            Arc::new(config)
        };
        let azure_config = |deployment: &str| -> Arc<dyn Config> {
            Arc::new(
                AzureConfig::new()
                    .with_api_base(settings.endpoint.clone())
                    .with_api_key(settings.api_key.clone())
                    .with_api_version(settings.api_version.clone())
                    .with_deployment_id(deployment.to_owned()),
            )
        };
        let (chat, chat_model, embeddings) = match settings.provider {
            ProviderKind::None => return Ok(None),
            ProviderKind::OpenAi | ProviderKind::Compatible => (
                client(openai_config()),
                settings.chat_model.clone(),
                (!settings.embedding_model.is_empty())
                    .then(|| (client(openai_config()), settings.embedding_model.clone())),
            ),
            // Azure picks the model by the deployment in the URL; the body's model is
            // only a label.
            ProviderKind::Azure => (
                client(azure_config(&settings.chat_deployment)),
                settings.chat_deployment.clone(),
                (!settings.embedding_deployment.is_empty()).then(|| {
                    (
                        client(azure_config(&settings.embedding_deployment)),
                        settings.embedding_deployment.clone(),
                    )
                }),
            ),
        };
        Ok(Some(Self {
            chat,
            chat_model,
            embeddings,
            embedding_name: settings.embedding_name(),
            timeout,
        }))
    }

    pub fn has_embeddings(&self) -> bool {
        self.embeddings.is_some()
    }

    /// Bounds a call by the timeout. Retries happen below: async-openai retries
    /// connection failures, 429 and 5xx three times, backing off from 100 ms (and
    /// honouring `Retry-After`).
    async fn with_timeout<T>(
        &self,
        call: impl Future<Output = Result<T, AiError>>,
    ) -> Result<T, AiError> {
        tokio::time::timeout(self.timeout, call)
            .await
            .unwrap_or(Err(AiError::Timeout(self.timeout.as_secs())))
    }

    /// Starts a streamed answer. Retries cover getting the stream; once pieces flow,
    /// a failure (or silence longer than the timeout) ends it with an error.
    pub async fn stream(
        &self,
        messages: Vec<Value>,
        tools: Vec<Value>,
    ) -> Result<impl Stream<Item = Result<Piece, AiError>> + Send + use<>, AiError> {
        let mut request = json!({
            "model": self.chat_model,
            "messages": messages,
            "stream": true,
        });
        if !tools.is_empty() {
            request["tools"] = Value::Array(tools);
        }
        let chunks = self
            .with_timeout(async {
                self.chat
                    .chat()
                    .create_stream_byot::<Value, StreamChunk>(request)
                    .await
                    .map_err(classify)
            })
            .await?;
        Ok(pieces(chunks))
    }

    /// One whole answer (console helpers, the connection test).
    pub async fn complete(&self, messages: Vec<Value>) -> Result<String, AiError> {
        let request = json!({ "model": self.chat_model, "messages": messages });
        let completion: Completion = self
            .with_timeout(async {
                self.chat
                    .chat()
                    .create_byot(request)
                    .await
                    .map_err(classify)
            })
            .await?;
        completion
            .choices
            .into_iter()
            .next()
            .and_then(|choice| choice.message.content)
            .ok_or_else(|| AiError::Failed("the answer was empty".into()))
    }

    /// Vectors for `texts`, in order.
    pub async fn embed(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>, AiError> {
        let Some((client, model)) = &self.embeddings else {
            return Err(AiError::NotConfigured);
        };
        let request = json!({ "model": model, "input": texts });
        let mut response: Embeddings = self
            .with_timeout(async {
                client
                    .embeddings()
                    .create_byot(request)
                    .await
                    .map_err(classify)
            })
            .await?;
        response.data.sort_by_key(|embedding| embedding.index);
        Ok(response
            .data
            .into_iter()
            .map(|embedding| embedding.embedding)
            .collect())
    }

    /// "Test connection": a one-word chat, and an embedding when configured.
    pub async fn test(&self) -> Result<String, AiError> {
        self.complete(vec![
            json!({"role": "user", "content": "Reply with the word OK."}),
        ])
        .await?;
        let mut report = format!("Chat works ({}).", self.chat_model);
        if self.has_embeddings() {
            let vectors = self.embed(vec!["test".into()]).await?;
            let size = vectors.first().map_or(0, Vec::len);
            report.push_str(&format!(" Embeddings work ({size} dimensions)."));
        }
        Ok(report)
    }
}

/// Stream chunks into text pieces and, at the end, whole tool calls.
fn pieces(
    chunks: impl Stream<Item = Result<StreamChunk, OpenAIError>> + Send + 'static,
) -> impl Stream<Item = Result<Piece, AiError>> + Send {
    struct Gathering<S> {
        chunks: std::pin::Pin<Box<S>>,
        calls: Vec<(String, String)>,
        done: bool,
    }
    futures_util::stream::unfold(
        Gathering {
            chunks: Box::pin(chunks),
            calls: Vec::new(),
            done: false,
        },
        |mut gathering| async move {
            loop {
                if gathering.done {
                    if gathering.calls.is_empty() {
                        return None;
                    }
                    let (name, arguments) = gathering.calls.remove(0);
                    return Some((Ok(Piece::ToolCall { name, arguments }), gathering));
                }
                match gathering.chunks.next().await {
                    None => gathering.done = true,
                    Some(Err(err)) => {
                        gathering.done = true;
                        gathering.calls.clear();
                        return Some((Err(classify(err)), gathering));
                    }
                    Some(Ok(chunk)) => {
                        let mut text = String::new();
                        for choice in chunk.choices {
                            if let Some(content) = choice.delta.content {
                                text.push_str(&content);
                            }
                            for call in choice.delta.tool_calls {
                                if gathering.calls.len() <= call.index {
                                    gathering.calls.resize(call.index + 1, Default::default());
                                }
                                if let Some(function) = call.function {
                                    let slot = &mut gathering.calls[call.index];
                                    if let Some(name) = function.name {
                                        slot.0.push_str(&name);
                                    }
                                    if let Some(arguments) = function.arguments {
                                        slot.1.push_str(&arguments);
                                    }
                                }
                            }
                        }
                        if !text.is_empty() {
                            return Some((Ok(Piece::Text(text)), gathering));
                        }
                    }
                }
            }
        },
    )
}
