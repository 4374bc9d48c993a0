//! Browser glue shared by the widget and the console: the WebSocket (with its callbacks
//! kept alive beside it), socket URLs, message ids and local clock times.

use std::cell::RefCell;

use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{CloseEvent, MessageEvent, WebSocket};

struct Live {
    socket: WebSocket,
    _on_open: Closure<dyn FnMut()>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

thread_local! {
    static LIVE: RefCell<Option<Live>> = const { RefCell::new(None) };
}

/// Opens `url`, replacing any previous socket.
pub fn connect(
    url: &str,
    on_open: impl FnMut() + 'static,
    mut on_text: impl FnMut(String) + 'static,
    mut on_close: impl FnMut() + 'static,
) -> bool {
    let Ok(socket) = WebSocket::new(url) else {
        return false;
    };
    let on_open = Closure::<dyn FnMut()>::new(on_open);
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        if let Some(text) = event.data().as_string() {
            on_text(text);
        }
    });
    let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |_: CloseEvent| on_close());
    socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    let previous = LIVE.with(|live| {
        live.borrow_mut().replace(Live {
            socket,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
        })
    });
    if let Some(previous) = previous {
        previous.socket.set_onclose(None);
        let _ = previous.socket.close();
    }
    true
}

/// Sends a text frame if the socket is open; false otherwise (the outbox keeps it).
pub fn send(text: &str) -> bool {
    LIVE.with(|live| {
        live.borrow().as_ref().is_some_and(|live| {
            live.socket.ready_state() == WebSocket::OPEN && live.socket.send_with_str(text).is_ok()
        })
    })
}

/// `ws://` or `wss://` (matching the page) to `path` on the relay that served the page.
pub fn socket_url(path: &str) -> String {
    let Some(location) = web_sys::window().map(|window| window.location()) else {
        return String::new();
    };
    let scheme = if location.protocol().ok().as_deref() == Some("https:") {
        "wss"
    } else {
        "ws"
    };
    format!("{scheme}://{}{path}", location.host().unwrap_or_default())
}

/// A fresh `client_msg_id`: time plus randomness, prefixed by who writes.
pub fn new_client_msg_id(prefix: char) -> String {
    let random = (js_sys::Math::random() * 1e15) as u64;
    format!("{prefix}{:x}{:x}", js_sys::Date::now() as u64, random)
}

/// "14:05" in the browser's time zone; "sending…" while a message has no time yet.
pub fn clock(at: Option<i64>) -> String {
    let Some(at) = at else {
        return "sending…".into();
    };
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(at as f64));
    format!("{:02}:{:02}", date.get_hours(), date.get_minutes())
}

/// The browser's languages, most preferred first (`navigator.languages`).
pub fn languages() -> Vec<String> {
    let navigator = js_sys::Reflect::get(&js_sys::global(), &"navigator".into());
    navigator
        .and_then(|navigator| js_sys::Reflect::get(&navigator, &"languages".into()))
        .ok()
        .filter(js_sys::Array::is_array)
        .map(|languages| {
            js_sys::Array::from(&languages)
                .iter()
                .filter_map(|tag| tag.as_string())
                .collect()
        })
        .unwrap_or_default()
}
