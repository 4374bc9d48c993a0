//! The loop every WebSocket runs: read frames, write queued frames, ping, time out,
//! rate-limit, and close cleanly on shutdown or when the hub drops a slow socket.

use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use porchlight_protocol::{ErrorCode, ProtocolError};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::hub::Frame;

/// A ping goes out this often, so proxies keep the socket and dead peers show.
pub const PING_EVERY: Duration = Duration::from_secs(25);
/// A socket that sends nothing (not even a pong) this long is closed.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

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

async fn close(socket: &mut WebSocket, code: u16, reason: &'static str) {
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: Utf8Bytes::from_static(reason),
        })))
        .await;
}

/// Runs the socket until either side closes it.
pub(crate) async fn drive<H: Handler>(
    mut socket: WebSocket,
    handler: &mut H,
    inbox: &mut mpsc::Receiver<Frame>,
    shutdown: &CancellationToken,
    mut limit: RateLimit,
) {
    let mut ping = tokio::time::interval_at(Instant::now() + PING_EVERY, PING_EVERY);
    let idle = tokio::time::sleep(IDLE_TIMEOUT);
    tokio::pin!(idle);
    loop {
        // Biased, queued frames first: a client pipelining requests must not starve its
        // own outbound queue (each request can queue frames for it).
        tokio::select! {
            biased;
            queued = inbox.recv() => match queued {
                Some(frame) => {
                    if socket.send(Message::Text(Utf8Bytes::from(&*frame))).await.is_err() {
                        return;
                    }
                }
                None => {
                    close(&mut socket, CLOSE_TRY_AGAIN, "too slow; resume from your last seq").await;
                    return;
                }
            },
            incoming = socket.recv() => {
                let message = match incoming {
                    Some(Ok(message)) => message,
                    Some(Err(_)) | None => return,
                };
                idle.as_mut().reset(Instant::now() + IDLE_TIMEOUT);
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
                    Message::Close(_) => return,
                    Message::Ping(_) | Message::Pong(_) => Outcome::default(),
                };
                for reply in outcome.replies {
                    if socket.send(Message::Text(reply.into())).await.is_err() {
                        return;
                    }
                }
                if outcome.close {
                    close(&mut socket, CLOSE_POLICY, "refused").await;
                    return;
                }
            }
            _ = ping.tick() => {
                if socket.send(Message::Ping(Default::default())).await.is_err() {
                    return;
                }
            }
            () = &mut idle => {
                close(&mut socket, CLOSE_GOING_AWAY, "idle").await;
                return;
            }
            () = shutdown.cancelled() => {
                close(&mut socket, CLOSE_RESTARTING, "relay restarting").await;
                return;
            }
        }
    }
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
