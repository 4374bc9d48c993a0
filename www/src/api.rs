//! The console's one client for the relay's HTTP API: JSON in and out over the
//! session cookie, and every failure one sentence to show (the relay's own, from its
//! error body, when it sent one).

use porchlight_protocol::api::ApiError;
use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Request, RequestCredentials, RequestInit, Response};

/// A call that did not succeed: its status (0: the relay was not reached) and body.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    pub(crate) status: u16,
    pub(crate) body: String,
}

impl Failure {
    /// What to tell the person: the relay's sentence, or what went wrong on the way.
    pub(crate) fn message(&self) -> String {
        if self.status == 0 {
            return "The relay is unreachable.".into();
        }
        serde_json::from_str::<ApiError>(&self.body)
            .map(|error| error.message)
            .unwrap_or_else(|_| format!("The relay answered {}; try again.", self.status))
    }
}

async fn fetch(method: &str, path: &str, body: Option<String>) -> Result<(u16, String), JsValue> {
    let init = RequestInit::new();
    init.set_method(method);
    init.set_credentials(RequestCredentials::SameOrigin);
    if let Some(body) = &body {
        init.set_body(&JsValue::from_str(body));
    }
    let request = Request::new_with_str_and_init(path, &init)?;
    if body.is_some() {
        request.headers().set("Content-Type", "application/json")?;
    }
    let response: Response = JsFuture::from(leptos::prelude::window().fetch_with_request(&request))
        .await?
        .dyn_into()?;
    let text = JsFuture::from(response.text()?).await?;
    Ok((response.status(), text.as_string().unwrap_or_default()))
}

/// The raw answer of a call that succeeded (2xx).
async fn call(method: &str, path: &str, body: Option<String>) -> Result<String, Failure> {
    match fetch(method, path, body).await {
        Ok((status, text)) if (200..300).contains(&status) => Ok(text),
        Ok((status, body)) => Err(Failure { status, body }),
        Err(_) => Err(Failure {
            status: 0,
            body: String::new(),
        }),
    }
}

fn read<T: DeserializeOwned>(text: &str) -> Result<T, Failure> {
    serde_json::from_str(text).map_err(|_| Failure {
        status: 200,
        body: String::new(),
    })
}

/// `GET path`, read as `T`.
pub(crate) async fn get<T: DeserializeOwned>(path: &str) -> Result<T, Failure> {
    read(&call("GET", path, None).await?)
}

/// `method path` with `body` as JSON, the answer read as `T`.
pub(crate) async fn send<T: DeserializeOwned>(
    method: &str,
    path: &str,
    body: &impl Serialize,
) -> Result<T, Failure> {
    let json = serde_json::to_string(body).unwrap_or_default();
    read(&call(method, path, Some(json)).await?)
}

/// `POST path` with no body, the answer read as `T`.
pub(crate) async fn post<T: DeserializeOwned>(path: &str) -> Result<T, Failure> {
    read(&call("POST", path, None).await?)
}

/// `method path` (with `body` as JSON, if any) for its effect; the answer is not read.
pub(crate) async fn act(
    method: &str,
    path: &str,
    body: Option<&impl Serialize>,
) -> Result<(), Failure> {
    let json = body.map(|body| serde_json::to_string(body).unwrap_or_default());
    call(method, path, json).await.map(drop)
}
