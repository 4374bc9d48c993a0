//! What the relay's HTTP API and the console exchange, defined once: the error body
//! and its codes, and each page's request and answer bodies.

pub mod ai;
pub mod canned;
pub mod email;
mod error;
pub mod knowledge;
pub mod people;
pub mod profiles;
pub mod reports;
pub mod search;
pub mod session;
pub mod sites;
pub mod tickets;
pub mod v1;
pub mod visitors;
pub mod webhooks;

pub use error::{ApiCode, ApiError};
