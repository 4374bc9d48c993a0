//! Webhooks from chat: events queued by the store in the transaction that makes them,
//! posted by the sender, signed per Standard Webhooks, retried for about a day.

pub mod endpoints;
pub mod schedule;
pub mod sender;
pub mod sign;
