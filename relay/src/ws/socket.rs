//! The loop every WebSocket runs: read frames, write queued frames, ping, time out,
//! rate-limit, and close cleanly on shutdown or when the hub drops a slow socket.

use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use porchlight_protocol::{ErrorCode, ProtocolError};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::config::SocketTiming;
use crate::hub::{Dropped, Frame, Inbox};

/// Close codes (RFC 6455 and IANA's registry).
const CLOSE_GOING_AWAY: u16 = 1001;
const CLOSE_POLICY: u16 = 1008;
const CLOSE_RESTARTING: u16 = 1012;
const CLOSE_TRY_AGAIN: u16 = 1013;

/// What a handler wants done after a frame.
#[derive(Default)]
pub(crate) struct Outcome {
    /// Frames for this socket only, in order.
    pub(crate) replies: Vec<String>,
    /// Close the socket after the replies (a fatal error such as an unknown site).
    pub(crate) close: bool,
}

impl Outcome {
    pub(crate) fn reply(frame: String) -> Self {
        Self {
            replies: vec![frame],
            close: false,
        }
    }

    pub(crate) fn fatal(frame: String) -> Self {
        Self {
            replies: vec![frame],
            close: true,
        }
    }
}

/// One kind of socket's protocol (visitor or agent).
pub(crate) trait Handler {
    /// Handles one text frame.
    fn on_text(&mut self, text: &str) -> impl Future<Output = Outcome> + Send;
    /// Encodes an error frame in this direction's enum.
    fn error_frame(&self, error: ProtocolError) -> String;
}

/// A token bucket: `burst` frames at once, refilled at `per_second`.
pub(crate) struct RateLimit {
    burst: f64,
    per_second: f64,
    tokens: f64,
    last: Instant,
}

impl RateLimit {
    pub(crate) fn new(burst: f64, per_second: f64) -> Self {
        Self {
            burst,
            per_second,
            tokens: burst,
            last: Instant::now(),
        }
    }

    /// Anonymous visitors: enough for a widget resending its outbox after a reconnect.
    pub(crate) fn visitor() -> Self {
        Self::new(60.0, 20.0)
    }

    /// Logged-in agents: a console reopening every chat after a reconnect.
    pub(crate) fn agent() -> Self {
        Self::new(500.0, 200.0)
    }

    pub(crate) fn allow(&mut self, now: Instant) -> bool {
        let refill = now.duration_since(self.last).as_secs_f64() * self.per_second;
        self.tokens = (self.tokens + refill).min(self.burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Writes one message unless the peer stops reading for the send timeout, the hub
/// drops the socket, or the relay shuts down meanwhile; `false` means the socket is
/// done.
async fn send_bounded(socket: &mut WebSocket, message: Message, bounds: &Bounds<'_>) -> bool {
    tokio::select! {
        sent = tokio::time::timeout(bounds.send, socket.send(message)) => matches!(sent, Ok(Ok(()))),
        () = bounds.shutdown.cancelled() => false,
        () = bounds.dropped.wait() => false,
    }
}

/// Says goodbye, bounded like any write: a peer that does not read is not waited for
/// longer than the send timeout (and a shutdown cuts every socket after its grace).
async fn close(socket: &mut WebSocket, code: u16, reason: &'static str, bounds: &Bounds<'_>) {
    let frame = Message::Close(Some(CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    }));
    let _ = tokio::time::timeout(bounds.send, socket.send(frame)).await;
}

/// What a socket does after a frame from its peer.
enum Next {
    Go,
    Stop,
}

/// Handles one message from the peer: the handler's replies, or an error frame.
async fn on_message<H: Handler>(
    socket: &mut WebSocket,
    handler: &mut H,
    limit: &mut RateLimit,
    message: Message,
    bounds: &Bounds<'_>,
) -> Next {
    let outcome = match message {
        Message::Text(text) => {
            if limit.allow(Instant::now()) {
                handler.on_text(text.as_str()).await
            } else {
                Outcome::reply(handler.error_frame(ProtocolError::new(
                    ErrorCode::RateLimited,
                    "Too many frames; this one was dropped. Slow down.",
                )))
            }
        }
        Message::Binary(_) => Outcome::reply(handler.error_frame(ProtocolError::new(
            ErrorCode::BadFrame,
            "Only text frames are spoken here.",
        ))),
        Message::Close(_) => return Next::Stop,
        Message::Ping(_) | Message::Pong(_) => Outcome::default(),
    };
    for reply in outcome.replies {
        let message = Message::Text(reply.into());
        if !send_bounded(socket, message, bounds).await {
            return Next::Stop;
        }
    }
    if outcome.close {
        close(socket, CLOSE_POLICY, "refused", bounds).await;
        return Next::Stop;
    }
    Next::Go
}

/// What stops a write short: its time, the relay's shutdown, the hub dropping the
/// socket.
struct Bounds<'a> {
    send: Duration,
    shutdown: &'a CancellationToken,
    dropped: Dropped,
}

/// Says why the socket ends, when the relay ends it: shutting down (clients come
/// back after the restart) or dropped by the hub (they resume from their last `seq`).
async fn farewell(socket: &mut WebSocket, bounds: &Bounds<'_>) {
    if bounds.shutdown.is_cancelled() {
        close(socket, CLOSE_RESTARTING, "relay restarting", bounds).await;
    } else if bounds.dropped.is_dropped() {
        close(
            socket,
            CLOSE_TRY_AGAIN,
            "too slow; resume from your last seq",
            bounds,
        )
        .await;
    }
}

/// The socket's own clocks and limits.
struct Clocks {
    limit: RateLimit,
    ping: tokio::time::Interval,
    idle: std::pin::Pin<Box<tokio::time::Sleep>>,
    idle_timeout: Duration,
}

/// What woke the socket.
enum Wake {
    Stop,
    Queued(Frame),
    Incoming(Message),
    Ping,
    Idle,
}

/// Waits for the socket's next event.
async fn wake(
    socket: &mut WebSocket,
    inbox: &mut Inbox,
    clocks: &mut Clocks,
    bounds: &Bounds<'_>,
) -> Wake {
    // Biased, queued frames first: a client pipelining requests must not starve its
    // own outbound queue (each request can queue frames for it).
    tokio::select! {
        biased;
        () = bounds.shutdown.cancelled() => Wake::Stop,
        queued = inbox.next() => queued.map_or(Wake::Stop, Wake::Queued),
        incoming = socket.recv() => match incoming {
            Some(Ok(message)) => Wake::Incoming(message),
            _ => Wake::Stop,
        },
        _ = clocks.ping.tick() => Wake::Ping,
        () = clocks.idle.as_mut() => Wake::Idle,
    }
}

/// Does what woke the socket: writes a queued frame, handles a frame from the peer,
/// pings, or closes an idle socket.
async fn act<H: Handler>(
    wake: Wake,
    socket: &mut WebSocket,
    handler: &mut H,
    clocks: &mut Clocks,
    bounds: &Bounds<'_>,
) -> Next {
    let sent = match wake {
        Wake::Stop => return Next::Stop,
        Wake::Queued(frame) => {
            let message = Message::Text(Utf8Bytes::from(&*frame));
            send_bounded(socket, message, bounds).await
        }
        Wake::Incoming(message) => {
            let timeout = clocks.idle_timeout;
            clocks.idle.as_mut().reset(Instant::now() + timeout);
            return on_message(socket, handler, &mut clocks.limit, message, bounds).await;
        }
        Wake::Ping => send_bounded(socket, Message::Ping(Default::default()), bounds).await,
        Wake::Idle => {
            close(socket, CLOSE_GOING_AWAY, "idle", bounds).await;
            return Next::Stop;
        }
    };
    if sent { Next::Go } else { Next::Stop }
}

/// Runs the socket until either side closes it, the peer goes silent or stops
/// reading, the hub drops it, or the relay shuts down. Every write is bounded in time
/// and cut short by a drop or the shutdown, so none of these waits on a peer that does
/// not read.
pub(crate) async fn drive<H: Handler>(
    socket: &mut WebSocket,
    handler: &mut H,
    inbox: &mut Inbox,
    shutdown: &CancellationToken,
    limit: RateLimit,
    sockets: SocketTiming,
) {
    let bounds = Bounds {
        send: sockets.send_timeout,
        shutdown,
        dropped: inbox.dropped(),
    };
    let mut clocks = Clocks {
        limit,
        ping: tokio::time::interval_at(Instant::now() + sockets.ping_every, sockets.ping_every),
        idle: Box::pin(tokio::time::sleep(sockets.idle_timeout)),
        idle_timeout: sockets.idle_timeout,
    };
    loop {
        let wake = wake(socket, inbox, &mut clocks, &bounds).await;
        // Boxed: acting (handling a frame, writing one) needs far more room than
        // waiting, and every idle socket's task would otherwise hold that room.
        let next = Box::pin(act(wake, socket, handler, &mut clocks, &bounds)).await;
        if let Next::Stop = next {
            break;
        }
    }
    farewell(socket, &bounds).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_limit_allows_a_burst_then_refills() {
        let mut limit = RateLimit::new(30.0, 10.0);
        let start = limit.last;
        let allowed = (0..100).filter(|_| limit.allow(start)).count();
        assert_eq!(allowed, 30);
        assert!(!limit.allow(start));
        let later = start + Duration::from_millis(500);
        let refilled = (0..100).filter(|_| limit.allow(later)).count();
        assert_eq!(refilled, 5);
    }

    #[test]
    fn agents_get_a_larger_budget_than_visitors() {
        assert!(RateLimit::agent().burst > RateLimit::visitor().burst);
    }
}
