//! The host page, through the loader: counts and flags for the launcher, and for the
//! page API (`embed-api.js`) the identity the page gives and the messages and chat
//! ends it hears. Message text goes only to the page's own origin, and an identity
//! is taken only from it; the visitor's token never crosses.

use leptos::prelude::*;
use porchlight_protocol::IdentityText;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::MessageEvent;

use crate::app::query_param;
use crate::state::{ChatState, PageEvent};

/// The origin of the page the loader runs on (`https://shop.example.com`).
fn page_origin() -> Option<String> {
    let page = query_param("page")?;
    let mut parts = page.splitn(4, '/');
    let (scheme, empty, host) = (parts.next()?, parts.next()?, parts.next()?);
    (scheme.ends_with(':') && empty.is_empty() && !host.is_empty())
        .then(|| format!("{scheme}//{host}"))
}

fn post(kind: &str, value: &JsValue, origin: &str) {
    let message = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&message, &"porchlight".into(), &kind.into());
    let _ = js_sys::Reflect::set(&message, &"value".into(), value);
    if let Ok(Some(parent)) = window().parent() {
        let _ = parent.post_message(&message, origin);
    }
}

/// Tells the loader a count or a flag (unread, open chat, close, ready). These carry
/// nothing private, and only origins the site allows can frame the widget at all
/// (frame-ancestors).
pub(crate) fn tell_parent(kind: &str, value: f64) {
    post(kind, &value.into(), "*");
}

/// Tells the page's own origin what it hears: live messages (author and text) and
/// the chat's end.
pub(crate) fn tell_page(events: Vec<PageEvent>) {
    let Some(origin) = page_origin().filter(|_| !events.is_empty()) else {
        return;
    };
    for event in events {
        match event {
            PageEvent::Message { author, text } => {
                let value = js_sys::Object::new();
                let _ = js_sys::Reflect::set(&value, &"author".into(), &author.as_str().into());
                let _ = js_sys::Reflect::set(&value, &"text".into(), &text.into());
                post("message", &value, &origin);
            }
            PageEvent::ChatEnded => post("ended", &JsValue::TRUE, &origin),
        }
    }
}

/// Listens to the loader: the panel opened or closed (for the unread count), and
/// the page's identity (`{identity: JSON text, token}`, or null for none), which
/// `on_identity` gets with its token.
pub(crate) fn listen_to_parent(
    state: RwSignal<ChatState>,
    on_identity: impl Fn(Option<(IdentityText, Option<String>)>) + 'static,
) {
    let origin = page_origin();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let from_parent = window()
            .parent()
            .ok()
            .flatten()
            .zip(event.source())
            .is_some_and(|(parent, source)| {
                let source: &JsValue = source.as_ref();
                let parent: &JsValue = parent.as_ref();
                source == parent
            });
        if !from_parent {
            return;
        }
        let data = event.data();
        let value = js_sys::Reflect::get(&data, &"value".into()).unwrap_or(JsValue::NULL);
        let kind = js_sys::Reflect::get(&data, &"porchlight".into())
            .ok()
            .and_then(|kind| kind.as_string());
        match kind.as_deref() {
            Some("visible") => state.update(|state| {
                state.set_visible(value.is_truthy());
                tell_parent("unread", f64::from(state.unread));
            }),
            Some("identify") if origin.as_deref() == Some(event.origin().as_str()) => {
                let field = |name: &str| {
                    js_sys::Reflect::get(&value, &name.into())
                        .ok()
                        .and_then(|field| field.as_string())
                };
                on_identity(
                    field("identity")
                        .and_then(IdentityText::from_json)
                        .map(|identity| (identity, field("token"))),
                );
            }
            _ => {}
        }
    });
    let _ =
        window().add_event_listener_with_callback("message", on_message.as_ref().unchecked_ref());
    // Listens for the page's whole life.
    on_message.forget();
}
