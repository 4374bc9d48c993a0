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

/// Mounts the widget into the page (the relay's `/widget/` iframe).
#[cfg(target_arch = "wasm32")]
pub fn start() {
    app::mount();
}
