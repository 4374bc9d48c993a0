//! A socket's queue of frames to write, bounded in frames and in bytes. The hub holds
//! the sending half and never waits on it; the socket's task holds the receiving
//! half. When the hub drops a socket (too slow, or an admin changed its agent), the
//! queue is discarded at once and the task told, so it closes without first writing
//! what a slow reader would never read.
//!
//! One small allocation per socket: a deque that stays empty (unallocated) until a
//! frame comes, and one wake-up. Thousands of idle visitors each hold one, so a
//! general channel (a fixed block of slots, its wakers padded to cache lines, and a
//! cancellation token beside it: about 1.5 KiB) cost more than everything else the
//! queue needs (docs/measuring.md).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Notify;

use super::Frame;

struct Queue {
    state: Mutex<State>,
    /// Woken when a frame is queued, the socket is dropped or the hub's half is gone.
    /// Only the socket's task waits, and never in two places at once.
    changed: Notify,
    max_frames: usize,
    max_bytes: usize,
}

#[derive(Default)]
struct State {
    frames: VecDeque<Frame>,
    bytes: usize,
    /// The hub dropped the socket: what is queued is discarded.
    dropped: bool,
    /// The hub's half is gone (the socket left the hub): nothing more will come.
    closed: bool,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Marks the queue with `mark` and wakes the socket's task.
    fn end(&self, mark: impl FnOnce(&mut State)) {
        let mut state = self.lock();
        mark(&mut state);
        drop(state);
        self.changed.notify_one();
    }
}

/// The hub's half.
pub(super) struct Outbox {
    queue: Arc<Queue>,
}

/// The socket task's half.
pub struct Inbox {
    queue: Arc<Queue>,
}

/// Tells a write under way that the hub has dropped the socket.
pub struct Dropped {
    queue: Arc<Queue>,
}

/// A queue of at most `max_frames` frames and `max_bytes` bytes.
pub(super) fn outbox(max_frames: usize, max_bytes: usize) -> (Outbox, Inbox) {
    let queue = Arc::new(Queue {
        state: Mutex::new(State::default()),
        changed: Notify::new(),
        max_frames,
        max_bytes,
    });
    (
        Outbox {
            queue: Arc::clone(&queue),
        },
        Inbox { queue },
    )
}

impl Outbox {
    /// Queues `frame`; `false` when the queue is full (in frames or bytes).
    pub(super) fn offer(&self, frame: &Frame) -> bool {
        let mut state = self.queue.lock();
        if state.dropped
            || state.frames.len() >= self.queue.max_frames
            || state.bytes + frame.len() > self.queue.max_bytes
        {
            return false;
        }
        state.bytes += frame.len();
        state.frames.push_back(Arc::clone(frame));
        drop(state);
        self.queue.changed.notify_one();
        true
    }

    /// The socket is out of the hub: its task discards the queue and closes.
    pub(super) fn drop_socket(&self) {
        self.queue.end(|state| {
            state.dropped = true;
            state.frames = VecDeque::new();
            state.bytes = 0;
        });
    }
}

impl Drop for Outbox {
    fn drop(&mut self) {
        self.queue.end(|state| state.closed = true);
    }
}

/// What the socket's task finds in its queue.
enum Found {
    Frame(Frame),
    Nothing,
    End,
}

impl Inbox {
    fn take(&self) -> Found {
        let mut state = self.queue.lock();
        if state.dropped {
            return Found::End;
        }
        match state.frames.pop_front() {
            Some(frame) => {
                state.bytes -= frame.len();
                Found::Frame(frame)
            }
            None if state.closed => Found::End,
            None => Found::Nothing,
        }
    }

    /// The next frame if one is queued now (tests read the queue without a runtime).
    #[cfg(test)]
    pub(crate) fn try_next(&mut self) -> Option<Frame> {
        match self.take() {
            Found::Frame(frame) => Some(frame),
            Found::Nothing | Found::End => None,
        }
    }

    /// Whether the hub has dropped the socket.
    #[cfg(test)]
    pub(crate) fn is_dropped(&self) -> bool {
        self.queue.lock().dropped
    }

    /// Tells a write under way that the hub has dropped the socket, so it need not
    /// finish.
    pub fn dropped(&self) -> Dropped {
        Dropped {
            queue: Arc::clone(&self.queue),
        }
    }

    /// The next frame to write, or `None` once the hub has dropped the socket (even
    /// with frames still queued: they are discarded) or let it go.
    pub async fn next(&mut self) -> Option<Frame> {
        loop {
            // Registered before looking, so a frame queued in between still wakes it.
            let changed = self.queue.changed.notified();
            match self.take() {
                Found::Frame(frame) => return Some(frame),
                Found::End => return None,
                Found::Nothing => changed.await,
            }
        }
    }
}

impl Dropped {
    pub fn is_dropped(&self) -> bool {
        self.queue.lock().dropped
    }

    /// Finishes once the hub drops the socket.
    pub async fn wait(&self) {
        loop {
            let changed = self.queue.changed.notified();
            if self.is_dropped() {
                return;
            }
            changed.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(text: &str) -> Frame {
        Arc::from(text)
    }

    #[tokio::test]
    async fn frames_come_in_order_then_the_end_once_the_hub_lets_go() {
        let (outbox, mut inbox) = outbox(8, 1024);
        assert!(outbox.offer(&frame("a")));
        assert!(outbox.offer(&frame("b")));
        drop(outbox);
        assert_eq!(inbox.next().await.as_deref(), Some("a"));
        assert_eq!(inbox.next().await.as_deref(), Some("b"));
        assert_eq!(inbox.next().await, None);
    }

    #[tokio::test]
    async fn a_waiting_socket_wakes_for_a_frame_queued_later() {
        let (outbox, mut inbox) = outbox(8, 1024);
        let offered = tokio::spawn(async move {
            tokio::task::yield_now().await;
            assert!(outbox.offer(&frame("later")));
            outbox
        });
        assert_eq!(inbox.next().await.as_deref(), Some("later"));
        drop(offered.await.unwrap());
    }

    #[tokio::test]
    async fn a_drop_discards_the_queue_and_ends_a_write_under_way() {
        let (outbox, mut inbox) = outbox(8, 1024);
        let dropped = inbox.dropped();
        assert!(outbox.offer(&frame("never written")));
        let waiting = tokio::spawn(async move { dropped.wait().await });
        tokio::task::yield_now().await;
        assert!(
            !waiting.is_finished(),
            "waits while the socket is in the hub"
        );
        outbox.drop_socket();
        waiting.await.unwrap();
        assert!(inbox.is_dropped());
        assert_eq!(inbox.next().await, None);
        assert!(
            !outbox.offer(&frame("too late")),
            "a dropped socket takes nothing"
        );
    }

    #[test]
    fn the_queue_refuses_past_its_frames_or_its_bytes() {
        let (outbox, mut inbox) = outbox(2, 10);
        assert!(outbox.offer(&frame("12345")));
        assert!(!outbox.offer(&frame("123456")), "11 bytes");
        assert!(outbox.offer(&frame("1234")));
        assert!(!outbox.offer(&frame("1")), "3 frames");
        inbox.try_next();
        assert!(outbox.offer(&frame("1")), "room again");
    }
}
