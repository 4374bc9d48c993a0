//! Everything the widget knows, and how each relay frame changes it.

use porchlight_protocol::sync::{Outgoing, Transcript};
use porchlight_protocol::{
    Author, ConversationState, ConversationStatus, PROTOCOL_VERSION, PageInfo, Resume,
    VisitorEvent, VisitorRequest,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    Connecting,
    Online,
    Reconnecting,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChatState {
    pub site: String,
    /// The visitor's secret; kept in the iframe's localStorage.
    pub token: Option<String>,
    pub link: Link,
    pub conversation: Option<ConversationState>,
    pub transcript: Transcript,
    /// Written but not yet acknowledged; resent after every reconnect.
    pub outbox: Vec<Outgoing>,
    /// Messages from the other side while the panel was closed.
    pub unread: u32,
    pub visible: bool,
    /// The last error the relay reported, for the visitor.
    pub notice: Option<String>,
}

impl ChatState {
    pub fn new(site: String, token: Option<String>, outbox: Vec<Outgoing>) -> Self {
        let mut transcript = Transcript::default();
        for outgoing in &outbox {
            transcript.push_pending(Author::Visitor, outgoing);
        }
        Self {
            site,
            token,
            link: Link::Connecting,
            conversation: None,
            transcript,
            outbox,
            unread: 0,
            visible: false,
            notice: None,
        }
    }

    /// The first frame on a new socket.
    pub fn hello(&self, page: Option<PageInfo>) -> VisitorRequest {
        VisitorRequest::Hello {
            v: PROTOCOL_VERSION,
            site: self.site.clone(),
            token: self.token.clone(),
            resume: self.conversation.as_ref().map(|conversation| Resume {
                conversation_id: conversation.id,
                last_seq: self.transcript.last_seq(conversation.id),
            }),
            page,
        }
    }

    /// The visitor writes a message; the returned frame goes out if the socket is up
    /// (otherwise the outbox sends it after the next welcome).
    pub fn write(&mut self, client_msg_id: String, body: String) -> VisitorRequest {
        let outgoing = Outgoing {
            client_msg_id,
            body,
        };
        self.transcript.push_pending(Author::Visitor, &outgoing);
        self.outbox.push(outgoing.clone());
        self.notice = None;
        VisitorRequest::Send {
            client_msg_id: outgoing.client_msg_id,
            body: outgoing.body,
        }
    }

    pub fn set_visible(&mut self, visible: bool) {
        self.visible = visible;
        if visible {
            self.unread = 0;
        }
    }

    pub fn disconnected(&mut self) {
        self.link = Link::Reconnecting;
    }

    /// Applies a relay frame; returns frames to send in answer.
    pub fn apply(&mut self, event: VisitorEvent) -> Vec<VisitorRequest> {
        match event {
            VisitorEvent::Welcome {
                token,
                conversation,
                ..
            } => {
                self.token = Some(token);
                self.link = Link::Online;
                self.conversation = conversation;
                self.outbox
                    .iter()
                    .map(|outgoing| VisitorRequest::Send {
                        client_msg_id: outgoing.client_msg_id.clone(),
                        body: outgoing.body.clone(),
                    })
                    .collect()
            }
            VisitorEvent::Ack {
                conversation_id,
                client_msg_id,
                seq,
            } => {
                self.outbox
                    .retain(|outgoing| outgoing.client_msg_id != client_msg_id);
                self.transcript.ack(conversation_id, &client_msg_id, seq);
                self.follow(conversation_id);
                Vec::new()
            }
            VisitorEvent::Message(message) => {
                let from_others = message.author != Author::Visitor;
                let conversation_id = message.conversation_id;
                if self.transcript.receive(message) && from_others && !self.visible {
                    self.unread += 1;
                }
                self.follow(conversation_id);
                Vec::new()
            }
            VisitorEvent::Status {
                conversation_id,
                status,
                agent_name,
            } => {
                self.conversation = Some(ConversationState {
                    id: conversation_id,
                    status,
                    agent_name,
                    last_seq: self.transcript.last_seq(conversation_id),
                });
                Vec::new()
            }
            VisitorEvent::Error(error) => {
                self.notice = Some(error.message);
                Vec::new()
            }
        }
    }

    /// A frame about a newer conversation than ours means one was started (maybe in
    /// another tab): follow it.
    fn follow(&mut self, conversation_id: i64) {
        let newer = self
            .conversation
            .as_ref()
            .is_none_or(|current| current.id < conversation_id);
        if newer {
            self.conversation = Some(ConversationState {
                id: conversation_id,
                status: ConversationStatus::Queued,
                agent_name: None,
                last_seq: self.transcript.last_seq(conversation_id),
            });
        }
    }

    /// The line under the title.
    pub fn status_line(&self) -> String {
        if self.link == Link::Reconnecting {
            return "Reconnecting…".into();
        }
        match &self.conversation {
            None => "Ask us anything. We usually reply in a few minutes.".into(),
            Some(conversation) => match conversation.status {
                ConversationStatus::Queued => "Waiting for an agent…".into(),
                ConversationStatus::Active => match &conversation.agent_name {
                    Some(name) => format!("You are chatting with {name}"),
                    None => "An agent joined".into(),
                },
                ConversationStatus::Ended => "Chat ended. Write to start a new one.".into(),
            },
        }
    }

    /// True while the visitor has a conversation that is not over (the loader then
    /// loads the widget at once on the next page).
    pub fn has_open_conversation(&self) -> bool {
        self.conversation
            .as_ref()
            .is_some_and(|conversation| conversation.status != ConversationStatus::Ended)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use porchlight_protocol::{ChatMessage, ErrorCode, ProtocolError};

    fn agent_message(seq: u64) -> VisitorEvent {
        VisitorEvent::Message(ChatMessage {
            conversation_id: 4,
            seq,
            author: Author::Agent,
            author_name: Some("Ana".into()),
            body: "Hello!".into(),
            client_msg_id: None,
            at: 1,
        })
    }

    fn welcome(conversation: Option<ConversationState>) -> VisitorEvent {
        VisitorEvent::Welcome {
            v: PROTOCOL_VERSION,
            token: "tok".into(),
            conversation,
        }
    }

    #[test]
    fn unacknowledged_messages_are_resent_after_welcome_until_acked() {
        let mut state = ChatState::new("demo".into(), None, Vec::new());
        let sent = state.write("m1".into(), "hi".into());
        assert!(matches!(sent, VisitorRequest::Send { .. }));
        state.disconnected();
        assert_eq!(state.status_line(), "Reconnecting…");
        let resend = state.apply(welcome(None));
        assert_eq!(resend, vec![sent]);
        assert_eq!(state.token.as_deref(), Some("tok"));
        state.apply(VisitorEvent::Ack {
            conversation_id: 4,
            client_msg_id: "m1".into(),
            seq: 1,
        });
        assert!(state.outbox.is_empty());
        assert_eq!(state.conversation.as_ref().map(|c| c.id), Some(4));
        assert!(state.apply(welcome(None)).is_empty());
    }

    #[test]
    fn a_reloaded_outbox_shows_and_resends_its_messages() {
        let outbox = vec![Outgoing {
            client_msg_id: "m1".into(),
            body: "typed before reload".into(),
        }];
        let mut state = ChatState::new("demo".into(), Some("tok".into()), outbox);
        assert_eq!(state.transcript.entries().len(), 1);
        assert_eq!(state.apply(welcome(None)).len(), 1);
    }

    #[test]
    fn hello_resumes_from_the_last_seq_seen() {
        let mut state = ChatState::new("demo".into(), Some("tok".into()), Vec::new());
        state.apply(welcome(Some(ConversationState {
            id: 4,
            status: ConversationStatus::Active,
            agent_name: Some("Ana".into()),
            last_seq: 2,
        })));
        state.apply(agent_message(1));
        state.apply(agent_message(2));
        let VisitorRequest::Hello { resume, token, .. } = state.hello(None) else {
            panic!("not a hello");
        };
        assert_eq!(token.as_deref(), Some("tok"));
        assert_eq!(
            resume,
            Some(Resume {
                conversation_id: 4,
                last_seq: 2
            })
        );
        assert_eq!(state.status_line(), "You are chatting with Ana");
    }

    #[test]
    fn unread_counts_only_new_messages_from_others_while_closed() {
        let mut state = ChatState::new("demo".into(), None, Vec::new());
        state.apply(agent_message(1));
        state.apply(agent_message(1));
        state.apply(agent_message(2));
        assert_eq!(state.unread, 2);
        state.set_visible(true);
        assert_eq!(state.unread, 0);
        state.apply(agent_message(3));
        assert_eq!(state.unread, 0);
    }

    #[test]
    fn status_and_errors_reach_the_visitor() {
        let mut state = ChatState::new("demo".into(), None, Vec::new());
        state.apply(VisitorEvent::Status {
            conversation_id: 4,
            status: ConversationStatus::Ended,
            agent_name: None,
        });
        assert!(!state.has_open_conversation());
        assert!(state.status_line().starts_with("Chat ended"));
        state.apply(VisitorEvent::Error(ProtocolError::new(
            ErrorCode::MessageTooLong,
            "Too long.",
        )));
        assert_eq!(state.notice.as_deref(), Some("Too long."));
    }
}
