//! The client half of the delivery guarantee, shared by widget and console: an outbox
//! of unacknowledged messages, a transcript that dedupes by `(conversation, seq)`, and
//! the reconnect backoff. Plain data, so it is tested natively.

use serde::{Deserialize, Serialize};

use crate::{Ack, AttachmentInfo, Author, ChatMessage, ConversationId, Seq, Source};

/// One line of a transcript.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub conversation_id: Option<ConversationId>,
    /// `None` while the relay has not acknowledged it.
    pub seq: Option<Seq>,
    pub client_msg_id: Option<String>,
    pub author: Author,
    pub author_name: Option<String>,
    pub body: String,
    /// Milliseconds since the Unix epoch; `None` while pending.
    pub at: Option<i64>,
    /// A file sent as this message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<AttachmentInfo>,
    /// An AI answer's citations.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<Source>,
}

impl Entry {
    pub fn is_pending(&self) -> bool {
        self.seq.is_none()
    }

    /// A key for lists: stable from pending to stored.
    pub fn key(&self) -> String {
        match (&self.client_msg_id, self.conversation_id, self.seq) {
            (Some(id), _, _) => format!("c:{id}"),
            (None, Some(conversation), Some(seq)) => format!("s:{conversation}:{seq}"),
            _ => String::new(),
        }
    }
}

/// A message waiting for its ack; resent after every reconnect until acked.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub client_msg_id: String,
    pub body: String,
}

/// Messages in order: stored ones by `(conversation, seq)`, then pending ones in the
/// order they were written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transcript {
    entries: Vec<Entry>,
}

impl Transcript {
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// What to resume `conversation` from: the highest `seq` with every earlier one
    /// present. Live messages can arrive out of order, so a gap means one is still
    /// missing and the resume must fetch it.
    pub fn last_seq(&self, conversation: ConversationId) -> Seq {
        let mut seqs: Vec<Seq> = self
            .entries
            .iter()
            .filter(|entry| entry.conversation_id == Some(conversation))
            .filter_map(|entry| entry.seq)
            .collect();
        seqs.sort_unstable();
        let mut contiguous = 0;
        for seq in seqs {
            if seq == contiguous + 1 {
                contiguous = seq;
            } else if seq > contiguous + 1 {
                break;
            }
        }
        contiguous
    }

    /// Adds a message the user just wrote.
    pub fn push_pending(&mut self, author: Author, outgoing: &Outgoing) {
        if self
            .entries
            .iter()
            .any(|entry| entry.client_msg_id.as_deref() == Some(&outgoing.client_msg_id))
        {
            return;
        }
        self.entries.push(Entry {
            conversation_id: None,
            seq: None,
            client_msg_id: Some(outgoing.client_msg_id.clone()),
            author,
            author_name: None,
            body: outgoing.body.clone(),
            at: None,
            attachment: None,
            sources: Vec::new(),
        });
    }

    /// Marks a pending message stored, with the time the relay stored it.
    pub fn ack(&mut self, ack: &Ack) {
        let client_msg_id = ack.client_msg_id.as_str();
        if self.has(ack.conversation_id, ack.seq) {
            self.entries.retain(|entry| {
                !(entry.is_pending() && entry.client_msg_id.as_deref() == Some(client_msg_id))
            });
            return;
        }
        if let Some(index) = self.pending_index(client_msg_id) {
            let mut entry = self.entries.remove(index);
            entry.conversation_id = Some(ack.conversation_id);
            entry.seq = Some(ack.seq);
            entry.at = Some(ack.at);
            self.insert_stored(entry);
        }
    }

    fn pending_index(&self, client_msg_id: &str) -> Option<usize> {
        self.entries.iter().position(|entry| {
            entry.is_pending() && entry.client_msg_id.as_deref() == Some(client_msg_id)
        })
    }

    fn has(&self, conversation: ConversationId, seq: Seq) -> bool {
        self.entries
            .iter()
            .any(|entry| entry.conversation_id == Some(conversation) && entry.seq == Some(seq))
    }

    /// Adds a stored message unless it is already here; says whether it was new.
    pub fn receive(&mut self, message: ChatMessage) -> bool {
        if self.has(message.conversation_id, message.seq) {
            return false;
        }
        // Our own message from another tab or a resume: confirm the pending copy.
        if let Some(client_msg_id) = &message.client_msg_id
            && let Some(index) = self.pending_index(client_msg_id)
        {
            let mut entry = self.entries.remove(index);
            entry.conversation_id = Some(message.conversation_id);
            entry.seq = Some(message.seq);
            entry.at = Some(message.at);
            self.insert_stored(entry);
            return false;
        }
        self.insert_stored(Entry {
            conversation_id: Some(message.conversation_id),
            seq: Some(message.seq),
            client_msg_id: message.client_msg_id,
            author: message.author,
            author_name: message.author_name,
            body: message.body,
            at: Some(message.at),
            attachment: message.attachment,
            sources: message.sources,
        });
        true
    }

    /// Keeps the order without sorting: stored entries by `(conversation, seq)`, then
    /// the pending ones, which stay in the order they were written.
    fn insert_stored(&mut self, entry: Entry) {
        let key = (entry.conversation_id, entry.seq);
        let index = self.entries.partition_point(|other| {
            !other.is_pending() && (other.conversation_id, other.seq) < key
        });
        self.entries.insert(index, entry);
    }
}

/// Delay before reconnect attempt `attempt` (0-based): exponential from 500 ms, capped
/// at 30 s, with jitter in `[0, 1)` spreading it over the upper half so a relay restart
/// is not met by every client at once.
pub fn reconnect_delay_ms(attempt: u32, jitter: f64) -> u32 {
    const BASE_MS: u32 = 500;
    const CAP_MS: u32 = 30_000;
    let ceiling = BASE_MS.saturating_mul(1u32 << attempt.min(16)).min(CAP_MS);
    let jitter = jitter.clamp(0.0, 1.0);
    (f64::from(ceiling) * (0.5 + jitter / 2.0)) as u32
}

/// Typing pulses go out at most this often while someone types (ms); the relay passes
/// on at most one a second, and the other side shows one for [`TYPING_SHOWN_MS`].
pub const TYPING_PULSE_MS: f64 = 2500.0;
/// How long one pulse from the other side shows "typing…" (ms).
pub const TYPING_SHOWN_MS: u64 = 6000;

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(
        conversation: ConversationId,
        seq: Seq,
        author: Author,
        id: Option<&str>,
    ) -> ChatMessage {
        ChatMessage {
            conversation_id: conversation,
            seq,
            author,
            author_name: None,
            body: format!("m{seq}"),
            client_msg_id: id.map(str::to_owned),
            at: 1,
            attachment: None,
            sources: Vec::new(),
        }
    }

    fn out(id: &str) -> Outgoing {
        Outgoing {
            client_msg_id: id.into(),
            body: "hi".into(),
        }
    }

    #[test]
    fn messages_are_deduped_by_seq_and_kept_in_order() {
        let mut transcript = Transcript::default();
        assert!(transcript.receive(stored(1, 2, Author::Agent, None)));
        assert!(transcript.receive(stored(1, 1, Author::System, None)));
        assert!(!transcript.receive(stored(1, 2, Author::Agent, None)));
        assert!(transcript.receive(stored(2, 1, Author::System, None)));
        let order: Vec<(Option<i64>, Option<u64>)> = transcript
            .entries()
            .iter()
            .map(|entry| (entry.conversation_id, entry.seq))
            .collect();
        assert_eq!(
            order,
            vec![(Some(1), Some(1)), (Some(1), Some(2)), (Some(2), Some(1))]
        );
        assert_eq!(transcript.last_seq(1), 2);
        assert_eq!(transcript.last_seq(3), 0);
    }

    #[test]
    fn resume_starts_before_the_first_gap() {
        let mut transcript = Transcript::default();
        transcript.receive(stored(1, 1, Author::Agent, None));
        transcript.receive(stored(1, 2, Author::Agent, None));
        transcript.receive(stored(1, 4, Author::Agent, None));
        assert_eq!(transcript.last_seq(1), 2, "seq 3 is missing: resume from 2");
        transcript.receive(stored(1, 3, Author::Agent, None));
        assert_eq!(transcript.last_seq(1), 4);
    }

    fn ack(conversation: ConversationId, id: &str, seq: Seq) -> Ack {
        Ack {
            conversation_id: conversation,
            client_msg_id: id.into(),
            seq,
            at: 1_700_000_000_000 + i64::try_from(seq).unwrap(),
        }
    }

    #[test]
    fn an_acked_message_is_no_longer_pending_and_has_the_stored_time() {
        let mut transcript = Transcript::default();
        transcript.push_pending(Author::Visitor, &out("a"));
        assert_eq!(transcript.entries()[0].at, None);
        transcript.ack(&ack(5, "a", 1));
        let entry = &transcript.entries()[0];
        assert!(!entry.is_pending());
        assert_eq!(entry.at, Some(1_700_000_000_001));
        assert_eq!(
            entry.key(),
            "c:a",
            "the list key stays the same from pending to stored"
        );
    }

    #[test]
    fn a_pending_message_is_confirmed_by_ack_or_by_its_echo_but_shown_once() {
        let mut transcript = Transcript::default();
        transcript.push_pending(Author::Visitor, &out("a"));
        transcript.push_pending(Author::Visitor, &out("a"));
        transcript.push_pending(Author::Visitor, &out("b"));
        assert_eq!(transcript.entries().len(), 2);
        assert!(transcript.entries().iter().all(Entry::is_pending));
        transcript.ack(&ack(5, "a", 1));
        assert!(!transcript.receive(stored(5, 2, Author::Visitor, Some("b"))));
        assert!(!transcript.receive(stored(5, 1, Author::Visitor, Some("a"))));
        assert_eq!(transcript.entries().len(), 2);
        assert!(transcript.entries().iter().all(|entry| !entry.is_pending()));
        assert_eq!(transcript.last_seq(5), 2);
    }

    #[test]
    fn an_ack_for_a_message_already_received_drops_the_pending_copy() {
        let mut transcript = Transcript::default();
        transcript.push_pending(Author::Visitor, &out("a"));
        assert!(transcript.receive(stored(5, 1, Author::Visitor, None)));
        transcript.ack(&ack(5, "a", 1));
        assert_eq!(transcript.entries().len(), 1);
    }

    #[test]
    fn pending_messages_stay_after_stored_ones() {
        let mut transcript = Transcript::default();
        transcript.push_pending(Author::Visitor, &out("a"));
        transcript.receive(stored(5, 1, Author::Agent, None));
        assert!(transcript.entries()[1].is_pending());
        assert_eq!(transcript.entries()[0].key(), "s:5:1");
        assert_eq!(transcript.entries()[1].key(), "c:a");
    }

    #[test]
    fn reconnect_delays_grow_cap_and_jitter() {
        assert_eq!(reconnect_delay_ms(0, 0.0), 250);
        assert_eq!(reconnect_delay_ms(0, 1.0), 500);
        assert_eq!(reconnect_delay_ms(3, 1.0), 4_000);
        assert_eq!(reconnect_delay_ms(10, 1.0), 30_000);
        assert_eq!(reconnect_delay_ms(99, 0.0), 15_000);
        assert!(reconnect_delay_ms(4, 0.3) < reconnect_delay_ms(4, 0.9));
    }
}
