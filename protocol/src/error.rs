use serde::{Deserialize, Serialize};

/// A stable, machine-readable reason for an error frame. Clients branch on these;
/// the wording of the sentence beside it may change.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Not JSON, not an object, or a known frame with wrong fields.
    BadFrame,
    /// A `type` this direction does not have.
    UnknownType,
    /// Over [`crate::MAX_FRAME_BYTES`].
    FrameTooLarge,
    /// The hello's `v` is not one the relay speaks.
    UnsupportedVersion,
    /// The first frame must be `hello`, and only the first.
    HelloRequired,
    /// No site has the key in the hello.
    UnknownSite,
    /// The chat profile is for identified visitors only.
    IdentityRequired,
    /// The identity's token is not valid: forged, for another user, or malformed
    /// (or the site requires a token and there was none).
    IdentityRefused,
    /// The identity's token has expired: the page should identify again with a
    /// fresh one.
    IdentityExpired,
    /// The conversation does not exist or is not yours.
    NotFound,
    /// Another agent joined first.
    AlreadyTaken,
    /// Agents must join a conversation before writing in it.
    NotJoined,
    /// The agent lacks the permission, or the chat's profile does not allow it.
    NotAllowed,
    /// The agent already has as many chats as the rules allow.
    AtCapacity,
    /// The conversation has ended; nothing more can be added.
    ConversationEnded,
    /// The page asked to start at a step that does not allow it; the chat starts at
    /// the profile's start step instead.
    StartStepRefused,
    /// The page's link to a ticket is not valid (wrong token, or not this site's
    /// ticket); the chat starts without it.
    TicketRefused,
    EmptyMessage,
    MessageTooLong,
    /// Too many frames too fast.
    RateLimited,
    /// The relay failed; the client may retry.
    Internal,
}

/// The payload of every error frame: a code to branch on and a sentence for people.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ProtocolError {
    pub code: ErrorCode,
    pub message: String,
}

impl ErrorCode {
    /// Errors after which reconnecting cannot help; the client should stop trying.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Self::UnknownSite | Self::UnsupportedVersion | Self::IdentityRequired
        )
    }
}

impl ProtocolError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}: {}", self.code, self.message)
    }
}

impl std::error::Error for ProtocolError {}
