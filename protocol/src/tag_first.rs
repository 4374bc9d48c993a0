//! Reads a [`VisitorEvent`] whose `type` is its first key.
//!
//! serde's derived reader for internally tagged enums buffers the whole object before
//! it knows the variant, which costs the widget's wasm several kilobytes. The relay
//! writes `type` first (serde's writer always does), so the widget reads the tag and
//! hands the rest of the same map straight to the variant's body.

use std::fmt;

use serde::de::value::MapAccessDeserializer;
use serde::de::{Deserialize, Deserializer, Error, MapAccess, Visitor};

use crate::{
    Ack, ChatMessage, PromptChange, ProtocolError, QueueInfo, Rated, StatusChange, StreamDelta,
    TranscriptQueued, Typing, UploadsChange, VisitorEvent, Welcome,
};

const VARIANTS: &[&str] = &[
    "welcome",
    "ack",
    "message",
    "prompt",
    "status",
    "uploads",
    "queue",
    "stream",
    "typing",
    "rated",
    "transcript_queued",
    "error",
];

impl<'de> Deserialize<'de> for VisitorEvent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(TagFirst)
    }
}

struct TagFirst;

impl<'de> Visitor<'de> for TagFirst {
    type Value = VisitorEvent;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("an object whose first key is \"type\"")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<VisitorEvent, A::Error> {
        if map.next_key::<String>()?.as_deref() != Some("type") {
            return Err(A::Error::custom("the first key must be \"type\""));
        }
        let tag: String = map.next_value()?;
        let body = MapAccessDeserializer::new(map);
        Ok(match tag.as_str() {
            "welcome" => VisitorEvent::Welcome(Welcome::deserialize(body)?),
            "ack" => VisitorEvent::Ack(Ack::deserialize(body)?),
            "message" => VisitorEvent::Message(ChatMessage::deserialize(body)?),
            "prompt" => VisitorEvent::Prompt(PromptChange::deserialize(body)?),
            "status" => VisitorEvent::Status(StatusChange::deserialize(body)?),
            "uploads" => VisitorEvent::Uploads(UploadsChange::deserialize(body)?),
            "queue" => VisitorEvent::Queue(QueueInfo::deserialize(body)?),
            "stream" => VisitorEvent::Stream(StreamDelta::deserialize(body)?),
            "rated" => VisitorEvent::Rated(Rated::deserialize(body)?),
            "typing" => VisitorEvent::Typing(Typing::deserialize(body)?),
            "transcript_queued" => {
                VisitorEvent::TranscriptQueued(TranscriptQueued::deserialize(body)?)
            }
            "error" => VisitorEvent::Error(ProtocolError::deserialize(body)?),
            other => return Err(A::Error::unknown_variant(other, VARIANTS)),
        })
    }
}
