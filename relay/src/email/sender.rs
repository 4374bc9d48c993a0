//! Works through the outbox: each due email is composed from what it announces, sent,
//! and marked. A failure is tried again after 1, 2, 4 … minutes (at most an hour
//! apart) and given up after eight tries. Wakes when an email is queued or falls due.

use std::time::Duration;

use porchlight_protocol::api::email::{SmtpSecurity, TemplateKind};

use porchlight_protocol::ConversationId;
use porchlight_protocol::api::tickets::TicketLine;
use porchlight_protocol::words::Language;

use super::compose::{Composed, NewTicket, acknowledgement, new_ticket, ticket_reply, transcript};
use super::smtp::NotSent;
use super::templates;
use super::{EmailSettings, smtp};
use crate::flow::FlowState;
use crate::state::AppState;
use crate::store::emails::{Attempt, DueEmail};
use crate::store::{Conversation, StoreError, now_ms};

/// Emails taken per look.
const BATCH: usize = 20;
/// Tries before an email is given up.
pub const MAX_ATTEMPTS: u32 = 8;
/// The most messages a transcript holds.
const TRANSCRIPT_MESSAGES: usize = 2000;
/// The longest wait between looks, whatever is due.
const LOOK_AGAIN: Duration = Duration::from_secs(60);

/// How long after its `attempts`-th failed try an email is tried again; `None` once
/// it has had its tries.
pub fn retry_after(attempts: u32) -> Option<Duration> {
    if attempts >= MAX_ATTEMPTS {
        return None;
    }
    let minutes = 1u64 << attempts.saturating_sub(1).min(6);
    Some(Duration::from_secs(60 * minutes.min(60)))
}

/// Runs until shutdown.
pub async fn run(state: AppState) {
    loop {
        let due = match state.store.due_emails(now_ms(), BATCH).await {
            Ok(due) => due,
            Err(err) => {
                tracing::error!(error = %err, "cannot read the email outbox");
                Vec::new()
            }
        };
        let mut recorded = true;
        for email in &due {
            let attempt = tokio::select! {
                attempt = attempt(&state, email) => attempt,
                () = state.shutdown.cancelled() => return,
            };
            if let Attempt::Failed { error, .. } = &attempt {
                tracing::warn!(email = email.id, error = %error, "an email could not be sent");
            }
            if let Err(err) = state
                .store
                .record_attempt(email.id, attempt, now_ms())
                .await
            {
                // Not marked: look again later rather than send it again at once.
                tracing::error!(error = %err, "cannot record an email's attempt");
                recorded = false;
            }
        }
        if recorded && due.len() == BATCH {
            continue;
        }
        let wait = match state.store.next_email_at().await {
            Ok(Some(at)) if recorded => {
                Duration::from_millis(u64::try_from(at - now_ms()).unwrap_or(0))
            }
            _ => LOOK_AGAIN,
        };
        tokio::select! {
            () = tokio::time::sleep(wait.min(LOOK_AGAIN)) => {}
            () = state.email_queued.notified() => {}
            () = state.shutdown.cancelled() => return,
        }
    }
}

/// A failure worth trying again, after the email's tries so far.
fn try_again(email: &DueEmail, error: String) -> Attempt {
    Attempt::Failed {
        error,
        retry_at: retry_after(email.attempts + 1)
            .map(|wait| now_ms() + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX)),
    }
}

async fn attempt(state: &AppState, email: &DueEmail) -> Attempt {
    let settings = match EmailSettings::read(state.store.as_ref()).await {
        Ok(settings) => settings,
        Err(err) => return try_again(email, err.to_string()),
    };
    if !settings.enabled() {
        return Attempt::Skipped("No SMTP server is set up (Email settings).".into());
    }
    let composed = match (email.kind.as_str(), email.ticket_id, email.conversation_id) {
        ("new_ticket", Some(ticket), _) => {
            if settings.team_to.is_empty() {
                return Attempt::Skipped("No address for the team's emails is set.".into());
            }
            ticket_email(state, ticket)
                .await
                .map(|found| found.map(|composed| (settings.team_to.clone(), composed)))
        }
        ("acknowledgement", Some(ticket), _) => match (&email.to, &email.body) {
            (Some(to), Some(body)) => Ok(Some((to.clone(), acknowledgement(ticket, body)))),
            _ => return Attempt::Skipped("An acknowledgement with no address.".into()),
        },
        ("ticket_reply", Some(ticket), _) => match (&email.to, &email.body) {
            (Some(to), Some(body)) => reply_email(state, ticket, body, &settings.team_to)
                .await
                .map(|found| found.map(|composed| (to.clone(), composed))),
            _ => return Attempt::Skipped("A reply with no address.".into()),
        },
        ("transcript", _, Some(chat)) => match &email.to {
            Some(to) => transcript_email(state, chat)
                .await
                .map(|found| found.map(|composed| (to.clone(), composed))),
            None => return Attempt::Skipped("A transcript with no address.".into()),
        },
        (kind, _, _) => return Attempt::Skipped(format!("Nothing composes a \"{kind}\" email.")),
    };
    let (to, composed) = match composed {
        Ok(Some(found)) => found,
        Ok(None) => return Attempt::Skipped("What it was about no longer exists.".into()),
        Err(err) => return try_again(email, err.to_string()),
    };
    match smtp::send(&settings, &state.outbound, &to, &composed).await {
        Ok(()) => Attempt::Sent {
            to,
            subject: composed.subject,
        },
        Err(NotSent::Email(why)) => Attempt::Skipped(why),
        Err(NotSent::Server(error)) => try_again(email, error),
    }
}

/// The team's email about ticket `id`, with its notes and the visitor's address;
/// `None` when the ticket is gone.
async fn ticket_email(state: &AppState, id: i64) -> Result<Option<Composed>, StoreError> {
    let store = &state.store;
    let Some(ticket) = store.tickets(Some(id), 1).await?.into_iter().next() else {
        return Ok(None);
    };
    let (notes, _) = store.ticket_notes_and_chats(id).await?;
    let visitor_email = requester(state, &ticket)
        .await?
        .map(|requester| requester.email);
    let site = store.ticket_site(id).await?;
    let template =
        templates::template(store.as_ref(), site, TemplateKind::NewTicket, Language::En).await?;
    Ok(Some(new_ticket(
        NewTicket {
            ticket: &ticket,
            notes: &notes,
            visitor_email: visitor_email.as_deref(),
            public_url: state.config.public_url.as_deref(),
        },
        &template,
    )))
}

/// An agent's reply on ticket `id`; `None` when the ticket is gone.
async fn reply_email(
    state: &AppState,
    id: i64,
    reply: &str,
    team: &str,
) -> Result<Option<Composed>, StoreError> {
    let store = state.store.as_ref();
    let Some(ticket) = store.tickets(Some(id), 1).await?.into_iter().next() else {
        return Ok(None);
    };
    let site = store.ticket_site(id).await?;
    let template =
        templates::template(store, site, TemplateKind::TicketReply, Language::En).await?;
    Ok(Some(ticket_reply(&ticket, reply, Some(team), &template)))
}

/// The transcript of chat `id`, titled with its profile's title, in the language the
/// widget spoke to the visitor; `None` when the chat is gone.
async fn transcript_email(state: &AppState, id: i64) -> Result<Option<Composed>, StoreError> {
    let store = &state.store;
    let Some(conversation) = store.conversation(id).await? else {
        return Ok(None);
    };
    let messages = store.messages_after(id, 0, TRANSCRIPT_MESSAGES).await?;
    let flow = match conversation.profile_id {
        Some(profile) => state.flows.get(store.as_ref(), profile).await?,
        None => None,
    };
    let appearance = flow.as_ref().map(|flow| &flow.profile.appearance);
    let browser: Vec<String> = conversation
        .visitor_languages
        .iter()
        .flat_map(|tags| tags.split(','))
        .map(str::to_owned)
        .collect();
    let language = Language::pick(appearance.and_then(|a| a.language), &browser);
    let template = templates::template(
        store.as_ref(),
        Some(conversation.site_id),
        TemplateKind::Transcript,
        language,
    )
    .await?;
    Ok(Some(transcript(
        appearance.map_or("us", |a| a.title.as_str()),
        id,
        &messages,
        &template,
        language,
    )))
}

/// Queues the chat's transcript for its visitor when the settings say so and the
/// visitor gave an email (the profile's `email` variable).
pub async fn queue_transcript(state: &AppState, conversation: &Conversation) {
    let Some(to) = visitor_email(conversation) else {
        return;
    };
    if !EmailSettings::load(state.store.as_ref())
        .await
        .transcript_at_end
    {
        return;
    }
    if !may_email_visitor(state, &to) {
        tracing::info!(
            conversation = conversation.id,
            "transcript not emailed: that address had its share today"
        );
        return;
    }
    match state
        .store
        .queue_transcript_email(conversation.id, to)
        .await
    {
        Ok(()) => state.email_queued.notify_one(),
        Err(err) => tracing::error!(error = %err, "cannot queue a transcript email"),
    }
}

/// Takes one of the address's emails for today: the visitor typed it, so a stranger's
/// inbox gets only so many from the site.
pub fn may_email_visitor(state: &AppState, address: &str) -> bool {
    state
        .throttles
        .emails_per_visitor_address
        .take(&address.to_ascii_lowercase(), std::time::Instant::now())
        .is_ok()
}

/// Where replies on a ticket are emailed, and the chat the address came from (an
/// erasure of that chat's visitor then finds the email).
pub struct Requester {
    pub email: String,
    pub chat: Option<ConversationId>,
}

/// Where replies on `ticket` are emailed: the address it was opened with, else the
/// one the visitor gave its chat.
pub async fn requester(
    state: &AppState,
    ticket: &TicketLine,
) -> Result<Option<Requester>, StoreError> {
    if let Some(email) = state.store.ticket_requester_email(ticket.id).await? {
        return Ok(Some(Requester { email, chat: None }));
    }
    let Some(chat) = &ticket.chat else {
        return Ok(None);
    };
    let conversation = state.store.conversation(chat.conversation_id).await?;
    Ok(conversation
        .as_ref()
        .and_then(visitor_email)
        .map(|email| Requester {
            email,
            chat: Some(chat.conversation_id),
        }))
}

/// The address the visitor gave the chat profile, if any.
fn visitor_email(conversation: &Conversation) -> Option<String> {
    conversation
        .flow_state
        .as_deref()
        .and_then(|json| serde_json::from_str::<FlowState>(json).ok())
        .and_then(|flow| flow.variables.get("email").cloned())
        .filter(|email| !email.is_empty())
}

/// Whether a test email's failure is worth a hint about the security setting.
pub fn hint(settings: &EmailSettings, error: &str) -> Option<&'static str> {
    let lower = error.to_ascii_lowercase();
    match settings.security {
        SmtpSecurity::Starttls if lower.contains("starttls") => {
            Some("The server does not offer STARTTLS: try TLS (port 465).")
        }
        SmtpSecurity::Tls if lower.contains("tls") || lower.contains("handshake") => {
            Some("The server does not speak TLS on this port: try STARTTLS (port 587).")
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_longer_each_time_up_to_an_hour_then_stop() {
        let minutes: Vec<Option<u64>> = (1..=MAX_ATTEMPTS)
            .map(|attempts| retry_after(attempts).map(|wait| wait.as_secs() / 60))
            .collect();
        assert_eq!(
            minutes,
            [
                Some(1),
                Some(2),
                Some(4),
                Some(8),
                Some(16),
                Some(32),
                Some(60),
                None
            ]
        );
    }
}
