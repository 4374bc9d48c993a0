//! The agent console. [`state`], [`canned`], [`contact`], [`profiles`], [`reports`] and
//! [`webhooks`] are its logic in plain Rust (tested natively); the Leptos UI draws them: `app` (log in and
//! the socket), `desk` (pages and shortcuts), `chat_list` and `conversation` (the
//! chats room), one file per admin page, and `api`, the one HTTP client.

// Leptos's #[component] re-emits each component as a `pub fn`, whatever its
// declared visibility: the lint cannot be met by the UI modules.
#![cfg_attr(target_arch = "wasm32", allow(unreachable_pub))]

pub mod canned;
pub mod contact;
pub mod profiles;
pub mod reports;
pub mod state;
pub mod webhooks;

#[cfg(target_arch = "wasm32")]
mod agents_table;
#[cfg(target_arch = "wasm32")]
mod ai_page;
#[cfg(target_arch = "wasm32")]
mod alert;
#[cfg(target_arch = "wasm32")]
mod api;
#[cfg(target_arch = "wasm32")]
mod api_keys;
#[cfg(target_arch = "wasm32")]
mod app;
#[cfg(target_arch = "wasm32")]
mod canned_page;
#[cfg(target_arch = "wasm32")]
mod chat_list;
#[cfg(target_arch = "wasm32")]
mod chat_search;
#[cfg(target_arch = "wasm32")]
mod conversation;
#[cfg(target_arch = "wasm32")]
mod desk;
#[cfg(target_arch = "wasm32")]
mod email_page;
#[cfg(target_arch = "wasm32")]
mod email_templates;
#[cfg(target_arch = "wasm32")]
mod password;
#[cfg(target_arch = "wasm32")]
mod people_page;
#[cfg(target_arch = "wasm32")]
mod profiles_page;
#[cfg(target_arch = "wasm32")]
mod reports_page;
#[cfg(target_arch = "wasm32")]
mod sites_page;
#[cfg(target_arch = "wasm32")]
mod tickets_page;
#[cfg(target_arch = "wasm32")]
mod translation_page;
#[cfg(target_arch = "wasm32")]
mod webhooks_section;

/// Mounts the console into `/console/`.
#[cfg(target_arch = "wasm32")]
pub fn start() {
    app::mount();
}
