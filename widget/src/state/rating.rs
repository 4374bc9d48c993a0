//! Rating a chat once it has ended, as the profile asks.

use porchlight_protocol::{ConversationStatus, Rated, RatingScale, VisitorRequest};

use super::ChatState;

impl ChatState {
    /// The scale to offer: the chat on screen has ended, the profile asks for a
    /// rating, and the visitor has not given one.
    pub fn rating_asked(&self) -> Option<RatingScale> {
        let scale = self.profile.as_ref()?.rating;
        let conversation = self.conversation.as_ref()?;
        (conversation.status == ConversationStatus::Ended
            && conversation.rating.is_none()
            && !scale.is_off())
        .then_some(scale)
    }

    /// The visitor rated the chat on screen (it ended).
    pub fn has_rated(&self) -> bool {
        self.conversation.as_ref().is_some_and(|conversation| {
            conversation.status == ConversationStatus::Ended && conversation.rating.is_some()
        })
    }

    /// The frame that rates the chat: `None` unless a rating is asked and `score` fits
    /// its scale. A blank comment is left out.
    pub fn rate(&self, score: u8, comment: &str) -> Option<VisitorRequest> {
        let scale = self.rating_asked()?;
        let comment = comment.trim();
        scale.allows(score).then(|| VisitorRequest::Rate {
            score,
            comment: (!comment.is_empty()).then(|| comment.to_owned()),
        })
    }

    pub(super) fn rated(&mut self, rated: &Rated) {
        if let Some(current) = self.conversation.as_mut()
            && current.id == rated.conversation_id
        {
            current.rating = Some(rated.score);
        }
    }
}
