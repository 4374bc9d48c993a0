//! The agent console. [`state`] is its logic in plain Rust (tested natively); the
//! Leptos UI in `app` draws it.

pub mod canned;
pub mod profiles;
pub mod reports;
pub mod state;

#[cfg(target_arch = "wasm32")]
mod ai_page;
#[cfg(target_arch = "wasm32")]
mod alert;
#[cfg(target_arch = "wasm32")]
mod app;
#[cfg(target_arch = "wasm32")]
mod canned_page;
#[cfg(target_arch = "wasm32")]
mod people_page;
#[cfg(target_arch = "wasm32")]
mod profiles_page;
#[cfg(target_arch = "wasm32")]
mod reports_page;
#[cfg(target_arch = "wasm32")]
mod tickets_page;

/// Mounts the console into `/console/`.
#[cfg(target_arch = "wasm32")]
pub fn start() {
    app::mount();
}
