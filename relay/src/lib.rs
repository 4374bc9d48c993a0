//! The Porchlight relay: serves the widget and the console, runs their WebSockets,
//! keeps live state in the [`hub`] and durable state in the [`store`].
//!
//! # Layout
//!
//! From the outside in; a module may use the ones below it, never those above.
//!
//! - [`server`]: `Relay::open` (store, seed, caches) and `Relay::run` (serve a
//!   listener until shutdown, then finish every write). The binary (`main.rs` and
//!   `cli/`) only parses flags and calls it.
//! - [`http`]: the router and one file of handlers per resource; [`ws`]: the two
//!   sockets. Both only translate: they parse, call [`chat`] or the [`store`], reply.
//! - [`auth`]: passwords, sessions, the extractors that say who may call a handler,
//!   signed ticket links. [`error`]: every HTTP error becomes a response there.
//! - [`chat`]: the chat runtime (bot turns, the AI agent at work, ringing, the queue
//!   and its estimates, waiting timers, files, what everyone hears when a chat
//!   changes), each rule beside the code that applies it.
//! - [`flow`], [`ai`], [`knowledge`], [`reports`], [`profiles`]: the rules of their
//!   concern as plain Rust (the profile language and its engine; the AI provider,
//!   prompt and answer rules; documents, passages and ranking; report sums and CSV;
//!   stored profiles as compiled flows).
//! - [`outbound`]: requests to addresses others chose (webhooks, the crawler) reach
//!   public addresses only.
//! - [`email`]: SMTP settings, each site's templates and the outbox's sender;
//!   [`translation`]: through the AI provider or a translation service;
//!   [`retention`]: deleting ended chats a site keeps no longer.
//! - [`throttle`]: how often one visitor, address or account may do a costly thing.
//! - [`metrics`]: what the relay counts, and `/metrics` for Prometheus.
//! - [`hub`]: live sockets and who follows what; [`cluster`]: in cluster mode, the
//!   hub's ops shared with the other relays over NATS. [`state`]: what they all share.
//!   [`config`]: settings from defaults, file, environment and flags.
//! - [`attachments`]: the folder of chat files, where a file gets its name only once
//!   its row is committed. [`backup`]: a copy of the data folder, and putting one back.
//! - [`store`]: durable state behind a backend-neutral trait; `store/sqlite/` is the
//!   embedded backend, one file per group of tables, and `store/postgres/` the one
//!   several relays share.
//!
//! Start one from a test:
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use porchlight_relay::{config::Config, server::Relay};
//! let (relay, _admin) = Relay::open(Config::default()).await?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! relay.run(listener, std::future::pending()).await?;
//! # Ok(()) }
//! ```

pub mod ai;
pub mod attachments;
pub mod auth;
pub mod backup;
pub mod chat;
pub mod cluster;
pub mod config;
pub mod email;
pub mod error;
pub mod flow;
pub mod http;
pub mod hub;
pub mod knowledge;
pub mod metrics;
pub mod outbound;
pub mod profiles;
pub mod reports;
pub mod retention;
pub mod server;
pub mod state;
pub mod store;
pub mod throttle;
pub mod translation;
pub mod webhooks;
pub mod ws;
