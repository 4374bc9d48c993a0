//! What a queued webhook event says, the same on every backend: the message types a
//! message counts as (for the endpoints' filter) and each event's data. The backends
//! queue the events inside the transactions that make them.

use porchlight_protocol::api::webhooks::{EventBody, MessageTypes, WebhookEvent};
use porchlight_protocol::{Author, ChatMessage, ConversationId};
use serde_json::json;

use crate::auth::random_token;
use crate::store::SiteId;

/// A random id with a prefix (`msg_…`, `evt_…`).
pub(crate) fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", &random_token()[..24])
}

pub(crate) fn rfc3339(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|at| at.to_string())
        .unwrap_or_default()
}

/// The message types a message counts as, as `,a,b,` for the endpoints' filter.
pub(crate) fn message_types(author: Author, live: bool) -> String {
    let types: &[MessageTypes] = match (author, live) {
        (Author::Visitor, true) => &[MessageTypes::VisitorLive, MessageTypes::Visitor],
        (Author::Visitor, false) => &[MessageTypes::Visitor],
        (Author::Agent, _) => &[MessageTypes::Agent],
        (Author::Bot | Author::System, _) => &[MessageTypes::System],
    };
    std::iter::once(MessageTypes::All)
        .chain(types.iter().copied())
        .fold(",".to_owned(), |list, kind| list + kind.as_str() + ",")
}

/// Every message type: events other than `chat.message` ignore the filter.
pub(crate) const ANY_TYPE: &str = ",all,visitor_live,visitor,agent,system,";

/// An event to queue for the endpoints that want it.
pub(crate) struct Queued<'a> {
    pub site: SiteId,
    /// The chat it tells of, so the chat's deletion takes it along.
    pub conversation: Option<ConversationId>,
    pub profile: Option<i64>,
    pub event: WebhookEvent,
    pub types: &'a str,
    pub at: i64,
}

impl<'a> Queued<'a> {
    /// An event about chat `conversation`.
    pub(crate) fn about_chat(
        chat: &ChatFacts,
        conversation: ConversationId,
        event: WebhookEvent,
        types: &'a str,
        at: i64,
    ) -> Self {
        Self {
            site: chat.site,
            conversation: Some(conversation),
            profile: chat.profile,
            event,
            types,
            at,
        }
    }
}

/// What a chat's events tell of it.
pub(crate) struct ChatFacts {
    pub site: SiteId,
    pub profile: Option<i64>,
    pub visitor: i64,
    pub status: String,
    /// It has reached live chat (queued for a person, or with one), now or before.
    pub live: bool,
}

/// An event as its endpoints receive it, with a new `evt_…` id: (id, payload).
pub(crate) fn event_payload(
    event: WebhookEvent,
    at: i64,
    data: serde_json::Value,
) -> (String, String) {
    let event_id = new_id("evt");
    let body = EventBody {
        id: Some(event_id.clone()),
        kind: event.as_str().into(),
        timestamp: rfc3339(at),
        data,
    };
    (event_id, serde_json::to_string(&body).unwrap_or_default())
}

/// `chat.message`'s data for a message just added to a chat of site `site` (its key).
pub(crate) fn message_data(
    chat: &ChatFacts,
    message: &ChatMessage,
    site: &str,
) -> serde_json::Value {
    json!({
        "conversation_id": message.conversation_id,
        "site": site,
        "profile_id": chat.profile,
        "visitor_id": chat.visitor,
        "seq": message.seq,
        "author": message.author.as_str(),
        "author_name": message.author_name,
        "text": message.body,
        "live": chat.live,
        "at": message.at,
    })
}

/// A chat's state as a `chat.*` event tells it.
pub(crate) struct ChatChange<'a> {
    pub id: ConversationId,
    pub chat: &'a ChatFacts,
    /// Who joined, for `chat.joined`.
    pub agent: Option<&'a str>,
    /// Who ended it, for `chat.ended`.
    pub ended_by: Option<String>,
    pub ticket: Option<i64>,
    pub at: i64,
}

/// A `chat.*` event's data.
pub(crate) fn chat_data(change: &ChatChange<'_>, site: &str) -> serde_json::Value {
    let mut data = json!({
        "conversation_id": change.id,
        "site": site,
        "profile_id": change.chat.profile,
        "visitor_id": change.chat.visitor,
        "status": change.chat.status,
        "at": change.at,
    });
    for (key, value) in [
        ("agent_name", change.agent.map(|name| json!(name))),
        ("ended_by", change.ended_by.as_ref().map(|by| json!(by))),
        ("ticket_id", change.ticket.map(|ticket| json!(ticket))),
    ] {
        if let Some(value) = value {
            data[key] = value;
        }
    }
    data
}

/// `ticket.created`'s data, for ticket `id` made from chat `chat` when it was.
pub(crate) fn ticket_data(
    id: i64,
    subject: &str,
    chat: Option<ConversationId>,
    site: &str,
    at: i64,
) -> serde_json::Value {
    let mut data = json!({"ticket_id": id, "site": site, "subject": subject, "at": at});
    if let Some(chat) = chat {
        data["conversation_id"] = json!(chat);
    }
    data
}

/// A delivery of queued events `(event, payload)`, oldest first: the one event as it
/// is, or with batching on (`batch_max` > 1) every one in a `batch`: (event, body).
pub(crate) fn delivery_body(
    batch_max: i64,
    events: &[(String, String)],
    now: i64,
) -> (String, String) {
    if batch_max > 1 {
        let list: Vec<&str> = events.iter().map(|(_, payload)| payload.as_str()).collect();
        let body = format!(
            "{{\"type\":\"batch\",\"timestamp\":{},\"data\":{{\"events\":[{}]}}}}",
            serde_json::Value::from(rfc3339(now)),
            list.join(",")
        );
        ("batch".to_owned(), body)
    } else {
        events.first().cloned().unwrap_or_default()
    }
}

/// The secrets a delivery is signed with: the current one, and the previous one while
/// its overlap lasts.
pub(crate) fn signing_secrets(
    current: String,
    previous: Option<String>,
    until: Option<i64>,
    now: i64,
) -> Vec<String> {
    let mut secrets = vec![current];
    if let (Some(previous), Some(until)) = (previous, until)
        && until > now
    {
        secrets.push(previous);
    }
    secrets
}

/// An endpoint with events not yet in a delivery, as the outbox gathers them.
pub(crate) struct Waiting {
    pub endpoint: i64,
    pub batch_max: i64,
    pub batch_ms: i64,
    pub count: i64,
    pub oldest: i64,
}

impl Waiting {
    /// When its batch, still gathering at `now`, is due; `None` when a delivery is to
    /// be made now (batching off, the batch full, or its time come).
    pub(crate) fn gathering_until(&self, now: i64) -> Option<i64> {
        let full = self.count >= self.batch_max;
        let due = self.oldest + self.batch_ms;
        (self.batch_max > 1 && !full && due > now).then_some(due)
    }
}
