//! The Porchlight relay: serves the widget and console, runs their WebSockets, keeps
//! live state in the [`hub`] and durable state in the [`store`].
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

pub mod admin;
pub mod ai;
pub mod auth;
pub mod canned;
pub mod config;
pub mod context;
pub mod flow;
pub mod hub;
pub mod knowledge;
pub mod people;
pub mod profiles;
pub mod reports;
pub mod routing;
pub mod server;
pub mod store;
pub mod ticket_link;
pub mod tickets;
pub mod timers;
pub mod uploads;
pub mod waiting;
pub mod web;
pub mod ws;
