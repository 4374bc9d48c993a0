//! Talking to a relay from outside: sockets with small buffers, frames as JSON, and
//! the two plain HTTP calls the load generator needs (log in, count sockets).

use std::time::Duration;

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub fn small_buffers() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0)
}

pub async fn connect(url: &str, cookie: Option<&str>) -> anyhow::Result<Socket> {
    let mut request = url.into_client_request()?;
    if let Some(cookie) = cookie {
        request.headers_mut().insert("cookie", cookie.parse()?);
    }
    let (socket, _) =
        tokio_tungstenite::connect_async_with_config(request, Some(small_buffers()), true).await?;
    Ok(socket)
}

pub async fn send_json(socket: &mut Socket, frame: Value) -> anyhow::Result<()> {
    socket.send(Message::Text(frame.to_string().into())).await?;
    Ok(())
}

pub async fn next_json(socket: &mut Socket) -> anyhow::Result<Value> {
    loop {
        match tokio::time::timeout(Duration::from_secs(30), socket.next()).await? {
            Some(Ok(Message::Text(text))) => return Ok(serde_json::from_str(&text)?),
            Some(Ok(Message::Close(_))) | None => bail!("socket closed"),
            Some(Err(err)) => return Err(err.into()),
            Some(Ok(_)) => {}
        }
    }
}

pub async fn next_of_type(socket: &mut Socket, kind: &str) -> anyhow::Result<Value> {
    loop {
        let frame = next_json(socket).await?;
        if frame["type"] == kind {
            return Ok(frame);
        }
        if frame["type"] == "error" {
            bail!("relay error: {frame}");
        }
    }
}

/// Logs in as the seeded admin over plain HTTP/1.1; returns the cookie pair.
pub async fn login(addr: &str, password: &str) -> anyhow::Result<String> {
    let body = json!({"email": porchlight_relay::server::DEMO_ADMIN_EMAIL, "password": password});
    post_for_cookie(addr, "/api/login", None, &body).await
}

/// Replaces the one-time password a first login has to replace; returns the new
/// session's cookie pair (every earlier session of the agent ended).
pub async fn choose_password(
    addr: &str,
    cookie: &str,
    current: &str,
    new: &str,
) -> anyhow::Result<String> {
    let body = json!({"current": current, "new": new});
    post_for_cookie(addr, "/api/password", Some(cookie), &body).await
}

async fn post_for_cookie(
    addr: &str,
    path: &str,
    cookie: Option<&str>,
    body: &Value,
) -> anyhow::Result<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let body = body.to_string();
    let cookie = cookie
        .map(|pair| format!("Cookie: {pair}\r\n"))
        .unwrap_or_default();
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\n{cookie}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    response
        .lines()
        .find_map(|line| line.strip_prefix("set-cookie: "))
        .and_then(|cookie| cookie.split(';').next())
        .map(str::to_owned)
        .with_context(|| format!("{path} failed: {}", response.lines().next().unwrap_or("")))
}

pub async fn health(addr: &str) -> anyhow::Result<(u64, u64)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream
        .write_all(
            format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    let body = response.split("\r\n\r\n").nth(1).unwrap_or_default();
    let health: Value = serde_json::from_str(body)?;
    Ok((
        health["visitors"].as_u64().unwrap_or(0),
        health["agents"].as_u64().unwrap_or(0),
    ))
}

/// What a plain GET returned, and how soon.
pub struct Fetched {
    pub status: u16,
    pub first_byte: Duration,
    pub total: Duration,
    /// The bytes of the whole response, head included.
    pub bytes: usize,
}

/// A GET over HTTP/1.1 with the session cookie, read to the end and counted (not kept).
pub async fn get(addr: &str, path: &str, cookie: &str) -> anyhow::Result<Fetched> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let asked = std::time::Instant::now();
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    let mut buffer = vec![0; 64 * 1024];
    let mut read = stream.read(&mut buffer).await?;
    let first_byte = asked.elapsed();
    let head = String::from_utf8_lossy(&buffer[..read.min(64)]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .with_context(|| format!("GET {path}: no status line"))?;
    let mut bytes = 0;
    while read > 0 {
        bytes += read;
        read = stream.read(&mut buffer).await?;
    }
    Ok(Fetched {
        status,
        first_byte,
        total: asked.elapsed(),
        bytes,
    })
}
