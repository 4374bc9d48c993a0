//! What NATS lost, read from the store: the messages behind a gap in a conversation's
//! seqs, and now and then whatever the followed conversations have that never came.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use porchlight_protocol::{ConversationId, Seq};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::chat::events;
use crate::hub::{Frame, Hub};
use crate::store::Store;

/// How often the conversations a node follows are checked against the store.
const CATCH_UP_EVERY: Duration = Duration::from_secs(3);
/// How long to wait before asking the store again for a gap's messages.
const FILL_RETRY: Duration = Duration::from_secs(1);

/// Reads what a gap is missing from the store.
pub(super) async fn fill_gaps(
    hub: Arc<Hub>,
    store: Arc<dyn Store>,
    mut fills: mpsc::UnboundedReceiver<(ConversationId, Seq)>,
    shutdown: CancellationToken,
) {
    loop {
        let (conversation, after) = tokio::select! {
            next = fills.recv() => match next {
                Some(next) => next,
                None => return,
            },
            () = shutdown.cancelled() => return,
        };
        // The messages behind the gap wait until the store answers: passing them on
        // without the missing ones would lose those for good.
        loop {
            match stored_after(store.as_ref(), conversation, after).await {
                Ok(found) => {
                    hub.filled(conversation, found);
                    break;
                }
                Err(err) => {
                    tracing::error!(error = %err, conversation, "cannot read the messages a gap is missing; trying again");
                    tokio::select! {
                        () = tokio::time::sleep(FILL_RETRY) => {}
                        () = shutdown.cancelled() => return,
                    }
                }
            }
        }
    }
}

/// Every stored message of `conversation` after `after`, as frames.
async fn stored_after(
    store: &dyn Store,
    conversation: ConversationId,
    after: Seq,
) -> Result<Vec<(Seq, Frame)>, crate::store::StoreError> {
    let stored = events::stored_after(store, conversation, after).await?;
    Ok(stored
        .into_iter()
        .map(|(seq, frame)| (seq, frame.into()))
        .collect())
}

/// Now and then, asks the store (in one read) which followed conversations have
/// messages newer than what they passed on, and reads those: the op of a
/// conversation's last message may have been lost with nothing after it to show the
/// gap.
pub(super) async fn catch_up(hub: Arc<Hub>, store: Arc<dyn Store>, shutdown: CancellationToken) {
    let mut every = tokio::time::interval(CATCH_UP_EVERY);
    loop {
        tokio::select! {
            _ = every.tick() => {}
            () = shutdown.cancelled() => return,
        }
        check_against_store(&hub, store.as_ref(), hub.passed_on()).await;
    }
}

/// Reads from the store what each of `followed` (a conversation, the last seq it
/// passed on) has that it did not pass on, and passes that on.
pub(super) async fn check_against_store(
    hub: &Hub,
    store: &dyn Store,
    followed: Vec<(ConversationId, Seq)>,
) {
    if followed.is_empty() {
        return;
    }
    let passed_on: HashMap<ConversationId, Seq> = followed.into_iter().collect();
    let stored = match store.last_seqs(passed_on.keys().copied().collect()).await {
        Ok(stored) => stored,
        Err(err) => {
            tracing::error!(error = %err, "cannot check the followed chats against the store");
            return;
        }
    };
    let behind = stored.into_iter().filter_map(|(conversation, last)| {
        let delivered = passed_on.get(&conversation).copied()?;
        (last > delivered).then_some((conversation, delivered))
    });
    for (conversation, delivered) in behind {
        match stored_after(store, conversation, delivered).await {
            Ok(found) => hub.caught_up(conversation, found),
            Err(err) => tracing::error!(error = %err, conversation, "cannot catch up"),
        }
    }
}
