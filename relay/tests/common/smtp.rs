//! A tiny SMTP server for the tests: it takes emails, refuses them (a temporary
//! error), or never answers, and hands over each email it takes. Never a real server.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use super::PATIENCE;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Accept,
    /// `451` to every sender: try again later.
    Refuse,
    /// Takes the connection and says nothing.
    Silent,
}

/// An email the sink took.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    pub(crate) to: Vec<String>,
    /// Headers and body as sent.
    pub(crate) data: String,
}

pub(crate) struct SmtpSink {
    pub(crate) port: u16,
    mode: Arc<Mutex<Mode>>,
    received: mpsc::UnboundedReceiver<Received>,
}

impl SmtpSink {
    pub(crate) async fn start(mode: Mode) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mode = Arc::new(Mutex::new(mode));
        let (sender, received) = mpsc::unbounded_channel();
        let shared = Arc::clone(&mode);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let mode = *shared.lock().unwrap();
                tokio::spawn(session(stream, mode, sender.clone()));
            }
        });
        Self {
            port,
            mode,
            received,
        }
    }

    pub(crate) fn set_mode(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    /// The next email taken.
    pub(crate) async fn next(&mut self) -> Received {
        tokio::time::timeout(PATIENCE, self.received.recv())
            .await
            .expect("an email arrived in time")
            .expect("the sink runs")
    }

    /// True when no email has arrived (yet).
    pub(crate) fn is_empty(&mut self) -> bool {
        self.received.try_recv().is_err()
    }
}

async fn session(stream: TcpStream, mode: Mode, taken: mpsc::UnboundedSender<Received>) {
    let (reader, mut writer) = stream.into_split();
    let mut lines = BufReader::new(reader).lines();
    if mode == Mode::Silent {
        while let Ok(Some(_)) = lines.next_line().await {}
        return;
    }
    let _ = writer.write_all(b"220 sink ESMTP\r\n").await;
    let mut to = Vec::new();
    while let Ok(Some(line)) = lines.next_line().await {
        let upper = line.to_ascii_uppercase();
        let answer: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            b"250-sink\r\n250 8BITMIME\r\n"
        } else if upper.starts_with("MAIL FROM") {
            if mode == Mode::Refuse {
                b"451 4.3.0 Try again later\r\n"
            } else {
                to.clear();
                b"250 OK\r\n"
            }
        } else if upper.starts_with("RCPT TO") {
            to.push(
                line[8..]
                    .trim()
                    .trim_matches(|c| c == '<' || c == '>')
                    .to_owned(),
            );
            b"250 OK\r\n"
        } else if upper == "DATA" {
            let _ = writer.write_all(b"354 Go on\r\n").await;
            let mut data = String::new();
            while let Ok(Some(line)) = lines.next_line().await {
                if line == "." {
                    break;
                }
                data.push_str(line.strip_prefix('.').unwrap_or(&line));
                data.push('\n');
            }
            let _ = taken.send(Received {
                to: std::mem::take(&mut to),
                data,
            });
            b"250 OK queued\r\n"
        } else if upper == "QUIT" {
            let _ = writer.write_all(b"221 Bye\r\n").await;
            return;
        } else {
            b"250 OK\r\n"
        };
        if writer.write_all(answer).await.is_err() {
            return;
        }
    }
}
