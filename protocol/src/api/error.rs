//! The HTTP API's errors: one body shape, `{"code", "message"}`, and the stable codes.

use serde::{Deserialize, Serialize};

/// The body of every error the relay's HTTP API answers: a stable code and a sentence
/// for people. Clients match on `code` and show `message`; a code they do not know is
/// still an error with a message.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiError {
    pub code: String,
    pub message: String,
}

/// Every code the HTTP API answers with, and the status each comes with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiCode {
    /// No session, or it ended (401).
    LoginRequired,
    /// The email or password is wrong (401).
    BadCredentials,
    /// The one-time password was not used in time; an admin makes a new one (401).
    PasswordExpired,
    /// The account is deactivated (403).
    AccountInactive,
    /// Logged in with a one-time password: choose your own first (403).
    PasswordChangeRequired,
    /// Only admins may do that (403).
    AdminOnly,
    /// A change from a page that is not the relay's own console (403).
    BadOrigin,
    /// The visitor may not send files in this chat now (403).
    UploadsOff,
    /// The chat belongs to a visitor the site identified with a token, and the
    /// request has no live proof of them (`Porchlight-Identity`) (403).
    IdentityRefused,
    /// Only an agent in the chat may do that (403).
    NotJoined,
    /// No such thing, or one the caller may not see (404).
    NotFound,
    /// No site has that key (404).
    UnknownSite,
    /// A name already in use (409).
    NameTaken,
    /// A canned text's title already in use in its group (409).
    TitleTaken,
    /// The change would leave no admin (409).
    LastAdmin,
    /// The relay has no site yet (409).
    NoSite,
    /// The conversation has ended (409).
    ConversationEnded,
    /// The visitor has a chat waiting for or with an agent (409).
    ChatOpen,
    /// The body is not what the endpoint takes (422).
    BadRequest,
    /// A multipart upload that is not one file and an optional message id (400).
    BadUpload,
    /// A field's value is not allowed; the message says which (422).
    Invalid,
    /// A file type the relay does not take as an attachment (415).
    FileType,
    /// A document type knowledge does not take (422).
    Unsupported,
    /// Too big (413).
    TooLarge,
    /// Too many requests; try again later (429).
    RateLimited,
    /// Crawling a site for knowledge failed; the message says why (422).
    CrawlFailed,
    /// The AI provider failed or is not set up; the message says how (502; 409 with
    /// no provider, 422 for settings it cannot use).
    AiFailed,
    /// The relay failed; details are in its log (500).
    Internal,
    /// No API key (`Authorization: Bearer plk_…`) (401).
    ApiKeyRequired,
    /// The API key is unknown or revoked (401).
    ApiKeyInvalid,
    /// A read key cannot change anything (403).
    ReadOnlyKey,
    /// The request names another site than the key's (403).
    WrongSite,
}

impl ApiCode {
    pub const ALL: [Self; 32] = [
        Self::LoginRequired,
        Self::BadCredentials,
        Self::PasswordExpired,
        Self::AccountInactive,
        Self::PasswordChangeRequired,
        Self::AdminOnly,
        Self::BadOrigin,
        Self::UploadsOff,
        Self::IdentityRefused,
        Self::NotJoined,
        Self::NotFound,
        Self::UnknownSite,
        Self::NameTaken,
        Self::TitleTaken,
        Self::LastAdmin,
        Self::NoSite,
        Self::ConversationEnded,
        Self::ChatOpen,
        Self::BadRequest,
        Self::BadUpload,
        Self::Invalid,
        Self::FileType,
        Self::Unsupported,
        Self::TooLarge,
        Self::RateLimited,
        Self::CrawlFailed,
        Self::AiFailed,
        Self::Internal,
        Self::ApiKeyRequired,
        Self::ApiKeyInvalid,
        Self::ReadOnlyKey,
        Self::WrongSite,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::LoginRequired => "login_required",
            Self::BadCredentials => "bad_credentials",
            Self::PasswordExpired => "password_expired",
            Self::AccountInactive => "account_inactive",
            Self::PasswordChangeRequired => "password_change_required",
            Self::AdminOnly => "admin_only",
            Self::BadOrigin => "bad_origin",
            Self::UploadsOff => "uploads_off",
            Self::IdentityRefused => "identity_refused",
            Self::NotJoined => "not_joined",
            Self::NotFound => "not_found",
            Self::UnknownSite => "unknown_site",
            Self::NameTaken => "name_taken",
            Self::TitleTaken => "title_taken",
            Self::LastAdmin => "last_admin",
            Self::NoSite => "no_site",
            Self::ConversationEnded => "conversation_ended",
            Self::ChatOpen => "chat_open",
            Self::BadRequest => "bad_request",
            Self::BadUpload => "bad_upload",
            Self::Invalid => "invalid",
            Self::FileType => "file_type",
            Self::Unsupported => "unsupported",
            Self::TooLarge => "too_large",
            Self::RateLimited => "rate_limited",
            Self::CrawlFailed => "crawl_failed",
            Self::AiFailed => "ai_failed",
            Self::Internal => "internal",
            Self::ApiKeyRequired => "api_key_required",
            Self::ApiKeyInvalid => "api_key_invalid",
            Self::ReadOnlyKey => "read_only_key",
            Self::WrongSite => "wrong_site",
        }
    }

    /// The HTTP status the code comes with.
    pub fn status(self) -> u16 {
        match self {
            Self::BadUpload => 400,
            Self::LoginRequired
            | Self::BadCredentials
            | Self::PasswordExpired
            | Self::ApiKeyRequired
            | Self::ApiKeyInvalid => 401,
            Self::AdminOnly
            | Self::BadOrigin
            | Self::UploadsOff
            | Self::IdentityRefused
            | Self::ReadOnlyKey
            | Self::WrongSite
            | Self::NotJoined
            | Self::AccountInactive
            | Self::PasswordChangeRequired => 403,
            Self::NotFound | Self::UnknownSite => 404,
            Self::NameTaken
            | Self::TitleTaken
            | Self::LastAdmin
            | Self::NoSite
            | Self::ConversationEnded
            | Self::ChatOpen => 409,
            Self::TooLarge => 413,
            Self::FileType => 415,
            Self::BadRequest | Self::Invalid | Self::Unsupported | Self::CrawlFailed => 422,
            Self::RateLimited => 429,
            Self::Internal => 500,
            Self::AiFailed => 502,
        }
    }
}
