//! What the Webhooks section shows and sends, in plain Rust: the words for events and
//! message types, the add form checked before it goes, and a delivery's line.

use std::collections::BTreeSet;

use porchlight_protocol::api::webhooks::{
    AuthHeader, DeliveryView, MessageTypes, WebhookEvent, WebhookForm, WebhookView,
};

pub fn event_label(event: WebhookEvent) -> &'static str {
    match event {
        WebhookEvent::ChatMessage => "Chat message sent",
        WebhookEvent::ChatStarted => "Chat started",
        WebhookEvent::ChatQueued => "Chat queued",
        WebhookEvent::ChatJoined => "Agent joined",
        WebhookEvent::ChatEnded => "Chat ended",
        WebhookEvent::ChatAbandoned => "Chat abandoned",
        WebhookEvent::TicketCreated => "Ticket created",
    }
}

pub fn types_label(types: MessageTypes) -> &'static str {
    match types {
        MessageTypes::All => "All messages",
        MessageTypes::VisitorLive => "Visitors, in live chat",
        MessageTypes::Visitor => "Visitors, in live and bot chat",
        MessageTypes::Agent => "Agents",
        MessageTypes::System => "System (bot, AI, notices)",
    }
}

/// The add form as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    pub name: String,
    pub url: String,
    pub events: BTreeSet<&'static str>,
    pub types: MessageTypes,
    pub profile: Option<i64>,
    /// Empty: one request per event.
    pub batch_max: String,
    pub batch_seconds: String,
    pub header_name: String,
    pub header_value: String,
}

impl Default for Draft {
    fn default() -> Self {
        Self {
            name: String::new(),
            url: String::new(),
            events: BTreeSet::from([WebhookEvent::ChatMessage.as_str()]),
            types: MessageTypes::All,
            profile: None,
            batch_max: String::new(),
            batch_seconds: String::new(),
            header_name: String::new(),
            header_value: String::new(),
        }
    }
}

fn number(text: &str, what: &str) -> Result<u32, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("{what} is a whole number."))
}

impl Draft {
    /// The form to send, or what to fix first (the relay checks the rest).
    pub fn form(&self) -> Result<WebhookForm, String> {
        if self.name.trim().is_empty() || self.url.trim().is_empty() {
            return Err("Give the webhook a name and a URL.".into());
        }
        let events: Vec<WebhookEvent> = WebhookEvent::ALL
            .into_iter()
            .filter(|event| self.events.contains(event.as_str()))
            .collect();
        if events.is_empty() {
            return Err("Choose at least one event to send.".into());
        }
        let (batch_max, batch_seconds) = if self.batch_max.trim().is_empty() {
            (1, 0)
        } else {
            (
                number(&self.batch_max, "Events per request")?,
                number(&self.batch_seconds, "The longest wait")?,
            )
        };
        let auth_header = (!self.header_name.trim().is_empty()).then(|| AuthHeader {
            name: self.header_name.trim().to_owned(),
            value: self.header_value.clone(),
        });
        Ok(WebhookForm {
            name: self.name.trim().to_owned(),
            url: self.url.trim().to_owned(),
            events,
            message_types: self.types,
            profile_id: self.profile,
            batch_max,
            batch_seconds,
            auth_header,
            enabled: true,
        })
    }
}

/// The endpoint's settings as they are, turned on or off (its auth header kept).
pub fn switched(webhook: &WebhookView, enabled: bool) -> WebhookForm {
    WebhookForm {
        name: webhook.name.clone(),
        url: webhook.url.clone(),
        events: webhook.events.clone(),
        message_types: webhook.message_types,
        profile_id: webhook.profile_id,
        batch_max: webhook.batch_max,
        batch_seconds: webhook.batch_seconds,
        auth_header: None,
        enabled,
    }
}

/// What an endpoint sends, in a few words.
pub fn summary(webhook: &WebhookView) -> String {
    let events: Vec<&str> = webhook
        .events
        .iter()
        .map(|event| event_label(*event))
        .collect();
    let mut text = events.join(", ");
    if webhook.events.contains(&WebhookEvent::ChatMessage)
        && webhook.message_types != MessageTypes::All
    {
        text.push_str(&format!(" ({})", types_label(webhook.message_types)));
    }
    if webhook.batch_max > 1 {
        text.push_str(&format!(
            " · batches of up to {} within {} s",
            webhook.batch_max, webhook.batch_seconds
        ));
    }
    text
}

/// A delivery's cells after its time: event, status, code, duration, and what came back.
pub fn delivery_cells(delivery: &DeliveryView) -> [String; 5] {
    let event = if delivery.event == "batch" {
        format!("batch of {}", delivery.events)
    } else {
        delivery.event.clone()
    };
    let status = match (delivery.status.as_str(), delivery.attempts) {
        ("pending", 0) => "queued".to_owned(),
        ("pending", tries) => format!("retrying ({tries} tries)"),
        (status, 1) => status.to_owned(),
        (status, tries) => format!("{status} after {tries} tries"),
    };
    let code = delivery
        .response_code
        .map_or_else(|| "—".to_owned(), |code| code.to_string());
    let duration = delivery
        .duration_ms
        .map_or_else(String::new, |ms| format!("{ms} ms"));
    let said = delivery
        .error
        .clone()
        .filter(|_| delivery.response_code.is_none())
        .or_else(|| delivery.response_excerpt.clone())
        .unwrap_or_default();
    [event, status, code, duration, said]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_draft_becomes_a_form_or_says_what_to_fix() {
        let mut draft = Draft::default();
        assert_eq!(
            draft.form().unwrap_err(),
            "Give the webhook a name and a URL."
        );
        draft.name = " CRM ".into();
        draft.url = "https://crm.example.com/hook".into();
        draft.events.insert("ticket.created");
        draft.header_name = "Authorization".into();
        draft.header_value = "Bearer x".into();
        let form = draft.form().unwrap();
        assert_eq!(form.name, "CRM");
        assert_eq!(
            form.events,
            [WebhookEvent::ChatMessage, WebhookEvent::TicketCreated]
        );
        assert_eq!((form.batch_max, form.batch_seconds), (1, 0));
        assert_eq!(form.auth_header.unwrap().value, "Bearer x");
        draft.batch_max = "10".into();
        draft.batch_seconds = "soon".into();
        assert_eq!(
            draft.form().unwrap_err(),
            "The longest wait is a whole number."
        );
        draft.batch_seconds = "30".into();
        assert_eq!(
            (
                draft.form().unwrap().batch_max,
                draft.form().unwrap().batch_seconds
            ),
            (10, 30)
        );
        draft.events.clear();
        assert_eq!(
            draft.form().unwrap_err(),
            "Choose at least one event to send."
        );
    }

    fn delivery(status: &str, attempts: u32, code: Option<u16>) -> DeliveryView {
        DeliveryView {
            id: 1,
            webhook_id: "msg_1".into(),
            event: "batch".into(),
            events: 3,
            status: status.into(),
            attempts,
            created_at: 0,
            last_attempt_at: None,
            next_at: None,
            response_code: code,
            duration_ms: Some(38),
            response_excerpt: Some("ok".into()),
            error: Some("connection refused".into()),
            body: "{}".into(),
        }
    }

    #[test]
    fn a_delivery_line_says_what_happened() {
        assert_eq!(
            delivery_cells(&delivery("delivered", 1, Some(204))),
            ["batch of 3", "delivered", "204", "38 ms", "ok"].map(String::from)
        );
        assert_eq!(
            delivery_cells(&delivery("pending", 2, None)),
            [
                "batch of 3",
                "retrying (2 tries)",
                "—",
                "38 ms",
                "connection refused"
            ]
            .map(String::from)
        );
        assert_eq!(
            delivery_cells(&delivery("failed", 10, Some(500)))[1],
            "failed after 10 tries"
        );
    }
}
