//! Shared helpers for end-to-end tests, the load generator and the knowledge search
//! benchmark.

pub mod corpus;
pub mod load;
pub mod relay_process;
pub mod seed;
pub mod wire;
