//! One email over SMTP (lettre), to a server the outbound policy allows: the host is
//! resolved and checked once, and the connection goes to that checked address.

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use porchlight_protocol::api::email::SmtpSecurity;

use super::EmailSettings;
use super::compose::Composed;
use crate::outbound::{OutboundPolicy, error_chain};

/// How long one SMTP exchange may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Why an email was not sent, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotSent {
    /// The email itself cannot be sent (a bad address): trying again will not help.
    Email(String),
    /// The server, or the way to it: worth trying again.
    Server(String),
}

impl std::fmt::Display for NotSent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Email(why) | Self::Server(why) => f.write_str(why),
        }
    }
}

/// Sends `email` to `to`.
pub async fn send(
    settings: &EmailSettings,
    policy: &OutboundPolicy,
    to: &str,
    email: &Composed,
) -> Result<(), NotSent> {
    let message = message(settings, to, email).map_err(NotSent::Email)?;
    deliver(settings, policy, message)
        .await
        .map_err(NotSent::Server)
}

async fn deliver(
    settings: &EmailSettings,
    policy: &OutboundPolicy,
    message: Message,
) -> Result<(), String> {
    let addrs = policy
        .check_host(&settings.host, settings.port)
        .await
        .map_err(|refused| refused.to_string())?;
    let Some(addr) = addrs.first() else {
        return Err(format!("{} does not resolve to any address", settings.host));
    };
    let tls = || {
        TlsParameters::new(settings.host.clone()).map_err(|err| {
            format!(
                "cannot set up TLS for {}: {}",
                settings.host,
                error_chain(&err)
            )
        })
    };
    let security = match settings.security {
        SmtpSecurity::Starttls => Tls::Required(tls()?),
        SmtpSecurity::Tls => Tls::Wrapper(tls()?),
        SmtpSecurity::None => Tls::None,
    };
    let mut transport =
        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(addr.ip().to_string())
            .port(settings.port)
            .tls(security)
            .timeout(Some(TIMEOUT));
    if !settings.user.is_empty() {
        transport = transport.credentials(Credentials::new(
            settings.user.clone(),
            settings.password.clone(),
        ));
    }
    transport
        .build()
        .send(message)
        .await
        .map(drop)
        .map_err(|err| format!("{}:{}: {}", settings.host, settings.port, error_chain(&err)))
}

fn message(settings: &EmailSettings, to: &str, email: &Composed) -> Result<Message, String> {
    let from: Mailbox = settings
        .from
        .parse()
        .map_err(|_| format!("the sender \"{}\" is not an address", settings.from))?;
    let to: Mailbox = to
        .parse()
        .map_err(|_| format!("\"{to}\" is not an address"))?;
    let mut builder = Message::builder().from(from).to(to).subject(&email.subject);
    if let Some(reply_to) = email
        .reply_to
        .as_deref()
        .and_then(|reply| reply.parse().ok())
    {
        builder = builder.reply_to(reply_to);
    }
    builder
        .multipart(MultiPart::alternative_plain_html(
            email.text.clone(),
            email.html.clone(),
        ))
        .map_err(|err| format!("cannot build the email: {err}"))
}
