//! Fuzzing the parsers that take untrusted input, as ordinary tests over a seed
//! corpus (`corpus/<target>/`): the socket frame decoders, the profile compiler
//! (TOML and JSON), the knowledge chunker (Markdown, HTML, text, robots.txt,
//! sitemaps) and the multipart reader of chat uploads. `make fuzz` runs them longer.

#[path = "../common/mod.rs"]
mod common;
mod engine;
mod frames;
mod knowledge;
mod multipart;
mod profiles;
