//! The chat runtime: what happens in a conversation once a socket or a handler has
//! asked for it. Each rule sits beside the code that applies it, under one name:
//! `ringing/rules.rs` decides who a chat rings for and `ringing/mod.rs` rings them;
//! `queue/estimate.rs` works out the wait and `queue/mod.rs` tells the visitors;
//! `timers/due.rs` says what is due and `timers/mod.rs` does it.

pub mod ai;
pub mod bot;
pub mod context;
pub mod events;
pub mod files;
pub mod queue;
pub mod ringing;
pub mod timers;
mod webhook;
