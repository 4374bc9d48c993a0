//! What the relay's HTTP API and the console exchange, defined once: the error body
//! and its codes, and each page's request and answer bodies.

mod error;
pub mod people;
pub mod profiles;
pub mod tickets;

pub use error::{ApiCode, ApiError};
