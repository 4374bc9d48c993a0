//! Shared helpers for end-to-end tests and the load generator.
