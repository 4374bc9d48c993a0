//! Reading and writing frames: one parse per direction, with distinct error codes for
//! an unknown `type` and a malformed known one, and the checks a message passes before
//! it is stored.

use serde::Serialize;

use crate::{
    AgentRequest, ErrorCode, MAX_BODY_CHARS, MAX_CLIENT_MSG_ID_BYTES, MAX_FRAME_BYTES,
    ProtocolError, VisitorRequest,
};

/// Parses one text frame from the widget.
pub fn parse_visitor_request(text: &str) -> Result<VisitorRequest, ProtocolError> {
    parse_frame(
        text,
        &[
            "hello",
            "send",
            "end_chat",
            "typing",
            "rate",
            "email_transcript",
            "identify",
        ],
    )
}

/// Parses one text frame from the console.
pub fn parse_agent_request(text: &str) -> Result<AgentRequest, ProtocolError> {
    parse_frame(
        text,
        &[
            "hello",
            "open",
            "join",
            "send",
            "end_chat",
            "set_status",
            "set_visitor_uploads",
            "transfer",
            "note",
            "typing",
        ],
    )
}

/// Parses a frame in two steps so that an unknown `type` and a malformed known one
/// get different codes.
fn parse_frame<T: serde::de::DeserializeOwned>(
    text: &str,
    known_types: &[&str],
) -> Result<T, ProtocolError> {
    if text.len() > MAX_FRAME_BYTES {
        return Err(ProtocolError::new(
            ErrorCode::FrameTooLarge,
            format!("Frames are limited to {MAX_FRAME_BYTES} bytes."),
        ));
    }
    let value: serde_json::Value = serde_json::from_str(text).map_err(|err| {
        ProtocolError::new(
            ErrorCode::BadFrame,
            format!("The frame is not JSON: {err}."),
        )
    })?;
    let Some(kind) = value.get("type").and_then(serde_json::Value::as_str) else {
        return Err(ProtocolError::new(
            ErrorCode::BadFrame,
            "The frame must be a JSON object with a string \"type\".",
        ));
    };
    if !known_types.contains(&kind) {
        // Named, but not echoed at length: the type came from the peer.
        let shown: String = kind.chars().take(40).collect();
        return Err(ProtocolError::new(
            ErrorCode::UnknownType,
            format!("Unknown frame type \"{shown}\"."),
        ));
    }
    let kind = kind.to_owned();
    serde_json::from_value(value).map_err(|err| {
        ProtocolError::new(
            ErrorCode::BadFrame,
            format!("The \"{kind}\" frame is malformed: {err}."),
        )
    })
}

/// A `client_msg_id` a client may use: 1 to [`MAX_CLIENT_MSG_ID_BYTES`] bytes with no
/// control characters (PostgreSQL's text cannot hold a NUL, and an id is never
/// meant to hold one).
pub fn usable_client_msg_id(client_msg_id: &str) -> bool {
    !client_msg_id.is_empty()
        && client_msg_id.len() <= MAX_CLIENT_MSG_ID_BYTES
        && !client_msg_id.chars().any(char::is_control)
}

/// Checks a message before it is stored: a non-blank body within the limits and a
/// usable `client_msg_id`.
pub fn validate_outgoing(client_msg_id: &str, body: &str) -> Result<(), ProtocolError> {
    if !usable_client_msg_id(client_msg_id) {
        return Err(ProtocolError::new(
            ErrorCode::BadFrame,
            format!(
                "client_msg_id must be 1 to {MAX_CLIENT_MSG_ID_BYTES} bytes, \
                 without control characters."
            ),
        ));
    }
    if body.contains('\0') {
        return Err(ProtocolError::new(
            ErrorCode::BadFrame,
            "A message cannot hold the NUL character.",
        ));
    }
    if body.trim().is_empty() {
        return Err(ProtocolError::new(
            ErrorCode::EmptyMessage,
            "A message needs some text.",
        ));
    }
    if body.chars().count() > MAX_BODY_CHARS {
        return Err(ProtocolError::new(
            ErrorCode::MessageTooLong,
            format!("Messages are limited to {MAX_BODY_CHARS} characters."),
        ));
    }
    Ok(())
}

/// Serialises a frame. Our frame types cannot fail to serialise.
pub fn to_text<T: Serialize>(frame: &T) -> String {
    serde_json::to_string(frame).unwrap_or_else(|_| {
        r#"{"type":"error","code":"internal","message":"The relay could not encode a frame."}"#
            .to_owned()
    })
}
