//! The visitor widget. [`state`] is the whole chat logic in plain Rust (tested
//! natively); the Leptos UI in `app` and the browser glue in `browser` only draw it
//! and carry its frames.

pub mod state;

#[cfg(target_arch = "wasm32")]
mod app;
#[cfg(target_arch = "wasm32")]
pub mod browser;
#[cfg(target_arch = "wasm32")]
pub mod files;
#[cfg(target_arch = "wasm32")]
mod host;
#[cfg(target_arch = "wasm32")]
pub mod message_text;
// Leptos's #[component] re-emits a component as a `pub fn`, whatever its declared
// visibility.
#[cfg(target_arch = "wasm32")]
#[allow(unreachable_pub)]
mod menu;
#[cfg(target_arch = "wasm32")]
#[allow(unreachable_pub)]
mod rating;

/// Mounts the widget into the page (the relay's `/widget/` iframe).
#[cfg(target_arch = "wasm32")]
pub fn start() {
    app::mount();
}
