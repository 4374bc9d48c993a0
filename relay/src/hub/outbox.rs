//! A socket's queue of frames to write, bounded in frames and in bytes. The hub holds
//! the sending half and never waits on it; the socket's task holds the receiving
//! half. When the hub drops a socket (too slow, or an admin changed its agent), the
//! queue is discarded at once and the task told, so it closes without first writing
//! what a slow reader would never read.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::Frame;

/// The hub's half.
pub(super) struct Outbox {
    frames: mpsc::Sender<Frame>,
    queued_bytes: Arc<AtomicUsize>,
    max_bytes: usize,
    dropped: CancellationToken,
}

/// The socket task's half.
pub struct Inbox {
    frames: mpsc::Receiver<Frame>,
    queued_bytes: Arc<AtomicUsize>,
    dropped: CancellationToken,
}

/// A queue of at most `max_frames` frames and `max_bytes` bytes.
pub(super) fn outbox(max_frames: usize, max_bytes: usize) -> (Outbox, Inbox) {
    let (sender, receiver) = mpsc::channel(max_frames);
    let queued_bytes = Arc::new(AtomicUsize::new(0));
    let dropped = CancellationToken::new();
    (
        Outbox {
            frames: sender,
            queued_bytes: Arc::clone(&queued_bytes),
            max_bytes,
            dropped: dropped.clone(),
        },
        Inbox {
            frames: receiver,
            queued_bytes,
            dropped,
        },
    )
}

impl Outbox {
    /// Queues `frame`; `false` when the queue is full (in frames or bytes).
    pub(super) fn offer(&self, frame: &Frame) -> bool {
        let size = frame.len();
        if self.queued_bytes.load(Ordering::Relaxed) + size > self.max_bytes {
            return false;
        }
        self.queued_bytes.fetch_add(size, Ordering::Relaxed);
        if self.frames.try_send(Arc::clone(frame)).is_ok() {
            true
        } else {
            self.queued_bytes.fetch_sub(size, Ordering::Relaxed);
            false
        }
    }

    /// The socket is out of the hub: its task discards the queue and closes.
    pub(super) fn drop_socket(&self) {
        self.dropped.cancel();
    }
}

impl Inbox {
    /// The next frame if one is queued now (tests read the queue without a runtime).
    #[cfg(test)]
    pub(crate) fn try_next(&mut self) -> Option<Frame> {
        if self.dropped.is_cancelled() {
            return None;
        }
        let frame = self.frames.try_recv().ok()?;
        self.queued_bytes.fetch_sub(frame.len(), Ordering::Relaxed);
        Some(frame)
    }

    /// Whether the hub has dropped the socket.
    #[cfg(test)]
    pub(crate) fn is_dropped(&self) -> bool {
        self.dropped.is_cancelled()
    }

    /// Cancelled when the hub drops the socket, so a write under way need not
    /// finish.
    pub fn dropped(&self) -> CancellationToken {
        self.dropped.clone()
    }

    /// The next frame to write, or `None` once the hub has dropped the socket (even
    /// with frames still queued: they are discarded).
    pub async fn next(&mut self) -> Option<Frame> {
        tokio::select! {
            biased;
            () = self.dropped.cancelled() => None,
            frame = self.frames.recv() => {
                let frame = frame?;
                self.queued_bytes.fetch_sub(frame.len(), Ordering::Relaxed);
                Some(frame)
            }
        }
    }
}
