//! A relay on 127.0.0.1:0 in this process, and WebSocket clients for it.

#![allow(dead_code)]

pub(crate) mod cluster;
pub(crate) mod nats;
pub(crate) mod postgres;
pub(crate) mod process;
pub(crate) mod raw;
pub(crate) mod receiver;
pub(crate) mod smtp;

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use porchlight_protocol::ConversationStatus;
use porchlight_relay::auth::{random_token, token_hash};
use porchlight_relay::config::Config;
use porchlight_relay::server::{Relay, SeededAdmin};
use porchlight_relay::state::AppState;
use porchlight_relay::store::{Conversation, NewConversation, Role, Store, now_ms};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Message, http::HeaderValue};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Bounds every wait, so a broken relay fails the test instead of hanging it.
pub(crate) const PATIENCE: Duration = Duration::from_secs(10);

pub(crate) struct TestRelay {
    pub(crate) addr: SocketAddr,
    /// `/metrics` on its own address, when the config gave it one.
    pub(crate) metrics_addr: Option<SocketAddr>,
    pub(crate) state: AppState,
    admin: Option<SeededAdmin>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    dir: tempfile::TempDir,
}

pub(crate) async fn start() -> TestRelay {
    start_in(tempfile::tempdir().unwrap()).await
}

/// Starts a relay on the data already in `dir` (or seeds it if empty).
pub(crate) async fn start_in(dir: tempfile::TempDir) -> TestRelay {
    start_configured(dir, |_| {}).await
}

/// Makes the first admin's one-time password their own, as if they had chosen it at
/// first login: most tests are about what comes after (`sessions_end.rs` tests the
/// first login itself).
pub(crate) async fn keep_first_password(state: &porchlight_relay::state::AppState) {
    let admin = state
        .store
        .agent_by_email(porchlight_relay::server::DEMO_ADMIN_EMAIL)
        .await
        .unwrap()
        .unwrap();
    state
        .store
        .set_password(admin.id, admin.password_hash, None)
        .await
        .unwrap();
}

/// Starts a relay whose webhooks and crawler may call 127.0.0.1, where tests run
/// their stand-in servers (a config's `outbound_allow` would say so).
pub(crate) async fn start_allowing_loopback() -> TestRelay {
    start_configured(tempfile::tempdir().unwrap(), |config| {
        config.outbound_allow = vec!["127.0.0.1".parse().unwrap()];
    })
    .await
}

/// Starts a relay as it ships: the first admin's password is one-time.
pub(crate) async fn start_as_shipped() -> TestRelay {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        data_dir: dir.path().join("data"),
        assets_dir: dir.path().join("dist"),
        ..Config::default()
    };
    serve_relay(dir, config).await
}

/// Starts a relay with settings changed by `edit` (an AI provider, say).
pub(crate) async fn start_configured(
    dir: tempfile::TempDir,
    edit: impl FnOnce(&mut Config),
) -> TestRelay {
    let mut config = Config {
        data_dir: dir.path().join("data"),
        assets_dir: dir.path().join("dist"),
        ..Config::default()
    };
    config.postgres = postgres_for(dir.path()).await;
    edit(&mut config);
    let relay = serve_relay(dir, config).await;
    if relay.admin.is_some() {
        keep_first_password(&relay.state).await;
    }
    relay
}

/// Rules that ask "are you still there?" and end an unanswered chat after these minutes.
pub(crate) fn abandon_rules(
    ask_after_minutes: u32,
    end_after_minutes: u32,
) -> porchlight_relay::store::AbandonRules {
    porchlight_relay::store::AbandonRules {
        enabled: true,
        ask_after_minutes,
        end_after_minutes,
        close_ticket: false,
        ticket_categories: Default::default(),
    }
}

/// Moves the clocks of every waiting chat of the relay in `dir` back by `minutes`, in
/// whichever store it keeps (the relay may be stopped).
pub(crate) async fn age_waiting_in(dir: &std::path::Path, minutes: i64) {
    const SET: &str = "UPDATE conversations SET queued_at = queued_at - {by}, \
        still_there_at = still_there_at - {by}, still_there_asked_at = still_there_asked_at - {by}";
    let sql = SET.replace("{by}", &(minutes * 60_000).to_string());
    match std::fs::read_to_string(dir.join("postgres-url")) {
        Ok(url) => {
            postgres::connected(&url)
                .await
                .execute(&sql, &[])
                .await
                .unwrap();
        }
        Err(_) => {
            rusqlite::Connection::open(dir.join("data/porchlight.sqlite3"))
                .unwrap()
                .execute(&sql, [])
                .unwrap();
        }
    }
}

/// Whether the suite runs on PostgreSQL (`PORCHLIGHT_TEST_STORE=postgres`), where a test
/// that works on SQLite's own file says why and passes over.
pub(crate) fn sqlite_only(why: &str) -> bool {
    let on_postgres = std::env::var("PORCHLIGHT_TEST_STORE").as_deref() == Ok("postgres");
    if on_postgres {
        eprintln!("not on PostgreSQL: this test {why}");
    }
    on_postgres
}

/// With `PORCHLIGHT_TEST_STORE=postgres`, the relays of the suite keep their store in
/// PostgreSQL, on the server `PORCHLIGHT_TEST_POSTGRES` names (a server of the test
/// binary's own would outlive it): each test's folder gets a schema of its own, kept
/// for a relay started again on the same folder.
async fn postgres_for(dir: &std::path::Path) -> Option<String> {
    if std::env::var("PORCHLIGHT_TEST_STORE").as_deref() != Ok("postgres") {
        return None;
    }
    let named = dir.join("postgres-url");
    if let Ok(url) = std::fs::read_to_string(&named) {
        return Some(url);
    }
    assert!(
        std::env::var_os("PORCHLIGHT_TEST_POSTGRES").is_some(),
        "PORCHLIGHT_TEST_STORE=postgres needs PORCHLIGHT_TEST_POSTGRES (a server's URL)"
    );
    let url = postgres::TestPostgres::start().schema().await;
    std::fs::write(&named, &url).unwrap();
    Some(url)
}

/// Opens the relay in `dir` with `config` and serves it on a free port.
async fn serve_relay(dir: tempfile::TempDir, config: Config) -> TestRelay {
    let (relay, admin) = Relay::open(config).await.unwrap();
    let state = relay.state().clone();
    let metrics_addr = relay.metrics_addr();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        relay
            .run(listener, async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
    });
    TestRelay {
        addr,
        metrics_addr,
        state,
        admin,
        stop: Some(stop),
        task: Some(task),
        dir,
    }
}

impl TestRelay {
    /// Moves every waiting chat's clocks back by `minutes` (as if that much time had
    /// passed) and has the timers look again.
    pub(crate) async fn age_waiting(&self, minutes: i64) {
        age_waiting_in(self.dir.path(), minutes).await;
        porchlight_relay::chat::timers::look_again(&self.state);
    }

    /// The admin seeded on first start (not known after a restart).
    pub(crate) fn admin(&self) -> &SeededAdmin {
        self.admin
            .as_ref()
            .expect("the relay was started on a fresh folder")
    }

    /// The seeded admin's agent id.
    pub(crate) async fn admin_id(&self) -> i64 {
        let admin = self.state.store.agent_by_email(&self.admin().email).await;
        admin.unwrap().expect("the seeded admin exists").id
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("ws://{}{path}", self.addr)
    }

    pub(crate) async fn visitor(&self) -> Ws {
        Ws::connect(&self.url("/ws/visitor"), &[]).await
    }

    /// A session cookie for a new agent (or the admin when `email` is the admin's).
    pub(crate) async fn agent_cookie(&self, email: &str, name: &str) -> String {
        let store = &self.state.store;
        let agent = match store.agent_by_email(email).await.unwrap() {
            Some(agent) => agent,
            None => store
                .create_agent(email, name, Role::Agent, "unused".into())
                .await
                .unwrap(),
        };
        let token = random_token();
        store
            .create_session(agent.id, token_hash(&token), now_ms() + 3_600_000)
            .await
            .unwrap();
        format!("porchlight_session={token}")
    }

    /// An agent socket that has said hello; returns it and the welcome.
    pub(crate) async fn agent(&self, email: &str, name: &str) -> (Ws, Value) {
        let cookie = self.agent_cookie(email, name).await;
        let mut ws = Ws::connect(&self.url("/ws/agent"), &[("cookie", &cookie)]).await;
        ws.send(json!({"type": "hello", "v": 1})).await;
        let welcome = ws.next_of_type("welcome").await;
        (ws, welcome)
    }

    /// Stops the relay gracefully; returns its folder, which still holds the data.
    pub(crate) async fn stop(mut self) -> tempfile::TempDir {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(PATIENCE, task).await.unwrap().unwrap();
        }
        self.dir
    }
}

pub(crate) struct Ws {
    pub(crate) stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Ws {
    pub(crate) async fn connect(url: &str, headers: &[(&str, &str)]) -> Self {
        let mut request = url.into_client_request().unwrap();
        for (name, value) in headers {
            request.headers_mut().insert(
                tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(name.as_bytes())
                    .unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        let (stream, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        Self { stream }
    }

    pub(crate) async fn send(&mut self, value: Value) {
        self.send_text(&value.to_string()).await;
    }

    pub(crate) async fn send_text(&mut self, text: &str) {
        self.stream
            .send(Message::Text(text.to_owned().into()))
            .await
            .unwrap();
    }

    /// The next message of any kind (pings and closes too); `None` at the end.
    pub(crate) async fn stream_next(&mut self) -> Option<Message> {
        tokio::time::timeout(PATIENCE, self.stream.next())
            .await
            .expect("the relay answered in time")?
            .ok()
    }

    /// The next text frame as JSON; `None` once the relay closed the socket.
    pub(crate) async fn next(&mut self) -> Option<Value> {
        loop {
            let message = tokio::time::timeout(PATIENCE, self.stream.next())
                .await
                .expect("the relay answered in time")?;
            match message {
                Ok(Message::Text(text)) => return Some(serde_json::from_str(&text).unwrap()),
                Ok(Message::Close(_)) | Err(_) => return None,
                Ok(_) => {}
            }
        }
    }

    pub(crate) async fn next_json(&mut self) -> Value {
        self.next().await.expect("a frame, not a closed socket")
    }

    /// Skips frames until one of `kind` arrives.
    pub(crate) async fn next_of_type(&mut self, kind: &str) -> Value {
        loop {
            let frame = self.next_json().await;
            if frame["type"] == kind {
                return frame;
            }
            assert_ne!(frame["type"], "error", "waiting for {kind}, got {frame}");
        }
    }

    /// Skips frames until a `status` frame that says `status`: an earlier change (the
    /// chat queueing, say) also sends a `status` frame, so waiting for the type alone
    /// can return before the change the caller means.
    pub(crate) async fn next_status(&mut self, status: &str) -> Value {
        loop {
            let frame = self.next_of_type("status").await;
            if frame["status"] == status {
                return frame;
            }
        }
    }

    /// Skips frames until a `message` whose body is `body`.
    pub(crate) async fn next_message(&mut self, body: &str) -> Value {
        loop {
            let frame = self.next_of_type("message").await;
            if frame["body"] == body {
                return frame;
            }
        }
    }

    /// Sends `frame` and returns the first answer that is an error or `kind`.
    pub(crate) async fn answer(&mut self, frame: Value, kind: &str) -> Value {
        self.send(frame).await;
        loop {
            let reply = self.next_json().await;
            if reply["type"] == "error" || reply["type"] == kind {
                return reply;
            }
        }
    }

    /// Says hello as a visitor of the demo site.
    pub(crate) async fn hello(&mut self, token: Option<&str>, resume: Option<(i64, u64)>) -> Value {
        let mut hello = json!({"type": "hello", "v": 1, "site": "demo"});
        if let Some(token) = token {
            hello["token"] = json!(token);
        }
        if let Some((conversation_id, last_seq)) = resume {
            hello["resume"] = json!({"conversation_id": conversation_id, "last_seq": last_seq});
        }
        self.send(hello).await;
        self.next_of_type("welcome").await
    }

    /// Sends a visitor message and returns its ack.
    pub(crate) async fn say(&mut self, id: &str, body: &str) -> Value {
        self.send(json!({"type": "send", "client_msg_id": id, "body": body}))
            .await;
        self.next_of_type("ack").await
    }
}

/// A plain HTTP/1.1 exchange: returns the status, the headers (lower-case names) and
/// the body.
pub(crate) async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, Vec<(String, String)>, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(PATIENCE, stream.read_to_end(&mut raw))
        .await
        .unwrap()
        .unwrap();
    let end = raw
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .unwrap_or(raw.len());
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|code| code.parse().ok())
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let body = raw.get(end + 4..).unwrap_or_default();
    let body = if header(&headers, "transfer-encoding") == Some("chunked") {
        unchunked(body)
    } else {
        body.to_vec()
    };
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

/// A chunked body's bytes (a streamed answer): each chunk is its size in hex, CRLF,
/// the bytes, CRLF; a chunk of size 0 ends it.
fn unchunked(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = body.windows(2).position(|pair| pair == b"\r\n").unwrap();
        let size_text = String::from_utf8_lossy(&body[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        let start = line_end + 2;
        out.extend_from_slice(&body[start..start + size]);
        body = &body[start + size + 2..];
    }
}

/// A JSON call with a session cookie: the status and the parsed answer (`Null` when
/// empty). A `Null` body sends none.
pub(crate) async fn json_call(
    addr: SocketAddr,
    method: &str,
    path: &str,
    cookie: &str,
    body: Value,
) -> (u16, Value) {
    let body = if body.is_null() {
        String::new()
    } else {
        body.to_string()
    };
    let (status, _, answer) = http(
        addr,
        method,
        path,
        &[("Cookie", cookie), ("Content-Type", "application/json")],
        &body,
    )
    .await;
    (status, serde_json::from_str(&answer).unwrap_or(Value::Null))
}

pub(crate) fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// The example help-desk profile (`examples/helpdesk.toml`), as written.
pub(crate) fn helpdesk() -> porchlight_relay::flow::Profile {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/helpdesk.toml"),
    )
    .unwrap();
    porchlight_relay::flow::Profile::parse(&text, porchlight_relay::flow::Format::Toml).unwrap()
}

impl TestRelay {
    /// Stores a profile definition (JSON) for the demo site; with `use_it`, new chats
    /// run it. Returns its id.
    pub(crate) async fn save_profile(&self, name: &str, definition: String, use_it: bool) -> i64 {
        let store = &self.state.store;
        let site = store.site_by_key("demo").await.unwrap().unwrap();
        store
            .save_profile(site.id, name, definition, use_it)
            .await
            .unwrap()
            .id
    }

    /// Stores `profile` for the demo site (see [`TestRelay::save_profile`]).
    pub(crate) async fn use_profile(
        &self,
        profile: &porchlight_relay::flow::Profile,
        use_it: bool,
    ) -> i64 {
        let json = profile.render(porchlight_relay::flow::Format::Json);
        self.save_profile(&profile.name, json, use_it).await
    }
}

/// The boundary [`post_multipart`] bodies are written with.
pub(crate) const BOUNDARY: &str = "porchlight-test-boundary";

/// One multipart field (`file_name` makes it a file), written with [`BOUNDARY`].
pub(crate) fn multipart_field(name: &str, file_name: Option<&str>, bytes: &[u8]) -> Vec<u8> {
    let disposition = match file_name {
        Some(file) => format!("form-data; name=\"{name}\"; filename=\"{file}\""),
        None => format!("form-data; name=\"{name}\""),
    };
    let mut part =
        format!("--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n").into_bytes();
    part.extend_from_slice(bytes);
    part.extend_from_slice(b"\r\n");
    part
}

/// Fields and the closing boundary.
pub(crate) fn multipart_body(fields: &[Vec<u8>]) -> Vec<u8> {
    let mut body = fields.concat();
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// Posts one file as multipart; returns the status and the JSON answer.
pub(crate) async fn upload(
    addr: SocketAddr,
    conversation: i64,
    auth: (&str, &str),
    name: &str,
    bytes: &[u8],
) -> (u16, Value) {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"client_msg_id\"\r\n\r\nup-{name}\r\n\
         --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    post_multipart(addr, conversation, auth, &body).await
}

/// Posts a multipart body (written with [`BOUNDARY`]) to a chat's attachments, with
/// one auth header; returns the status and the JSON answer. The body is sent even
/// if the relay answers early: what matters is its answer.
pub(crate) async fn post_multipart(
    addr: SocketAddr,
    conversation: i64,
    auth: (&str, &str),
    body: &[u8],
) -> (u16, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let head = format!(
        "POST /api/v1/conversations/{conversation}/attachments HTTP/1.1\r\nHost: {addr}\r\n\
         Connection: close\r\n{}: {}\r\n\
         Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {}\r\n\r\n",
        auth.0,
        auth.1,
        body.len()
    );
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let _ = stream.write_all(body).await;
    let mut raw = Vec::new();
    let _ = tokio::time::timeout(PATIENCE, stream.read_to_end(&mut raw))
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&raw);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap();
    let json = text
        .split_once("\r\n\r\n")
        .and_then(|(_, body)| serde_json::from_str(body).ok())
        .unwrap_or(Value::Null);
    (status, json)
}

/// Files in the attachments folder, stored or still arriving.
pub(crate) fn stored_files(relay: &TestRelay) -> usize {
    let root = relay.state.config.data_dir.join("attachments");
    [root.clone(), root.join("incoming")]
        .iter()
        .filter_map(|folder| std::fs::read_dir(folder).ok())
        .flatten()
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_file()))
        .count()
}

/// A new visitor of `site` (under `token_hash`) with a waiting chat, made through the store.
pub(crate) async fn queued_chat(store: &dyn Store, site: i64, token_hash: &str) -> Conversation {
    let visitor = store.create_visitor(site, token_hash.into()).await.unwrap();
    let new = NewConversation::of_visitor(site, visitor.id);
    let (chat, _) = store
        .open_or_start_conversation(new, ConversationStatus::Queued)
        .await
        .unwrap();
    chat
}

/// An agent of `teams` with a console that said hello; returns it and the welcome.
pub(crate) async fn agent_in(
    relay: &TestRelay,
    email: &str,
    name: &str,
    teams: &[&str],
) -> (Ws, Value) {
    let cookie = relay.agent_cookie(email, name).await;
    let agent = relay
        .state
        .store
        .agent_by_email(email)
        .await
        .unwrap()
        .unwrap();
    relay
        .state
        .store
        .set_agent_teams(
            agent.id,
            teams.iter().map(|team| (*team).to_owned()).collect(),
        )
        .await
        .unwrap();
    let mut ws = Ws::connect(&relay.url("/ws/agent"), &[("cookie", &cookie)]).await;
    ws.send(json!({"type": "hello", "v": 1})).await;
    let welcome = ws.next_of_type("welcome").await;
    (ws, welcome)
}

/// A visitor whose message queued a chat; keep the socket to keep the visitor online.
pub(crate) async fn waiting_chat(relay: &TestRelay, text: &str) -> (i64, Ws) {
    let mut visitor = relay.visitor().await;
    visitor.hello(None, None).await;
    let conversation = visitor.say("v-1", text).await["conversation_id"]
        .as_i64()
        .unwrap();
    (conversation, visitor)
}
