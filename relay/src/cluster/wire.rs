//! What one node says to the others over NATS: a hub op, as one line of JSON naming
//! the node that decided it, then the frame's text as it is (not escaped again); and
//! which agents a node has online.

use std::collections::HashSet;

use porchlight_protocol::AgentId;
use serde::{Deserialize, Serialize};

use crate::hub::{Frame, NodeId, Op};

#[derive(Serialize, Deserialize)]
struct Header {
    node: NodeId,
    #[serde(flatten)]
    op: Op,
}

/// A node's online agents.
#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Presence {
    pub(super) node: NodeId,
    pub(super) agents: HashSet<AgentId>,
}

#[derive(Debug, thiserror::Error)]
#[error("a cluster message that is not one: {0}")]
pub(super) struct NotAMessage(String);

pub(super) fn encode_op(node: NodeId, op: Op, frame: &str) -> Vec<u8> {
    let mut bytes = serde_json::to_vec(&Header { node, op }).unwrap_or_default();
    bytes.push(b'\n');
    bytes.extend_from_slice(frame.as_bytes());
    bytes
}

pub(super) fn decode_op(bytes: &[u8]) -> Result<(NodeId, Op, Frame), NotAMessage> {
    let text = std::str::from_utf8(bytes).map_err(|err| NotAMessage(err.to_string()))?;
    let (header, frame) = text
        .split_once('\n')
        .ok_or_else(|| NotAMessage("no header line".into()))?;
    let header: Header =
        serde_json::from_str(header).map_err(|err| NotAMessage(err.to_string()))?;
    Ok((header.node, header.op, Frame::from(frame)))
}

pub(super) fn encode_presence(presence: &Presence) -> Vec<u8> {
    serde_json::to_vec(presence).unwrap_or_default()
}

pub(super) fn decode_presence(bytes: &[u8]) -> Result<Presence, NotAMessage> {
    serde_json::from_slice(bytes).map_err(|err| NotAMessage(err.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::Audience;

    #[test]
    fn an_op_and_its_frame_arrive_as_they_left() {
        let op = Op::Publish {
            conversation: 7,
            audience: Audience::Visitors,
            seq: Some(12),
        };
        let frame = "{\"type\":\"message\",\"body\":\"two\\nlines\"}\nand a raw newline";
        let (node, decoded, text) = decode_op(&encode_op(3, op.clone(), frame)).unwrap();
        assert_eq!((node, decoded, &*text), (3, op, frame));
    }

    #[test]
    fn presence_arrives_as_it_left_and_garbage_is_refused() {
        let presence = Presence {
            node: 9,
            agents: HashSet::from([1, 2]),
        };
        assert_eq!(
            decode_presence(&encode_presence(&presence)).unwrap(),
            presence
        );
        assert!(decode_op(b"no newline").is_err());
        assert!(decode_op(b"{\"node\":1}\n").is_err(), "no op");
        assert!(decode_presence(b"[").is_err());
    }
}
