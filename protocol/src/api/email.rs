//! The Email settings page (`/api/admin/email`): the SMTP server (its password is
//! never shown back), a test email, and the outbox.

use serde::{Deserialize, Serialize};

/// How the connection to the SMTP server is secured.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, Default, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS (usually port 587); refused without it.
    #[default]
    Starttls,
    /// TLS from the first byte (usually port 465).
    Tls,
    /// No encryption: only for a relay on the same machine or network.
    None,
}

/// The settings as the page shows them.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq, Eq)]
pub struct EmailSettingsView {
    /// A host is set: emails are sent.
    pub enabled: bool,
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub user: String,
    pub password_set: bool,
    /// The sender, `Support <support@example.com>` or a bare address.
    pub from: String,
    /// Where new tickets (offline messages, chats handed over) are announced.
    pub team_to: String,
    /// Every chat's transcript goes to its visitor when it ends, if they gave an email.
    pub transcript_at_end: bool,
}

/// `PUT /api/admin/email`; an empty `host` turns email off.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq, Eq)]
pub struct EmailSettingsForm {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    #[serde(default)]
    pub user: String,
    /// Empty keeps the saved password.
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub clear_password: bool,
    pub from: String,
    #[serde(default)]
    pub team_to: String,
    #[serde(default)]
    pub transcript_at_end: bool,
}

/// `POST /api/admin/email/test`: sends one email now with the saved settings.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct TestEmail {
    pub to: String,
}

/// What the test did, in words.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct EmailTest {
    pub ok: bool,
    pub message: String,
}

/// One email in the outbox (`GET /api/admin/email/outbox`), newest first.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct OutboxLine {
    pub id: i64,
    /// `new_ticket`, `acknowledgement` or `transcript`.
    pub kind: String,
    /// `pending`, `sent`, `failed` (gave up after the retries) or `skipped` (no SMTP
    /// server, or nobody to send it to).
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    pub created_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<i64>,
}

/// The emails whose wording a site can change (an acknowledgement's is its profile's).
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum TemplateKind {
    /// A new ticket, to the team.
    NewTicket,
    /// A chat's transcript, to its visitor.
    Transcript,
    /// An agent's reply on a ticket, to its requester.
    TicketReply,
}

impl TemplateKind {
    pub const ALL: [TemplateKind; 3] = [Self::NewTicket, Self::Transcript, Self::TicketReply];

    /// The name in paths and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NewTicket => "new_ticket",
            Self::Transcript => "transcript",
            Self::TicketReply => "ticket_reply",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

/// A site's email template as `GET /api/admin/sites/KEY/email-templates` lists it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct EmailTemplateView {
    pub kind: TemplateKind,
    pub subject: String,
    pub body: String,
    /// The site wrote its own (else this is the default).
    pub custom: bool,
    /// Each variable it may use (`$TICKETID`) and what it holds.
    pub variables: Vec<(String, String)>,
}

/// `PUT /api/admin/sites/KEY/email-templates/KIND`; both empty: back to the default.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq, Eq)]
pub struct EmailTemplateForm {
    pub subject: String,
    pub body: String,
}
