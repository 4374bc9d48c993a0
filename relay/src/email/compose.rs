//! What each email says, as plain text and as simple HTML with every value escaped.

use std::fmt::Write;

use porchlight_protocol::api::tickets::{TicketLine, TicketNote};
use porchlight_protocol::{Author, ChatMessage};

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

pub fn new_ticket(new: NewTicket<'_>) -> Composed {
    let ticket = new.ticket;
    let subject = format!("New ticket #{}: {}", ticket.id, ticket.subject);
    let mut text = format!(
        "{} left a message.\n\nTicket #{}: {}\n",
        ticket.requester, ticket.id, ticket.subject
    );
    let mut html = format!(
        "<p>{} left a message.</p>\n<p><strong>Ticket #{}:</strong> {}</p>\n",
        escape(&ticket.requester),
        ticket.id,
        escape(&ticket.subject)
    );
    if let Some(email) = new.visitor_email {
        let _ = writeln!(text, "Reply to: {email}");
        let _ = writeln!(html, "<p>Reply to: {}</p>", escape(email));
    }
    for note in new.notes {
        let _ = write!(text, "\n{}\n", note.body);
        let _ = writeln!(
            html,
            "<pre style=\"white-space:pre-wrap;font-family:inherit\">{}</pre>",
            escape(&note.body)
        );
    }
    if let Some(url) = new.public_url {
        let console = format!("{}/console/", url.trim_end_matches('/'));
        let _ = write!(text, "\nOpen it in the console: {console}\n");
        let _ = writeln!(
            html,
            "<p><a href=\"{}\">Open it in the console</a></p>",
            escape(&console)
        );
    }
    Composed {
        subject,
        text,
        html,
        reply_to: new.visitor_email.map(str::to_owned),
    }
}

/// A chat's transcript for its visitor: who said what, when (UTC).
pub fn transcript(title: &str, chat: i64, messages: &[ChatMessage]) -> Composed {
    let subject = format!("Your chat with {title} (#{chat})");
    let mut text = format!("Here is your chat with {title}.\n\n");
    let mut html = format!(
        "<p>Here is your chat with {}.</p>\n<table>\n",
        escape(title)
    );
    for message in messages {
        let when = jiff::Timestamp::from_millisecond(message.at)
            .map(|at| at.strftime("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_default();
        let who = match (message.author, message.author_name.as_deref()) {
            (Author::Visitor, _) => "You",
            (_, Some(name)) => name,
            (_, None) => title,
        };
        let _ = writeln!(text, "[{when}] {who}: {}", message.body);
        let _ = writeln!(
            html,
            "<tr><td style=\"color:#666;vertical-align:top\">{when}</td><td><strong>{}</strong>: {}</td></tr>",
            escape(who),
            escape(&message.body).replace('\n', "<br>")
        );
    }
    html.push_str("</table>\n");
    text.push_str("\nTimes are UTC.\n");
    Composed {
        subject,
        text,
        html,
        reply_to: None,
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

/// An agent's reply on a ticket, to its requester; their answer goes to the team.
pub fn ticket_reply(ticket: &TicketLine, reply: &str, team: Option<&str>) -> Composed {
    let text = format!(
        "{reply}\n\n-- \nTicket #{} \u{b7} {}\n",
        ticket.id, ticket.subject
    );
    let html = paragraphs(reply)
        + &format!(
            "<p style=\"color:#5f6b7a\">Ticket #{} &middot; {}</p>\n",
            ticket.id,
            escape(&ticket.subject)
        );
    Composed {
        subject: format!("Re: {} (ticket #{})", ticket.subject, ticket.id),
        text,
        html,
        reply_to: team.filter(|team| !team.is_empty()).map(str::to_owned),
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
        let email = new_ticket(NewTicket {
            ticket: &ticket,
            notes: &notes,
            visitor_email: Some("ana@example.com"),
            public_url: Some("https://chat.example.com/"),
        });
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

    #[test]
    fn a_transcript_says_who_said_what_and_when() {
        let message = |author, name: Option<&str>, body: &str, at| ChatMessage {
            conversation_id: 9,
            seq: 1,
            author,
            author_name: name.map(str::to_owned),
            body: body.into(),
            client_msg_id: None,
            at,
            attachment: None,
            sources: Vec::new(),
        };
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
}
