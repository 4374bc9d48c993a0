//! A WebSocket client with nothing done for it: no automatic pongs, no reading unless
//! asked, and a receive buffer as small as the test wants. For testing what the relay
//! does to peers that are silent, slow or hostile.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use super::PATIENCE;

pub(crate) struct RawSocket {
    stream: TcpStream,
    buffer: Vec<u8>,
}

/// A frame from the relay: its opcode (1 text, 8 close, 9 ping) and payload.
#[derive(Debug)]
pub(crate) struct RawFrame {
    pub(crate) opcode: u8,
    pub(crate) payload: Vec<u8>,
}

impl RawFrame {
    /// A close frame's status code.
    pub(crate) fn close_code(&self) -> Option<u16> {
        (self.opcode == 8 && self.payload.len() >= 2)
            .then(|| u16::from_be_bytes([self.payload[0], self.payload[1]]))
    }
}

impl RawSocket {
    /// Opens `path` on the relay; `receive_buffer` shrinks the kernel's buffer for it.
    pub(crate) async fn connect(addr: SocketAddr, path: &str, receive_buffer: Option<u32>) -> Self {
        let socket = TcpSocket::new_v4().unwrap();
        if let Some(size) = receive_buffer {
            socket.set_recv_buffer_size(size).unwrap();
        }
        let mut stream = socket.connect(addr).await.unwrap();
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut raw = Self {
            stream,
            buffer: Vec::new(),
        };
        let head = loop {
            if let Some(end) = raw.buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break raw.buffer.drain(..end + 4).collect::<Vec<u8>>();
            }
            assert!(raw.fill().await, "the relay closed before upgrading");
        };
        assert!(
            head.starts_with(b"HTTP/1.1 101"),
            "{}",
            String::from_utf8_lossy(&head)
        );
        raw
    }

    async fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 16 * 1024];
        let read = tokio::time::timeout(PATIENCE, self.stream.read(&mut chunk))
            .await
            .expect("the relay answered in time");
        match read {
            Ok(0) | Err(_) => false,
            Ok(read) => {
                self.buffer.extend_from_slice(&chunk[..read]);
                true
            }
        }
    }

    /// Sends a text frame (masked, as clients must).
    pub(crate) async fn send_text(&mut self, text: &str) {
        self.stream
            .write_all(&frame(1, text.as_bytes()))
            .await
            .unwrap();
    }

    /// Sends many text frames at once, without reading anything.
    pub(crate) async fn send_many(&mut self, text: &str, count: usize) {
        let one = frame(1, text.as_bytes());
        let all: Vec<u8> = one
            .iter()
            .copied()
            .cycle()
            .take(one.len() * count)
            .collect();
        self.stream.write_all(&all).await.unwrap();
    }

    /// The next frame, or `None` once the relay has closed the connection.
    pub(crate) async fn next(&mut self) -> Option<RawFrame> {
        loop {
            if let Some((frame, used)) = parse(&self.buffer) {
                self.buffer.drain(..used);
                return Some(frame);
            }
            if !self.fill().await {
                return None;
            }
        }
    }
}

/// A client frame: FIN, the opcode, the mask bit and a zero mask (allowed, and
/// keeps the payload readable).
fn frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0x80 | opcode];
    match payload.len() {
        len if len < 126 => out.push(0x80 | len as u8),
        len if len <= u16::MAX as usize => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        len => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(payload);
    out
}

/// A server frame (never masked) at the start of `buffer`, and the bytes it used.
fn parse(buffer: &[u8]) -> Option<(RawFrame, usize)> {
    let opcode = buffer.first()? & 0x0f;
    let (len, start) = match buffer.get(1)? & 0x7f {
        126 => (
            usize::from(u16::from_be_bytes([*buffer.get(2)?, *buffer.get(3)?])),
            4,
        ),
        127 => {
            let bytes: [u8; 8] = buffer.get(2..10)?.try_into().ok()?;
            (usize::try_from(u64::from_be_bytes(bytes)).ok()?, 10)
        }
        len => (usize::from(len), 2),
    };
    let payload = buffer.get(start..start + len)?.to_vec();
    Some((RawFrame { opcode, payload }, start + len))
}
