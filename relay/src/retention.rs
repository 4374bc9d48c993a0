//! Retention: at start and every hour, ended chats older than their site's retention
//! are deleted with their files, files left by an interrupted deletion are removed,
//! and webhook deliveries finished more than 30 days ago go.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::attachments::{AttachmentsDir, SweepError};
use crate::store::{Store, now_ms};

/// How often retention looks.
pub const EVERY: Duration = Duration::from_secs(3600);
/// Chats deleted per write, so a long backlog never holds the writer for long.
const BATCH: usize = 200;
/// How long delivered and given-up webhook deliveries stay in the Deliveries tab.
const DELIVERIES_KEPT_MS: i64 = 30 * 24 * 3_600_000;

/// What one pass deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    pub conversations: u64,
    pub messages: u64,
    pub files: usize,
    pub webhook_deliveries: usize,
}

/// Deletes what has expired at `now` (milliseconds since the epoch).
pub async fn pass(store: &dyn Store, files: &AttachmentsDir, now: i64) -> Result<Pass, SweepError> {
    let mut done = Pass::default();
    loop {
        let expired = store.delete_expired(now, BATCH).await?;
        done.conversations += expired.conversations;
        done.messages += expired.messages;
        if expired.conversations < BATCH as u64 {
            break;
        }
    }
    done.files = files.remove_deleted(store).await?;
    done.webhook_deliveries = store
        .forget_old_deliveries(now - DELIVERIES_KEPT_MS)
        .await?;
    Ok(done)
}

/// Runs a pass at start and every [`EVERY`] until `stop`, telling `report` what each
/// did. Its clock is the wall clock at start plus the runtime's time since, so paused
/// time in tests moves it.
pub async fn run(
    store: Arc<dyn Store>,
    files: AttachmentsDir,
    stop: CancellationToken,
    mut report: impl FnMut(Pass) + Send,
) {
    let wall = now_ms();
    let started = tokio::time::Instant::now();
    loop {
        let elapsed = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        match pass(store.as_ref(), &files, wall.saturating_add(elapsed)).await {
            Ok(done) => report(done),
            Err(err) => tracing::error!(error = %err, "retention could not delete expired chats"),
        }
        tokio::select! {
            () = tokio::time::sleep(EVERY) => {}
            () = stop.cancelled() => return,
        }
    }
}
