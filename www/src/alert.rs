//! How a ringing chat (or a visitor's message while the console is hidden) gets an
//! agent's attention: a short chime and, with permission, a desktop notification. Both
//! are best effort; the visual ring and the unread count are always there.

use wasm_bindgen::JsCast;
use web_sys::{AudioContext, Notification, NotificationOptions, NotificationPermission};

thread_local! {
    static AUDIO: std::cell::RefCell<Option<AudioContext>> = const { std::cell::RefCell::new(None) };
}

/// Two short notes. Browsers allow sound only after the agent has used the page.
pub(crate) fn chime() {
    AUDIO.with(|audio| {
        let mut audio = audio.borrow_mut();
        if audio.is_none() {
            *audio = AudioContext::new().ok();
        }
        let Some(context) = audio.as_ref() else {
            return;
        };
        let _ = context.resume();
        let now = context.current_time();
        for (offset, frequency) in [(0.0, 880.0), (0.18, 1320.0)] {
            let (Ok(oscillator), Ok(gain)) = (context.create_oscillator(), context.create_gain())
            else {
                return;
            };
            oscillator.frequency().set_value(frequency);
            gain.gain().set_value(0.15);
            let _ = gain
                .gain()
                .exponential_ramp_to_value_at_time(0.001, now + offset + 0.16);
            let _ = oscillator.connect_with_audio_node(&gain);
            let _ = gain.connect_with_audio_node(&context.destination());
            let _ = oscillator.start_with_when(now + offset);
            let _ = oscillator.stop_with_when(now + offset + 0.17);
        }
    });
}

/// A desktop notification, if the agent allowed them; a newer one with the same `tag`
/// replaces it.
pub(crate) fn notify(title: &str, body: &str, tag: &str) {
    if Notification::permission() != NotificationPermission::Granted {
        return;
    }
    let options = NotificationOptions::new();
    options.set_body(body);
    options.set_tag(tag);
    let _ = Notification::new_with_options(title, &options);
}

/// Whether the agent has not decided on notifications yet.
pub(crate) fn can_ask() -> bool {
    Notification::permission() == NotificationPermission::Default
}

/// Asks for permission (must run from a click).
pub(crate) fn ask() {
    if let Ok(promise) = Notification::request_permission() {
        let _ = promise.unchecked_into::<js_sys::Promise>();
    }
}
