//! "Email me the transcript": the visitor asks for their chat by email, to the
//! address they give (the widget offers the one they typed for the bot).

use std::sync::atomic::Ordering;

use porchlight_protocol::{ErrorCode, TranscriptQueued, VisitorEvent, to_text};

use super::{VisitorSession, error};
use crate::email::sender::may_email_visitor;
use crate::flow::InputType;
use crate::flow::input::check_input;
use crate::ws::socket::Outcome;
use crate::ws::store_failure;

impl VisitorSession {
    pub(super) async fn email_transcript(&mut self, email: &str) -> Outcome {
        if self.visitor.is_none() {
            return Outcome::reply(error(ErrorCode::HelloRequired, "Send hello first."));
        }
        if !self.state.email_on.load(Ordering::Relaxed) {
            return Outcome::reply(error(
                ErrorCode::NotAllowed,
                "This site does not send email.",
            ));
        }
        let Some(id) = self.conversation else {
            return Outcome::reply(error(ErrorCode::NotFound, "There is no chat to send."));
        };
        let Some(to) = check_input(InputType::Email, email.trim(), &[]) else {
            return Outcome::reply(error(
                ErrorCode::BadFrame,
                "Give an email address like name@example.com.",
            ));
        };
        // The visitor can type any address: one network asks only so often, and a
        // stranger's inbox gets only so many.
        let now = std::time::Instant::now();
        if self
            .state
            .throttles
            .transcripts_per_ip
            .take(&self.ip, now)
            .is_err()
        {
            return Outcome::reply(error(
                ErrorCode::NotAllowed,
                "Too many transcripts asked for from here; try again later.",
            ));
        }
        if !may_email_visitor(&self.state, &to) {
            return Outcome::reply(error(
                ErrorCode::NotAllowed,
                "That address has had its share of emails today.",
            ));
        }
        match self
            .state
            .store
            .queue_transcript_email(id, to.clone())
            .await
        {
            Ok(()) => {
                self.state.email_queued.notify_one();
                tracing::info!(conversation = id, "transcript emailed on request");
                Outcome::reply(to_text(&VisitorEvent::TranscriptQueued(TranscriptQueued {
                    conversation_id: id,
                    email: to,
                })))
            }
            Err(err) => Outcome::reply(to_text(&VisitorEvent::Error(store_failure(&err)))),
        }
    }
}
