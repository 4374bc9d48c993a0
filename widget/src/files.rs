//! Files in a chat, shared by the widget and the console: sending one to the relay and
//! showing one in the transcript (pictures as pictures, the rest as download links).

use leptos::prelude::*;
use porchlight_protocol::AttachmentInfo;
use porchlight_protocol::api::ApiError;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{FormData, Request, RequestCredentials, RequestInit, Response};

/// Posts `file` to the chat as multipart (`file`, `client_msg_id`). The visitor passes
/// their token as `bearer`, and the page's proof of who they are as `proof`; the
/// console sends its session cookie. On refusal, the
/// relay's sentence; `offline` when the relay cannot be reached.
pub async fn upload(
    conversation_id: i64,
    file: &web_sys::File,
    client_msg_id: &str,
    bearer: Option<&str>,
    proof: Option<&str>,
    offline: &str,
) -> Result<(), String> {
    let unreachable = || offline.to_owned();
    let form = FormData::new().map_err(|_| unreachable())?;
    form.append_with_str("client_msg_id", client_msg_id)
        .map_err(|_| unreachable())?;
    form.append_with_blob_and_filename("file", file, &file.name())
        .map_err(|_| unreachable())?;
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_credentials(RequestCredentials::SameOrigin);
    init.set_body(&form);
    let path = format!("/api/v1/conversations/{conversation_id}/attachments");
    let request = Request::new_with_str_and_init(&path, &init).map_err(|_| unreachable())?;
    if let Some(token) = bearer {
        request
            .headers()
            .set("Authorization", &format!("Bearer {token}"))
            .map_err(|_| unreachable())?;
    }
    if let Some(proof) = proof {
        request
            .headers()
            .set("Porchlight-Identity", proof)
            .map_err(|_| unreachable())?;
    }
    let window = web_sys::window().ok_or_else(unreachable)?;
    let response: Response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(|_| unreachable())?
        .dyn_into()
        .map_err(|_: JsValue| unreachable())?;
    if response.ok() {
        return Ok(());
    }
    let text = match response.text() {
        Ok(promise) => JsFuture::from(promise)
            .await
            .ok()
            .and_then(|text| text.as_string()),
        Err(_) => None,
    };
    Err(text
        .and_then(|text| serde_json::from_str::<ApiError>(&text).ok())
        .map(|refusal| refusal.message)
        .unwrap_or_else(unreachable))
}

/// The file just picked in a file input's change event; empties the input so the
/// same file can be picked again.
pub fn picked(event: &web_sys::Event) -> Option<web_sys::File> {
    let input = event
        .target()?
        .dyn_into::<web_sys::HtmlInputElement>()
        .ok()?;
    let file = input.files()?.get(0);
    input.set_value("");
    file
}

/// "340 KB", "2.1 MB" (integer maths: float formatting would add kilobytes of wasm).
fn size_label(size: u64) -> String {
    if size < 1024 * 1024 {
        format!("{} KB", size.div_ceil(1024))
    } else {
        let tenths = size * 10 / (1024 * 1024);
        format!("{}.{} MB", tenths / 10, tenths % 10)
    }
}

/// A picture shows inline (the relay serves it sandboxed); any other file is a link
/// that downloads it.
pub fn attachment_view(file: &AttachmentInfo) -> AnyView {
    let label = format!("{} ({})", file.name, size_label(file.size));
    if file.is_image() {
        view! {
            <a class="file" href=file.url.clone() target="_blank" rel="noopener noreferrer">
                <img class="picture" src=file.url.clone() alt=file.name.clone() loading="lazy"/>
            </a>
        }
        .into_any()
    } else {
        view! {
            <a class="file" href=file.url.clone() download=file.name.clone() rel="noopener noreferrer">{label}</a>
        }
        .into_any()
    }
}
