//! The webhook outbox, over the store and the sender: which endpoint gets which
//! message (each message type × one profile or all), batching, and under tokio's
//! paused clock the retries' back-off, a 410 turning the endpoint off, and an endpoint
//! failing for a day turned off with the reason.

use std::collections::{BTreeSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use porchlight_protocol::api::webhooks::{MessageTypes, WebhookEvent, WebhookForm};
use porchlight_protocol::{AgentInfo, Author, ConversationStatus};
use porchlight_relay::store::webhooks::{DueDelivery, Outcome, Tried};
use porchlight_relay::store::{
    ChatRules, JoinOutcome, NewConversation, NewMessage, NewSiteRow, Role, SqliteStore, Store,
    now_ms,
};
use porchlight_relay::webhooks::sender::{self, Answer, Post, Request, Sender};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

struct Shop {
    store: Arc<dyn Store>,
    site: i64,
    dir: tempfile::TempDir,
}

async fn shop() -> Shop {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).unwrap());
    let site = store
        .create_site(NewSiteRow {
            key: "shop".into(),
            name: "Shop".into(),
            allowed_origins: Vec::new(),
            profile_name: "Default".into(),
            profile_definition: "{}".into(),
        })
        .await
        .unwrap();
    Shop {
        store,
        site: site.id,
        dir,
    }
}

fn form(events: &[WebhookEvent], types: MessageTypes, profile: Option<i64>) -> WebhookForm {
    WebhookForm {
        name: format!("{types:?} {profile:?}"),
        url: "https://example.com/hook".into(),
        events: events.to_vec(),
        message_types: types,
        profile_id: profile,
        batch_max: 1,
        batch_seconds: 0,
        auth_header: None,
        enabled: true,
    }
}

/// Every message, in batches of up to `most` within a minute.
fn batched(most: u32) -> WebhookForm {
    WebhookForm {
        batch_max: most,
        batch_seconds: 60,
        ..form(&[WebhookEvent::ChatMessage], MessageTypes::All, None)
    }
}

impl Shop {
    async fn endpoint(&self, form: WebhookForm) -> i64 {
        let secret = porchlight_relay::webhooks::sign::new_secret();
        self.store
            .create_webhook(self.site, form, secret)
            .await
            .unwrap()
            .id
    }

    async fn chat(&self, profile: Option<i64>, status: ConversationStatus) -> i64 {
        let visitor = self
            .store
            .create_visitor(self.site, format!("v-{}-{}", now_ms(), status.as_str()))
            .await
            .unwrap();
        let new = NewConversation {
            site_id: self.site,
            visitor_id: visitor.id,
            profile_id: profile,
            page_url: None,
            referrer: None,
            user_agent: None,
            ticket_id: None,
        };
        self.store
            .open_or_start_conversation(new, status)
            .await
            .unwrap()
            .0
            .id
    }

    /// Adds a message; returns its seq.
    async fn say(&self, chat: i64, author: Author, agent: Option<i64>, body: &str) -> u64 {
        let id = (author == Author::Visitor).then(|| format!("{chat}-{body}"));
        let message = NewMessage::text(chat, id, author, agent, None, body.into());
        self.store
            .append_message(message)
            .await
            .unwrap()
            .message
            .seq
    }

    /// The (conversation, seq, event) of every event the endpoint's deliveries carry.
    async fn delivered(&self, endpoint: i64) -> BTreeSet<(i64, u64, String)> {
        let deliveries = self
            .store
            .webhook_deliveries(self.site, endpoint, None, 500)
            .await
            .unwrap();
        let mut events = BTreeSet::new();
        for delivery in deliveries {
            let body: Value = serde_json::from_str(&delivery.body).unwrap();
            let list = if body["type"] == "batch" {
                body["data"]["events"].as_array().unwrap().clone()
            } else {
                vec![body]
            };
            for event in list {
                let data = &event["data"];
                events.insert((
                    data["conversation_id"].as_i64().unwrap(),
                    data["seq"].as_u64().unwrap_or(0),
                    event["type"].as_str().unwrap().to_owned(),
                ));
            }
        }
        events
    }
}

/// Which message types a message counts as, from the seed's words: visitors in live
/// chat, visitors in live or bot chat, agents, and system (bot and relay) messages.
fn counts_as(author: Author, live: bool) -> Vec<MessageTypes> {
    let mut types = vec![MessageTypes::All];
    match author {
        Author::Visitor if live => types.extend([MessageTypes::VisitorLive, MessageTypes::Visitor]),
        Author::Visitor => types.push(MessageTypes::Visitor),
        Author::Agent => types.push(MessageTypes::Agent),
        Author::Bot | Author::System => types.push(MessageTypes::System),
    }
    types
}

#[tokio::test]
async fn each_message_type_and_profile_filter_gets_exactly_its_messages() {
    let shop = shop().await;
    let store = &shop.store;
    let sales = store
        .save_profile(shop.site, "Sales", "{}".into(), false)
        .await
        .unwrap()
        .id;
    let support = store
        .save_profile(shop.site, "Support", "{}".into(), false)
        .await
        .unwrap()
        .id;
    let mut endpoints = Vec::new();
    for types in MessageTypes::ALL {
        for profile in [None, Some(sales)] {
            let id = shop
                .endpoint(form(&[WebhookEvent::ChatMessage], types, profile))
                .await;
            endpoints.push((id, types, profile));
        }
    }
    let joins = shop
        .endpoint(form(&[WebhookEvent::ChatJoined], MessageTypes::All, None))
        .await;
    let ana = store
        .create_agent("ana@example.com", "Ana", Role::Agent, "x".into())
        .await
        .unwrap();

    // Each profile: a chat with the bot and a live one; every kind of author.
    let mut said: Vec<(i64, u64, Author, bool, i64)> = Vec::new();
    for profile in [sales, support] {
        let bot = shop.chat(Some(profile), ConversationStatus::Bot).await;
        for (author, body) in [
            (Author::Visitor, "hello bot"),
            (Author::Bot, "Hi! How can I help?"),
        ] {
            said.push((
                bot,
                shop.say(bot, author, None, body).await,
                author,
                false,
                profile,
            ));
        }
        let live = shop.chat(Some(profile), ConversationStatus::Queued).await;
        said.push((
            live,
            shop.say(live, Author::Visitor, None, "anyone there?").await,
            Author::Visitor,
            true,
            profile,
        ));
        let joined = store
            .join(
                live,
                AgentInfo {
                    id: ana.id,
                    name: "Ana".into(),
                },
                ChatRules::default(),
            )
            .await
            .unwrap();
        let JoinOutcome::Joined(joined) = joined else {
            panic!("not joined: {joined:?}");
        };
        said.push((live, joined.1.seq, Author::System, true, profile));
        said.push((
            live,
            shop.say(live, Author::Agent, Some(ana.id), "Ana here")
                .await,
            Author::Agent,
            true,
            profile,
        ));
    }
    store.gather_deliveries(now_ms()).await.unwrap();

    for (endpoint, types, profile) in endpoints {
        let expected: BTreeSet<(i64, u64, String)> = said
            .iter()
            .filter(|(_, _, author, live, of)| {
                counts_as(*author, *live).contains(&types) && profile.is_none_or(|p| p == *of)
            })
            .map(|(chat, seq, _, _, _)| (*chat, *seq, "chat.message".to_owned()))
            .collect();
        assert!(!expected.is_empty());
        assert_eq!(
            shop.delivered(endpoint).await,
            expected,
            "{types:?} for {profile:?}"
        );
    }
    let joined = shop.delivered(joins).await;
    assert_eq!(joined.len(), 2, "one chat.joined per live chat: {joined:?}");
    assert!(joined.iter().all(|(_, _, event)| event == "chat.joined"));
}

#[tokio::test]
async fn a_batching_endpoint_gets_full_batches_at_once_and_the_rest_when_the_time_is_up() {
    let shop = shop().await;
    let endpoint = shop.endpoint(batched(3)).await;
    let chat = shop.chat(None, ConversationStatus::Queued).await;
    for n in 1..=7 {
        shop.say(chat, Author::Visitor, None, &format!("message {n}"))
            .await;
    }
    let now = now_ms();
    let next = shop.store.gather_deliveries(now).await.unwrap();
    let batches = shop
        .store
        .webhook_deliveries(shop.site, endpoint, None, 10)
        .await
        .unwrap();
    assert_eq!(batches.iter().map(|d| d.events).collect::<Vec<_>>(), [3, 3]);
    assert!(
        next.is_some_and(|at| at > now && at <= now + 60_000),
        "{next:?}"
    );
    let oldest_first: Vec<Value> = batches
        .iter()
        .rev()
        .flat_map(|d| {
            let body: Value = serde_json::from_str(&d.body).unwrap();
            assert_eq!(
                (body["type"].as_str(), d.event.as_str()),
                (Some("batch"), "batch")
            );
            body["data"]["events"].as_array().unwrap().clone()
        })
        .collect();
    let texts: Vec<&str> = oldest_first
        .iter()
        .map(|e| e["data"]["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        [
            "message 1",
            "message 2",
            "message 3",
            "message 4",
            "message 5",
            "message 6"
        ]
    );

    shop.store.gather_deliveries(now + 61_000).await.unwrap();
    let all = shop
        .store
        .webhook_deliveries(shop.site, endpoint, None, 10)
        .await
        .unwrap();
    assert_eq!(all.iter().map(|d| d.events).collect::<Vec<_>>(), [1, 3, 3]);
    assert_eq!(shop.delivered(endpoint).await.len(), 7, "each message once");
}

/// A receiver that answers from a script (then `otherwise`), and says when it was asked.
struct Scripted {
    answers: Mutex<VecDeque<Answer>>,
    otherwise: Answer,
    asked: mpsc::UnboundedSender<(Duration, Request)>,
    start: tokio::time::Instant,
}

impl Post for Scripted {
    async fn post(&self, request: Request) -> Answer {
        let _ = self.asked.send((self.start.elapsed(), request));
        let next = self.answers.lock().unwrap().pop_front();
        next.unwrap_or_else(|| self.otherwise.clone())
    }
}

fn status(code: u16) -> Answer {
    Answer::Status {
        code,
        excerpt: format!("answered {code}"),
    }
}

struct Running {
    asked: mpsc::UnboundedReceiver<(Duration, Request)>,
    tried: mpsc::UnboundedReceiver<(i64, Tried)>,
    stop: CancellationToken,
}

/// Starts the sender on the paused clock with a scripted receiver.
fn run_sender(store: &Arc<dyn Store>, answers: Vec<Answer>, otherwise: Answer) -> Running {
    let start = tokio::time::Instant::now();
    let base = now_ms();
    let (asked_tx, asked) = mpsc::unbounded_channel();
    let (tried_tx, tried) = mpsc::unbounded_channel();
    let stop = CancellationToken::new();
    let running = Sender {
        store: Arc::clone(store),
        post: Scripted {
            answers: Mutex::new(answers.into()),
            otherwise,
            asked: asked_tx,
            start,
        },
        now: Arc::new(move || base + i64::try_from(start.elapsed().as_millis()).unwrap()),
        tried: Box::new(move |delivery: &DueDelivery, tried: &Tried| {
            let _ = tried_tx.send((delivery.id, tried.clone()));
        }),
    };
    tokio::spawn(sender::run(running, stop.clone()));
    Running { asked, tried, stop }
}

impl Running {
    async fn next(&mut self) -> (Duration, Request, Tried) {
        let (at, request) = self.asked.recv().await.unwrap();
        let (_, tried) = self.tried.recv().await.unwrap();
        (at, request, tried)
    }
}

/// A shop with an endpoint for every message, and a waiting chat that said `text`.
async fn one_message(text: &str) -> (Shop, i64, i64) {
    let shop = shop().await;
    let endpoint = shop
        .endpoint(form(&[WebhookEvent::ChatMessage], MessageTypes::All, None))
        .await;
    let chat = shop.chat(None, ConversationStatus::Queued).await;
    shop.say(chat, Author::Visitor, None, text).await;
    (shop, endpoint, chat)
}

fn within(gap: Duration, seconds: u64) -> bool {
    let wait = Duration::from_secs(seconds);
    gap >= wait.mul_f64(0.8) && gap <= wait.mul_f64(1.2)
}

#[tokio::test(start_paused = true)]
async fn failures_are_retried_with_growing_waits_under_the_same_webhook_id() {
    let (shop, endpoint, _) = one_message("hello").await;
    let answers = vec![
        status(500),
        Answer::Failed("connection refused".into()),
        status(503),
    ];
    let mut running = run_sender(&shop.store, answers, status(204));

    let mut tries = Vec::new();
    for _ in 0..4 {
        tries.push(running.next().await);
    }
    let ids: BTreeSet<&str> = tries
        .iter()
        .map(|(_, request, _)| {
            request
                .headers
                .iter()
                .find(|(n, _)| n == "webhook-id")
                .unwrap()
                .1
                .as_str()
        })
        .collect();
    assert_eq!(ids.len(), 1, "every retry carries the same webhook-id");
    let gaps: Vec<Duration> = tries.windows(2).map(|pair| pair[1].0 - pair[0].0).collect();
    for (gap, seconds) in gaps.iter().zip([10, 40, 160]) {
        assert!(
            within(*gap, seconds),
            "waited {gap:?}, not about {seconds} s: {gaps:?}"
        );
    }
    assert_eq!(tries[3].2.outcome, Outcome::Delivered);
    assert_eq!(tries[1].2.error.as_deref(), Some("connection refused"));

    let delivery = &shop
        .store
        .webhook_deliveries(shop.site, endpoint, None, 5)
        .await
        .unwrap()[0];
    assert_eq!(
        (
            delivery.status.as_str(),
            delivery.attempts,
            delivery.response_code
        ),
        ("delivered", 4, Some(204))
    );
    let listed = shop
        .store
        .webhook(shop.site, endpoint)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        listed.failing_since, None,
        "a success clears the failing streak"
    );
    running.stop.cancel();
}

#[tokio::test(start_paused = true)]
async fn a_410_turns_the_endpoint_off_until_an_admin_turns_it_on_again() {
    let events = [WebhookEvent::ChatMessage];
    let (shop, endpoint, chat) = one_message("hello").await;
    let mut running = run_sender(&shop.store, vec![status(410)], status(200));

    let (_, gone, tried) = running.next().await;
    assert!(
        matches!(tried.outcome, Outcome::Disable { .. }),
        "{tried:?}"
    );
    let off = shop
        .store
        .webhook(shop.site, endpoint)
        .await
        .unwrap()
        .unwrap();
    assert!(!off.enabled);
    assert!(
        off.disabled_reason
            .as_deref()
            .is_some_and(|why| why.contains("410 Gone")),
        "{off:?}"
    );
    // Off: nothing is queued for it, and nothing is sent for a day.
    shop.say(chat, Author::Visitor, None, "still there?").await;
    // A day on the paused clock: the sender wakes as often as it would (every minute
    // at least), so anything it wrongly sent would be in `asked`.
    tokio::time::sleep(Duration::from_secs(86_400)).await;
    assert!(running.asked.try_recv().is_err(), "nothing sent while off");

    // Turned on again, the delivery that waited goes: the same request.
    let on = shop
        .store
        .update_webhook(shop.site, endpoint, form(&events, MessageTypes::All, None))
        .await
        .unwrap()
        .unwrap();
    assert!(on.enabled && on.disabled_reason.is_none());
    shop.store.webhook_events_queued().notify_one();
    let (_, again, tried) = running.next().await;
    assert_eq!(tried.outcome, Outcome::Delivered);
    assert_eq!(again.body, gone.body);
    assert_eq!(
        shop.delivered(endpoint).await.len(),
        1,
        "the message said while off was not queued"
    );
    running.stop.cancel();
}

#[tokio::test(start_paused = true)]
async fn an_endpoint_failing_for_a_day_is_turned_off_with_the_reason() {
    let (shop, endpoint, _) = one_message("first").await;
    let mut running = run_sender(&shop.store, Vec::new(), status(500));

    // Every try fails: once they have for a day, the endpoint is turned off and says
    // why; the delivery waits for it rather than being given up.
    let mut tries = Vec::new();
    let reason = loop {
        let (at, _, tried) = running.next().await;
        tries.push(at);
        match tried.outcome {
            Outcome::RetryAt(Some(_)) => {}
            Outcome::Disable { reason, .. } => break reason,
            other => panic!("unexpected {other:?}"),
        }
    };
    let span = *tries.last().unwrap() - tries[0];
    assert!((9..=11).contains(&tries.len()), "{} tries", tries.len());
    assert!(
        span >= Duration::from_secs(24 * 3600) && span <= Duration::from_secs(30 * 3600),
        "{span:?}"
    );
    assert!(reason.starts_with("Every try has failed since"), "{reason}");
    let off = shop
        .store
        .webhook(shop.site, endpoint)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (off.enabled, off.disabled_reason.as_deref()),
        (false, Some(reason.as_str()))
    );
    let deliveries = shop
        .store
        .webhook_deliveries(shop.site, endpoint, None, 5)
        .await
        .unwrap();
    assert_eq!(
        deliveries
            .iter()
            .map(|d| d.status.as_str())
            .collect::<Vec<_>>(),
        ["pending"]
    );
    running.stop.cancel();
}

#[tokio::test]
async fn one_endpoints_backlog_never_hides_anothers_due_deliveries() {
    let (shop, busy, chat) = one_message("message 0").await;
    for n in 1..20 {
        shop.say(chat, Author::Visitor, None, &format!("message {n}"))
            .await;
    }
    let other_profile = shop
        .store
        .save_profile(shop.site, "Other", "{}".into(), false)
        .await
        .unwrap()
        .id;
    let quiet = shop
        .endpoint(form(
            &[WebhookEvent::ChatMessage],
            MessageTypes::All,
            Some(other_profile),
        ))
        .await;
    let later = shop
        .chat(Some(other_profile), ConversationStatus::Queued)
        .await;
    shop.say(later, Author::Visitor, None, "me too").await;
    shop.store.gather_deliveries(now_ms()).await.unwrap();

    let due = shop.store.due_deliveries(now_ms(), 8, 4).await.unwrap();
    let of = |endpoint: i64| {
        due.iter()
            .filter(|d| d.target.endpoint_id == endpoint)
            .count()
    };
    assert_eq!(
        (of(busy), of(quiet)),
        (4, 1),
        "at most 4 of the busy one's 20"
    );
}

#[tokio::test]
async fn erasing_a_visitor_deletes_the_webhook_requests_that_carried_their_words() {
    let shop = shop().await;
    let single = shop
        .endpoint(form(&[WebhookEvent::ChatMessage], MessageTypes::All, None))
        .await;
    let batched = shop.endpoint(batched(10)).await;
    let chat = shop.chat(None, ConversationStatus::Queued).await;
    shop.say(chat, Author::Visitor, None, "my address is 1 Main St")
        .await;
    let other = shop.chat(None, ConversationStatus::Queued).await;
    shop.say(other, Author::Visitor, None, "someone else").await;
    let now = now_ms();
    shop.store.gather_deliveries(now + 61_000).await.unwrap();
    assert_eq!(shop.delivered(single).await.len(), 2);
    assert_eq!(shop.delivered(batched).await.len(), 2, "one batch of both");

    shop.store.end(chat, Author::Visitor, None).await.unwrap();
    let visitor = shop
        .store
        .conversation(chat)
        .await
        .unwrap()
        .unwrap()
        .visitor_id;
    shop.store
        .erase_visitor(visitor, "Admin".into())
        .await
        .unwrap();
    let chats = |events: BTreeSet<(i64, u64, String)>| {
        events
            .into_iter()
            .map(|(chat, _, _)| chat)
            .collect::<Vec<_>>()
    };
    assert_eq!(chats(shop.delivered(single).await), [other]);
    // The batch still to be sent went; the other chat's event goes out again.
    assert!(shop.delivered(batched).await.is_empty());
    shop.store.gather_deliveries(now + 200_000).await.unwrap();
    assert_eq!(chats(shop.delivered(batched).await), [other]);
}

#[tokio::test]
async fn the_hourly_retention_pass_drops_deliveries_finished_a_month_ago() {
    let (shop, endpoint, chat) = one_message("long ago").await;
    let month_ago = now_ms() - 31 * 24 * 3_600_000;
    shop.store.gather_deliveries(month_ago).await.unwrap();
    let due = shop.store.due_deliveries(month_ago, 8, 4).await.unwrap();
    let tried = Tried {
        code: Some(204),
        duration_ms: 3,
        excerpt: None,
        error: None,
        outcome: Outcome::Delivered,
    };
    shop.store
        .record_try(&due[0], tried, month_ago)
        .await
        .unwrap();
    shop.say(chat, Author::Visitor, None, "today").await;
    shop.store.gather_deliveries(now_ms()).await.unwrap();

    let files = porchlight_relay::attachments::AttachmentsDir::new(shop.dir.path());
    let pass = porchlight_relay::retention::pass(shop.store.as_ref(), &files, now_ms())
        .await
        .unwrap();
    assert_eq!(pass.webhook_deliveries, 1);
    let left = shop.delivered(endpoint).await;
    assert_eq!(
        left.iter()
            .map(|(_, _, event)| event.as_str())
            .collect::<Vec<_>>(),
        ["chat.message"],
        "today's, still pending, stays"
    );
}
