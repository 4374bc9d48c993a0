//! The host page's side (its page API, `embed-api.js`): the identity it gives, and
//! the messages and chat ends it hears about. Never the visitor's token.

use porchlight_protocol::{Author, IdentityText, VisitorRequest};

use super::{ChatState, Link};

/// Something the host page is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageEvent {
    /// A message that arrived live (not with the history).
    Message {
        author: Author,
        text: String,
    },
    ChatEnded,
}

impl ChatState {
    /// A new identity from the page after the relay refused the last one at hello:
    /// the widget may try again. Says whether it had stopped.
    pub fn retry_with_new_identity(&mut self) -> bool {
        let stopped = self.stopped;
        if stopped {
            self.stopped = false;
            self.notice = None;
            self.link = Link::Reconnecting;
        }
        stopped
    }

    /// The page identified the visitor, or changed their context: every later hello
    /// carries it, and a socket that is up hears it now. `proof` is its token.
    pub fn identify(
        &mut self,
        identity: IdentityText,
        proof: Option<String>,
    ) -> Option<VisitorRequest> {
        self.identity = Some(identity.clone());
        self.proof = proof;
        (self.link == Link::Online).then_some(VisitorRequest::Identify { identity })
    }

    /// What the page has yet to hear, oldest first.
    pub fn take_page_events(&mut self) -> Vec<PageEvent> {
        std::mem::take(&mut self.page_events)
    }
}
