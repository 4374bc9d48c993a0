//! A node hears a conversation's messages from the others only while one of its
//! sockets follows it: it subscribes to the conversation's subject when the first
//! socket follows and unsubscribes when the last one leaves. What was published before
//! NATS had the subscription is read from the store, so nothing falls between the two.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use futures_util::StreamExt;
use porchlight_protocol::ConversationId;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

use super::{recover, wire};
use crate::hub::Interest;
use crate::state::AppState;

/// How long a node waits for NATS to confirm new subscriptions before reading what
/// came before them (the store is checked again every few seconds anyway).
const SUBSCRIBED_WAIT: Duration = Duration::from_secs(2);

/// The subject a conversation's messages go on in the cluster `name`.
pub(super) fn subject(name: &str, conversation: ConversationId) -> async_nats::Subject {
    format!("{name}.chat.{conversation}").into()
}

/// Subscribes and unsubscribes as the conversations followed here change.
pub(super) async fn hear_followed(
    state: AppState,
    client: async_nats::Client,
    name: String,
    mut interest: mpsc::UnboundedReceiver<Interest>,
) {
    let mut hearing: HashMap<ConversationId, AbortHandle> = HashMap::new();
    loop {
        let first = tokio::select! {
            next = interest.recv() => match next {
                Some(first) => first,
                None => return,
            },
            () = state.shutdown.cancelled() => return,
        };
        // Every change waiting is taken at once, so a burst of follows (a restart's
        // reconnections) costs one flush and one store read.
        let mut changes = vec![first];
        while let Ok(next) = interest.try_recv() {
            changes.push(next);
        }
        let mut new: HashSet<ConversationId> = HashSet::new();
        for change in changes {
            match change {
                Interest::Follow(conversation) if !hearing.contains_key(&conversation) => {
                    match client.subscribe(subject(&name, conversation)).await {
                        Ok(subscriber) => {
                            let task = state.tracker.spawn(pass_on(state.clone(), subscriber));
                            hearing.insert(conversation, task.abort_handle());
                            new.insert(conversation);
                        }
                        Err(err) => tracing::error!(
                            error = %err,
                            conversation,
                            "cannot hear a conversation's messages; the store is checked every few seconds"
                        ),
                    }
                }
                Interest::Follow(_) => {}
                Interest::Unfollow(conversation) => {
                    // Dropping the subscriber unsubscribes.
                    if let Some(task) = hearing.remove(&conversation) {
                        task.abort();
                    }
                    new.remove(&conversation);
                }
            }
        }
        if new.is_empty() {
            continue;
        }
        let _ = tokio::time::timeout(SUBSCRIBED_WAIT, client.flush()).await;
        let followed = state
            .hub
            .passed_on()
            .into_iter()
            .filter(|(conversation, _)| new.contains(conversation))
            .collect();
        recover::check_against_store(&state.hub, state.store.as_ref(), followed).await;
    }
}

/// Applies the ops heard on one conversation's subject, until it is unsubscribed or
/// the relay stops.
async fn pass_on(state: AppState, mut subscriber: async_nats::Subscriber) {
    loop {
        let message = tokio::select! {
            next = subscriber.next() => match next {
                Some(message) => message,
                None => return,
            },
            () = state.shutdown.cancelled() => return,
        };
        match wire::decode_op(&message.payload) {
            Ok((_, op, frame)) => state.hub.apply_shared(&op, &frame),
            Err(err) => tracing::warn!(error = %err, "ignored"),
        }
    }
}
