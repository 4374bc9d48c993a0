//! What each email says, as plain text and as simple HTML with every value escaped.

use std::fmt::Write;

use porchlight_protocol::api::tickets::{TicketLine, TicketNote};
use porchlight_protocol::{Author, ChatMessage};

use porchlight_protocol::words::{Language, Overrides, Words};

use super::templates::{Template, fill, transcript_words};

/// An email ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Composed {
    pub subject: String,
    pub text: String,
    pub html: String,
    /// Replies go to the visitor when they gave an address.
    pub reply_to: Option<String>,
}

/// A new ticket (an offline message, or a chat handed over) as the team reads it.
#[derive(Debug, Clone, Copy)]
pub struct NewTicket<'a> {
    pub ticket: &'a TicketLine,
    /// Its notes: the chat's transcript, once the chat ended.
    pub notes: &'a [TicketNote],
    /// The address the visitor gave the chat profile, if any.
    pub visitor_email: Option<&'a str>,
    /// Where the console is (the `public_url` setting), for a link.
    pub public_url: Option<&'a str>,
}

pub fn new_ticket(new: NewTicket<'_>, template: &Template) -> Composed {
    let ticket = new.ticket;
    let transcript: Vec<&str> = new.notes.iter().map(|note| note.body.as_str()).collect();
    let link = new
        .public_url
        .map(|url| format!("{}/console/", url.trim_end_matches('/')))
        .unwrap_or_default();
    let values = [
        ("TICKETID", ticket.id.to_string()),
        ("SUBJECT", ticket.subject.clone()),
        ("REQUESTER", ticket.requester.clone()),
        (
            "VISITOREMAIL",
            new.visitor_email.unwrap_or_default().to_owned(),
        ),
        ("TRANSCRIPT", transcript.join("\n\n")),
        ("LINK", link),
    ];
    rendered(template, &values, new.visitor_email.map(str::to_owned))
}

/// A chat's transcript for its visitor: who said what, when (UTC), with the visitor
/// and the chat's events named in `language`.
pub fn transcript(
    title: &str,
    chat: i64,
    messages: &[ChatMessage],
    template: &Template,
    language: Language,
) -> Composed {
    let (_, _, you) = transcript_words(language);
    let table = language.table(&Overrides::new());
    let words = Words::new(language, &table);
    let mut lines = String::new();
    for message in messages {
        let when = jiff::Timestamp::from_millisecond(message.at)
            .map(|at| at.strftime("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_default();
        let who = match (message.author, message.author_name.as_deref()) {
            (Author::Visitor, _) => you,
            (_, Some(name)) => name,
            (_, None) => title,
        };
        let _ = match message.author {
            Author::System => writeln!(lines, "[{when}] {}", words.event(&message.body)),
            _ => writeln!(lines, "[{when}] {who}: {}", message.body),
        };
    }
    let values = [
        ("TITLE", title.to_owned()),
        ("CHATID", chat.to_string()),
        ("TRANSCRIPT", lines.trim_end().to_owned()),
    ];
    rendered(template, &values, None)
}

/// An agent's reply on a ticket, to its requester; their answer goes to the team.
pub fn ticket_reply(
    ticket: &TicketLine,
    reply: &str,
    team: Option<&str>,
    template: &Template,
) -> Composed {
    let values = [
        ("TICKETID", ticket.id.to_string()),
        ("SUBJECT", ticket.subject.clone()),
        ("REPLY", reply.to_owned()),
    ];
    let team = team.filter(|team| !team.is_empty()).map(str::to_owned);
    rendered(template, &values, team)
}

/// The template filled in: a one-line subject, the text, and the text as HTML.
fn rendered(template: &Template, values: &[(&str, String)], reply_to: Option<String>) -> Composed {
    let values: Vec<(&str, &str)> = values
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect();
    let subject = fill(&template.subject, &values)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let text = fill(&template.body, &values);
    Composed {
        subject,
        html: paragraphs(&text),
        text,
        reply_to,
    }
}

/// A ticket's acknowledgement to the visitor, as the profile wrote it (`$TICKETID`
/// filled now the ticket has its number).
pub fn acknowledgement(ticket: i64, text: &str) -> Composed {
    let text = text.replace("$TICKETID", &ticket.to_string());
    let html = paragraphs(&text);
    Composed {
        subject: format!("We got your message (ticket #{ticket})"),
        text: format!("{text}\n"),
        html,
        reply_to: None,
    }
}

/// Blank-line separated paragraphs as HTML, every value escaped.
fn paragraphs(text: &str) -> String {
    text.split("\n\n")
        .map(|paragraph| format!("<p>{}</p>\n", escape(paragraph).replace('\n', "<br>")))
        .collect()
}

/// The settings page's test email.
pub fn test_email() -> Composed {
    let line = "Porchlight can send email with these settings.";
    Composed {
        subject: "Porchlight test email".into(),
        text: format!("{line}\n"),
        html: format!("<p>{line}</p>\n"),
        reply_to: None,
    }
}

fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for char in text.chars() {
        match char {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use porchlight_protocol::api::email::TemplateKind;

    use super::super::templates::default_template;
    use super::*;

    #[test]
    fn a_new_ticket_names_the_visitor_their_words_and_escapes_them_in_html() {
        let ticket = TicketLine {
            id: 42,
            subject: "Message from <b>Ana</b>".into(),
            status: "open".into(),
            requester: "Visitor 7".into(),
            team: None,
            agent: None,
            created_at: 0,
            chat: None,
        };
        let notes = [TicketNote {
            kind: "transcript".into(),
            body: "Visitor 7: my order <script>alert(1)</script> is late".into(),
            created_at: 0,
            conversation_id: Some(3),
            author: None,
        }];
        let email = new_ticket(
            NewTicket {
                ticket: &ticket,
                notes: &notes,
                visitor_email: Some("ana@example.com"),
                public_url: Some("https://chat.example.com/"),
            },
            &default_template(TemplateKind::NewTicket),
        );
        assert_eq!(email.subject, "New ticket #42: Message from <b>Ana</b>");
        assert!(
            email
                .text
                .contains("my order <script>alert(1)</script> is late")
        );
        assert!(email.text.contains("Reply to: ana@example.com"));
        assert!(email.text.contains("https://chat.example.com/console/"));
        assert!(!email.html.contains("<script>"), "{}", email.html);
        assert!(email.html.contains("&lt;script&gt;"));
        assert_eq!(email.reply_to.as_deref(), Some("ana@example.com"));
    }

    /// A message of chat 9, as the transcript reads it.
    fn message(author: Author, name: Option<&str>, body: &str, at: i64) -> ChatMessage {
        ChatMessage {
            conversation_id: 9,
            seq: 1,
            author,
            author_name: name.map(str::to_owned),
            body: body.into(),
            client_msg_id: None,
            at,
            attachment: None,
            sources: Vec::new(),
        }
    }

    #[test]
    fn a_transcript_says_who_said_what_and_when() {
        let email = transcript(
            "Acme",
            9,
            &[
                message(
                    Author::Visitor,
                    Some("Visitor 3"),
                    "Is it <b>on</b>?",
                    1_764_556_200_000,
                ),
                message(
                    Author::Agent,
                    Some("Ana"),
                    "Yes!\nIt is.",
                    1_764_556_260_000,
                ),
            ],
            &default_template(TemplateKind::Transcript),
            Language::En,
        );
        assert_eq!(email.subject, "Your chat with Acme (#9)");
        assert!(
            email
                .text
                .contains("[2025-12-01 02:30] You: Is it <b>on</b>?"),
            "{}",
            email.text
        );
        assert!(
            email.text.contains("[2025-12-01 02:31] Ana: Yes!"),
            "{}",
            email.text
        );
        assert!(email.html.contains("Is it &lt;b&gt;on&lt;/b&gt;?"));
        assert!(email.html.contains("Yes!<br>It is."));
    }

    #[test]
    fn a_german_visitors_transcript_is_in_german_events_included() {
        let (subject, body, _) = transcript_words(Language::De);
        let template = Template {
            subject: subject.into(),
            body: body.into(),
        };
        let email = transcript(
            "Acme",
            9,
            &[
                message(
                    Author::Visitor,
                    None,
                    "Wo ist mein Paket?",
                    1_764_556_200_000,
                ),
                message(
                    Author::System,
                    None,
                    "Ana joined the chat",
                    1_764_556_200_000,
                ),
            ],
            &template,
            Language::De,
        );
        assert_eq!(email.subject, "Ihr Chat mit Acme (#9)");
        assert!(
            email.text.contains("] Sie: Wo ist mein Paket?"),
            "{}",
            email.text
        );
        assert!(
            email.text.contains("] Ana ist dem Chat beigetreten"),
            "{}",
            email.text
        );
        assert!(email.text.ends_with("Zeiten in UTC.\n"), "{}", email.text);
    }
}
