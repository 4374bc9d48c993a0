//! The socket frame decoders: whatever arrives, a frame parses or is refused with one
//! of the three decoding codes and a message; a parsed frame reads back the same once
//! written, and a message's checks never panic.

use porchlight_protocol::{
    AgentRequest, ErrorCode, ProtocolError, VisitorRequest, parse_agent_request,
    parse_visitor_request, validate_outgoing,
};
use serde::Serialize;

use crate::engine::Fuzzer;

/// JSON's own tokens and the frames' names and values.
const DICTIONARY: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "\"",
    "\\u0000",
    "\\ud800",
    "\\\"",
    "null",
    "true",
    "false",
    "-0",
    "1e999",
    "18446744073709551616",
    "-9223372036854775809",
    "0.5",
    "\"type\"",
    "\"hello\"",
    "\"send\"",
    "\"end_chat\"",
    "\"open\"",
    "\"join\"",
    "\"set_status\"",
    "\"set_visitor_uploads\"",
    "\"transfer\"",
    "\"v\"",
    "\"site\"",
    "\"token\"",
    "\"resume\"",
    "\"page\"",
    "\"start_step\"",
    "\"preview_profile\"",
    "\"ticket\"",
    "\"client_msg_id\"",
    "\"body\"",
    "\"conversation_id\"",
    "\"last_seq\"",
    "\"status_id\"",
    "\"allowed\"",
    "\"to_team\"",
    "\"to_agent\"",
    "\"url\"",
    "\"referrer\"",
    "\"id\"",
    "\u{feff}",
    "é",
    "😀",
];

/// What a parse led to, coarse enough that the corpus grows with new shapes only.
fn outcome<T: Serialize>(parsed: &Result<T, ProtocolError>) -> String {
    match parsed {
        Ok(request) => {
            // The type and which fields it carries.
            let value = serde_json::to_value(request).expect("a parsed frame serializes");
            let fields: Vec<&String> = value
                .as_object()
                .into_iter()
                .flatten()
                .map(|(key, _)| key)
                .collect();
            format!("ok:{}:{fields:?}", value["type"])
        }
        // An unknown type's message names the type: one outcome for all of them.
        Err(err) if err.code == ErrorCode::UnknownType => "unknown type".to_owned(),
        Err(err) => format!("{:?}:{}", err.code, shape(&err.message)),
    }
}

/// A refusal's message without what the input put in it (quoted text, numbers).
fn shape(message: &str) -> String {
    let mut quoted = None;
    message
        .chars()
        .filter(|&c| {
            if quoted == Some(c) {
                quoted = None;
                return false;
            }
            if quoted.is_none() && (c == '"' || c == '`') {
                quoted = Some(c);
            }
            quoted.is_none() && !c.is_ascii_digit()
        })
        .collect()
}

fn check_refusal(err: &ProtocolError) {
    assert!(
        matches!(
            err.code,
            ErrorCode::BadFrame | ErrorCode::UnknownType | ErrorCode::FrameTooLarge
        ),
        "a decoding refusal uses a decoding code: {err:?}"
    );
    assert!(!err.message.is_empty(), "every refusal says why");
}

/// Parses `input` with `parse`; a parsed frame must read back as written, and a
/// message in it (`message_of`) goes through the checks before storing.
fn frame<T: Serialize + PartialEq + std::fmt::Debug>(
    input: &[u8],
    parse: fn(&str) -> Result<T, ProtocolError>,
    message_of: fn(&T) -> Option<(&str, &str)>,
) -> String {
    let text = String::from_utf8_lossy(input);
    let parsed = parse(&text);
    match &parsed {
        Ok(request) => {
            let again = parse(&serde_json::to_string(request).unwrap());
            assert_eq!(again.as_ref(), Ok(request), "a frame reads back as written");
            if let Some((client_msg_id, body)) = message_of(request) {
                let _checked = validate_outgoing(client_msg_id, body);
            }
        }
        Err(err) => check_refusal(err),
    }
    outcome(&parsed)
}

fn visitor_frame(input: &[u8]) -> String {
    frame(input, parse_visitor_request, |request| match request {
        VisitorRequest::Send {
            client_msg_id,
            body,
        } => Some((client_msg_id, body)),
        _ => None,
    })
}

fn agent_frame(input: &[u8]) -> String {
    frame(input, parse_agent_request, |request| match request {
        AgentRequest::Send {
            client_msg_id,
            body,
            ..
        } => Some((client_msg_id, body)),
        _ => None,
    })
}

#[test]
fn visitor_frames() {
    Fuzzer::new("visitor_frames", [], DICTIONARY).run(Fuzzer::budget(30_000), visitor_frame);
}

#[test]
fn agent_frames() {
    Fuzzer::new("agent_frames", [], DICTIONARY).run(Fuzzer::budget(30_000), agent_frame);
}
