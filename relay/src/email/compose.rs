//! What each email says, as plain text and as simple HTML with every value escaped.

use std::fmt::Write;

use porchlight_protocol::api::tickets::{TicketLine, TicketNote};

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
}
