//! The contact panel's logic: what the site said about a chat's visitor
//! (`Porchlight.identify`), as lines to show, and their other chats.

use porchlight_protocol::api::visitors::{ContactView, PastChat};

/// One context entry as a heading and its lines (a value of several lines is a list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub label: String,
    pub lines: Vec<String>,
}

/// The panel's rows: the user id (marked when the site proved it), email, company,
/// then each trait; empty when the site said nothing.
pub fn facts(contact: &ContactView) -> Vec<(String, String)> {
    let known = &contact.known;
    let user = known.user_id.as_ref().map(|id| {
        if contact.verified {
            format!("{id} (verified)")
        } else {
            format!("{id} (not verified)")
        }
    });
    let fixed = [
        ("User id", user),
        ("Email", known.email.clone()),
        ("Company", known.company.clone()),
    ];
    fixed
        .into_iter()
        .filter_map(|(label, value)| value.map(|value| (label.to_owned(), value)))
        .chain(known.traits.iter().map(|(k, v)| (k.clone(), v.clone())))
        .collect()
}

pub fn sections(contact: &ContactView) -> Vec<Section> {
    contact
        .known
        .context
        .values()
        .map(|entry| Section {
            label: entry.label.clone(),
            lines: entry
                .value
                .lines()
                .map(str::trim)
                .filter(|line| !line.is_empty())
                .map(str::to_owned)
                .collect(),
        })
        .collect()
}

/// A past chat in a line: "#12 · ended · with Ana · ticket #4".
pub fn past_line(chat: &PastChat) -> String {
    let mut line = format!("#{} · {}", chat.conversation_id, chat.status.as_str());
    if let Some(agent) = &chat.agent_name {
        line.push_str(&format!(" · with {agent}"));
    }
    if let Some(ticket) = chat.ticket_id {
        line.push_str(&format!(" · ticket #{ticket}"));
    }
    line
}

/// Whether there is anything to show beyond the chat's own header.
pub fn is_empty(contact: &ContactView) -> bool {
    facts(contact).is_empty() && contact.known.context.is_empty() && contact.past.is_empty()
}

#[cfg(test)]
mod tests {
    use porchlight_protocol::{ContextEntry, ConversationStatus, KnownVisitor};

    use super::*;

    fn contact(verified: bool) -> ContactView {
        ContactView {
            visitor_id: 7,
            name: "Ana Lima".into(),
            verified,
            known: KnownVisitor {
                user_id: Some("42".into()),
                email: Some("ana@example.com".into()),
                company: None,
                traits: [("plan".to_owned(), "Pro".to_owned())].into(),
                context: [(
                    "renewal".to_owned(),
                    ContextEntry {
                        label: "Renewal".into(),
                        value: "Renews 1 May\n\n Card ending 4242 ".into(),
                    },
                )]
                .into(),
            },
            past: vec![PastChat {
                conversation_id: 12,
                status: ConversationStatus::Ended,
                started_at: 1,
                agent_name: Some("Bo".into()),
                ticket_id: Some(4),
            }],
        }
    }

    #[test]
    fn the_panel_shows_what_the_site_said_and_whether_it_proved_it() {
        let rows = facts(&contact(true));
        assert_eq!(
            rows,
            [
                ("User id".to_owned(), "42 (verified)".to_owned()),
                ("Email".to_owned(), "ana@example.com".to_owned()),
                ("plan".to_owned(), "Pro".to_owned()),
            ]
        );
        assert_eq!(facts(&contact(false))[0].1, "42 (not verified)");
        assert_eq!(
            sections(&contact(true)),
            [Section {
                label: "Renewal".into(),
                lines: vec!["Renews 1 May".into(), "Card ending 4242".into()],
            }]
        );
        assert_eq!(
            past_line(&contact(true).past[0]),
            "#12 · ended · with Bo · ticket #4"
        );
    }

    #[test]
    fn an_anonymous_first_time_visitor_has_no_panel() {
        let anonymous = ContactView {
            visitor_id: 8,
            name: "Visitor 8".into(),
            verified: false,
            known: KnownVisitor::default(),
            past: Vec::new(),
        };
        assert!(is_empty(&anonymous));
        assert!(!is_empty(&contact(false)));
    }
}
