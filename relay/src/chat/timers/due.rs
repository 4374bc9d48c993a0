//! What happens to a chat while it waits for an agent, and when: the profile's wait
//! messages, the "are you still there?" question and, with no answer, the end of an
//! abandoned chat. [`next_due`] is plain Rust over what SQLite stores about the chat,
//! so a restarted relay picks up exactly where it was; [`run`] sleeps until the next
//! due moment (tokio time, so tests pause and advance it) and hands it to a
//! [`Waiter`], which the relay implements over its store and sockets.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::store::AbandonRules;

const MINUTE_MS: i64 = 60_000;

/// A profile's wait messages.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WaitMessages {
    pub messages: Vec<String>,
    pub interval_minutes: u32,
    /// After the last message, start again from the first.
    pub repeat: bool,
}

/// What SQLite knows about a waiting chat's timers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitingChat {
    pub id: i64,
    pub queued_at: i64,
    /// Wait messages posted so far.
    pub messages_sent: u32,
    /// When it was last asked "are you still there?" (cleared by an answer).
    pub asked_at: Option<i64>,
    /// The visitor's last "I'm still here".
    pub confirmed_at: Option<i64>,
}

/// Something to do for a waiting chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Due {
    /// Post the wait message `index`, the chat having had `sent_before` of them: the
    /// store posts it only if that is still so, so two nodes that see the same due
    /// moment post it once, and a node that read the chat before another posted
    /// cannot post the same message again.
    WaitMessage {
        index: usize,
        sent_before: u32,
    },
    AskStillThere,
    Abandon,
}

/// The next thing due for `chat` and when (Unix ms), if anything.
pub fn next_due(
    chat: &WaitingChat,
    waits: &WaitMessages,
    rules: &AbandonRules,
) -> Option<(i64, Due)> {
    let mut candidates: Vec<(i64, Due)> = Vec::new();
    let count = waits.messages.len();
    let sent = chat.messages_sent as usize;
    if count > 0 && waits.interval_minutes > 0 && (waits.repeat || sent < count) {
        let at = chat.queued_at
            + i64::from(chat.messages_sent + 1) * i64::from(waits.interval_minutes) * MINUTE_MS;
        candidates.push((
            at,
            Due::WaitMessage {
                index: sent % count,
                sent_before: chat.messages_sent,
            },
        ));
    }
    if rules.enabled {
        let since = chat.queued_at.max(chat.confirmed_at.unwrap_or(i64::MIN));
        if chat.asked_at.is_none() && rules.ask_after_minutes < rules.end_after_minutes {
            candidates.push((
                since + i64::from(rules.ask_after_minutes) * MINUTE_MS,
                Due::AskStillThere,
            ));
        }
        candidates.push((
            since + i64::from(rules.end_after_minutes) * MINUTE_MS,
            Due::Abandon,
        ));
    }
    // At the same moment, ending wins: nothing else is sent to a chat that ends.
    candidates
        .into_iter()
        .min_by_key(|(at, due)| (*at, !matches!(due, Due::Abandon)))
}

/// The relay's side of the timers.
pub trait Waiter: Send + Sync + 'static {
    /// The chats waiting now, with their wait messages, and the abandon rules.
    fn waiting(
        &self,
    ) -> impl Future<Output = (Vec<(WaitingChat, WaitMessages)>, AbandonRules)> + Send;
    /// Does `due` for chat `id` (the store re-checks that it is still waiting); false
    /// when it could not (the store failed), so the loop waits before trying again.
    fn fire(&self, id: i64, due: Due) -> impl Future<Output = bool> + Send;
    /// Unix ms now.
    fn now_ms(&self) -> i64;
}

/// How long to wait after a timer could not be done before looking again.
const RETRY_AFTER: Duration = Duration::from_secs(5);
/// How long to gather queue changes before looking again, so a burst (many chats
/// queued or joined at once) costs one look, not one per change.
const GATHER: Duration = Duration::from_millis(150);

/// Sleeps until the earliest due moment of any waiting chat and fires it; looks again
/// whenever `changed` is notified (a chat queued, joined, ended, answered) and stops
/// with `stop`.
pub async fn run<W: Waiter>(waiter: Arc<W>, changed: Arc<Notify>, stop: CancellationToken) {
    loop {
        let (chats, rules) = waiter.waiting().await;
        let now = waiter.now_ms();
        let next = chats
            .iter()
            .filter_map(|(chat, waits)| {
                next_due(chat, waits, &rules).map(|(at, due)| (at, chat.id, due))
            })
            .min_by_key(|(at, _, _)| *at);
        match next {
            Some((at, id, due)) if at <= now => {
                if !waiter.fire(id, due).await {
                    tokio::select! {
                        () = tokio::time::sleep(RETRY_AFTER) => {}
                        () = changed.notified() => {}
                        () = stop.cancelled() => return,
                    }
                }
            }
            Some((at, _, _)) => {
                let wait = Duration::from_millis(u64::try_from(at - now).unwrap_or(0));
                tokio::select! {
                    () = tokio::time::sleep(wait) => continue,
                    () = changed.notified() => {}
                    () = stop.cancelled() => return,
                }
            }
            None => {
                tokio::select! {
                    () = changed.notified() => {}
                    () = stop.cancelled() => return,
                }
            }
        }
        tokio::select! {
            () = tokio::time::sleep(GATHER) => {}
            () = stop.cancelled() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use std::collections::BTreeMap;

    fn chat(queued_at: i64) -> WaitingChat {
        WaitingChat {
            id: 1,
            queued_at,
            messages_sent: 0,
            asked_at: None,
            confirmed_at: None,
        }
    }

    fn waits(repeat: bool) -> WaitMessages {
        WaitMessages {
            messages: vec!["one".into(), "two".into()],
            interval_minutes: 2,
            repeat,
        }
    }

    const RULES: AbandonRules = AbandonRules {
        enabled: true,
        ask_after_minutes: 5,
        end_after_minutes: 8,
        close_ticket: true,
        ticket_categories: BTreeMap::new(),
    };

    fn message(index: usize, sent_before: u32) -> Due {
        Due::WaitMessage { index, sent_before }
    }

    #[test]
    fn wait_messages_come_at_the_interval_and_stop_or_loop() {
        let off = AbandonRules::default();
        let mut waiting = chat(0);
        assert_eq!(
            next_due(&waiting, &waits(false), &off),
            Some((2 * MINUTE_MS, message(0, 0)))
        );
        waiting.messages_sent = 1;
        assert_eq!(
            next_due(&waiting, &waits(false), &off),
            Some((4 * MINUTE_MS, message(1, 1)))
        );
        waiting.messages_sent = 2;
        assert_eq!(
            next_due(&waiting, &waits(false), &off),
            None,
            "without loop they stop"
        );
        assert_eq!(
            next_due(&waiting, &waits(true), &off),
            Some((6 * MINUTE_MS, message(0, 2))),
            "with loop they start again"
        );
    }

    #[test]
    fn an_unanswered_question_leads_to_the_end_and_an_answer_restarts_the_clock() {
        let none = WaitMessages::default();
        let mut waiting = chat(0);
        assert_eq!(
            next_due(&waiting, &none, &RULES),
            Some((5 * MINUTE_MS, Due::AskStillThere))
        );
        waiting.asked_at = Some(5 * MINUTE_MS);
        assert_eq!(
            next_due(&waiting, &none, &RULES),
            Some((8 * MINUTE_MS, Due::Abandon))
        );
        waiting.asked_at = None;
        waiting.confirmed_at = Some(6 * MINUTE_MS);
        assert_eq!(
            next_due(&waiting, &none, &RULES),
            Some((11 * MINUTE_MS, Due::AskStillThere))
        );
        assert_eq!(next_due(&waiting, &none, &AbandonRules::default()), None);
    }

    #[test]
    fn ending_wins_over_a_message_due_at_the_same_moment() {
        let every_eight = WaitMessages {
            messages: vec!["still busy".into()],
            interval_minutes: 8,
            repeat: true,
        };
        let mut waiting = chat(0);
        waiting.asked_at = Some(1);
        assert_eq!(
            next_due(&waiting, &every_eight, &RULES),
            Some((8 * MINUTE_MS, Due::Abandon))
        );
    }

    /// An in-memory relay: one chat, the time from tokio's (paused) clock. The tests
    /// move that clock with `sleep`, which under paused time advances it at once.
    struct Fake {
        start: tokio::time::Instant,
        chat: Mutex<Option<WaitingChat>>,
        waits: WaitMessages,
        fired: Mutex<Vec<(i64, Due)>>,
    }

    impl Fake {
        /// One chat, queued at minute 0 of the paused clock.
        fn waiting_since_now(waits: WaitMessages) -> Arc<Self> {
            Arc::new(Self {
                start: tokio::time::Instant::now(),
                chat: Mutex::new(Some(chat(0))),
                waits,
                fired: Mutex::new(Vec::new()),
            })
        }
    }

    impl Waiter for Fake {
        async fn waiting(&self) -> (Vec<(WaitingChat, WaitMessages)>, AbandonRules) {
            let chats = self
                .chat
                .lock()
                .unwrap()
                .clone()
                .map(|chat| (chat, self.waits.clone()));
            (chats.into_iter().collect(), RULES)
        }

        async fn fire(&self, _id: i64, due: Due) -> bool {
            let now = self.now_ms();
            self.fired
                .lock()
                .unwrap()
                .push((now / MINUTE_MS, due.clone()));
            let mut chat = self.chat.lock().unwrap();
            match due {
                Due::WaitMessage { .. } => {
                    if let Some(chat) = chat.as_mut() {
                        chat.messages_sent += 1;
                    }
                }
                Due::AskStillThere => {
                    if let Some(chat) = chat.as_mut() {
                        chat.asked_at = Some(now);
                    }
                }
                Due::Abandon => *chat = None,
            }
            true
        }

        fn now_ms(&self) -> i64 {
            i64::try_from(self.start.elapsed().as_millis()).unwrap_or(i64::MAX)
        }
    }

    #[tokio::test(start_paused = true)]
    async fn with_paused_time_a_silent_visitor_gets_messages_a_question_then_the_end() {
        let fake = Fake::waiting_since_now(waits(true));
        let changed = Arc::new(Notify::new());
        let stop = CancellationToken::new();
        let task = tokio::spawn(run(Arc::clone(&fake), Arc::clone(&changed), stop.clone()));
        tokio::time::sleep(Duration::from_secs(9 * 60)).await;
        assert_eq!(
            *fake.fired.lock().unwrap(),
            [
                (2, message(0, 0)),
                (4, message(1, 1)),
                (5, Due::AskStillThere),
                (6, message(0, 2)),
                (8, Due::Abandon),
            ]
        );
        stop.cancel();
        task.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn with_paused_time_a_restart_half_way_resumes_from_the_stored_state() {
        let fake = Fake::waiting_since_now(WaitMessages::default());
        let changed = Arc::new(Notify::new());
        let stop = CancellationToken::new();
        let first = tokio::spawn(run(Arc::clone(&fake), Arc::clone(&changed), stop.clone()));
        tokio::time::sleep(Duration::from_secs(6 * 60)).await;
        stop.cancel();
        first.await.unwrap();
        // Down for a minute; then a new scheduler starts from what was stored.
        tokio::time::sleep(Duration::from_secs(60)).await;
        let stop = CancellationToken::new();
        let second = tokio::spawn(run(Arc::clone(&fake), changed, stop.clone()));
        tokio::time::sleep(Duration::from_secs(2 * 60)).await;
        assert_eq!(
            *fake.fired.lock().unwrap(),
            [(5, Due::AskStillThere), (8, Due::Abandon)],
            "asked once before the restart, ended on time after it"
        );
        stop.cancel();
        second.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn with_paused_time_an_answer_keeps_the_chat() {
        let fake = Fake::waiting_since_now(WaitMessages::default());
        let changed = Arc::new(Notify::new());
        let stop = CancellationToken::new();
        let task = tokio::spawn(run(Arc::clone(&fake), Arc::clone(&changed), stop.clone()));
        tokio::time::sleep(Duration::from_secs(6 * 60)).await;
        // The visitor answers at minute 6: the clock starts again from there.
        if let Some(chat) = fake.chat.lock().unwrap().as_mut() {
            chat.asked_at = None;
            chat.confirmed_at = Some(6 * MINUTE_MS);
        }
        changed.notify_one();
        tokio::time::sleep(Duration::from_secs(7 * 60)).await;
        assert_eq!(
            *fake.fired.lock().unwrap(),
            [(5, Due::AskStillThere), (11, Due::AskStillThere)],
            "at minute 13 the chat still waits: its end moved from minute 8 to 14"
        );
        assert!(fake.chat.lock().unwrap().is_some());
        stop.cancel();
        task.await.unwrap();
    }
}
