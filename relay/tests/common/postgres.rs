//! A PostgreSQL server for a test: the one `PORCHLIGHT_TEST_POSTGRES` names (a
//! `postgres://` URL; never stopped), or a new one in a temporary folder on a free
//! port, stopped when dropped. Each test takes a schema of its own.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use porchlight_protocol::ConversationStatus;
use porchlight_relay::store::visitors::VisitorStore;
use porchlight_relay::store::{
    AttachmentPolicy, ConversationStore, FlowTurn, NewConversation, PgStore, Seed,
};
use tempfile::TempDir;

pub(crate) struct TestPostgres {
    /// Where the server listens, without a database's options.
    url: String,
    /// The server this test started, if it did.
    own: Option<OwnServer>,
}

struct OwnServer {
    bin: PathBuf,
    data: TempDir,
}

impl Drop for OwnServer {
    fn drop(&mut self) {
        let data = self.data.path().join("cluster");
        let _ = as_postgres(&self.bin.join("pg_ctl"))
            .args(["stop", "-m", "immediate", "-w", "-D"])
            .arg(&data)
            .output();
    }
}

/// The folder holding PostgreSQL's programs: the newest under /usr/lib/postgresql
/// (Debian's layout), or wherever `initdb` is on the PATH.
fn bin_dir() -> PathBuf {
    let mut installed: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("bin"))
        .filter(|bin| bin.join("initdb").exists())
        .collect();
    installed.sort_by_key(|bin| {
        bin.parent()
            .and_then(|version| version.file_name())
            .and_then(|version| version.to_str()?.parse::<u32>().ok())
    });
    if let Some(newest) = installed.pop() {
        return newest;
    }
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path).find(|folder| folder.join("initdb").exists())
    });
    match on_path {
        Some(folder) => folder,
        None => panic!(
            "PostgreSQL is not installed: `make test-tools` installs it, or set \
             PORCHLIGHT_TEST_POSTGRES to a server's URL"
        ),
    }
}

/// Whether this process runs as root, where PostgreSQL refuses to: its programs then
/// run as the `postgres` user.
fn is_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|proc| proc.uid() == 0)
}

fn as_postgres(program: &Path) -> Command {
    if is_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn run(command: &mut Command, what: &str) {
    let output = command
        .output()
        .unwrap_or_else(|err| panic!("{what}: {err}"));
    assert!(
        output.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

impl TestPostgres {
    pub(crate) fn start() -> Self {
        if let Ok(url) = std::env::var("PORCHLIGHT_TEST_POSTGRES") {
            return Self { url, own: None };
        }
        let bin = bin_dir();
        let data = tempfile::tempdir().unwrap();
        if is_root() {
            let postgres = Command::new("id")
                .args(["-u", "postgres"])
                .output()
                .unwrap();
            let uid: u32 = String::from_utf8_lossy(&postgres.stdout)
                .trim()
                .parse()
                .unwrap();
            std::os::unix::fs::chown(data.path(), Some(uid), None).unwrap();
        }
        let cluster = data.path().join("cluster");
        run(
            as_postgres(&bin.join("initdb"))
                .args(["-A", "trust", "-U", "postgres", "--no-sync", "-D"])
                .arg(&cluster),
            "initdb",
        );
        // A free port can be taken by another test's server before PostgreSQL binds
        // it: then the start fails at once, and another port is tried.
        let log = data.path().join("log");
        let port = (0..3)
            .map(|_| free_port())
            .find(|&port| {
                let options = format!(
                    "-p {port} -c listen_addresses=127.0.0.1 -k {} -c fsync=off",
                    data.path().display()
                );
                as_postgres(&bin.join("pg_ctl"))
                    .args(["start", "-w", "-o", &options, "-l"])
                    .arg(&log)
                    .arg("-D")
                    .arg(&cluster)
                    .output()
                    .is_ok_and(|output| output.status.success())
            })
            .unwrap_or_else(|| {
                let said = std::fs::read_to_string(&log).unwrap_or_default();
                panic!("pg_ctl start failed on three ports; the server's log:\n{said}")
            });
        Self {
            url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
            own: Some(OwnServer { bin, data }),
        }
    }

    /// A new, empty schema and the URL of the server with it as the `search_path`.
    pub(crate) async fn schema(&self) -> String {
        // Hex, and short: names are cut at 63 bytes.
        let name = format!("test_{}", &porchlight_relay::auth::random_token()[..16]);
        let (client, connection) = tokio_postgres::connect(&self.url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        client
            .batch_execute(&format!("CREATE SCHEMA {name}"))
            .await
            .unwrap();
        let separator = if self.url.contains('?') { '&' } else { '?' };
        format!("{}{separator}options=-csearch_path%3D{name}", self.url)
    }
}

/// Runs the check `$check` (an async fn taking the store) on a fresh SQLite store, then
/// on a fresh PostgreSQL one: the two backends behave alike. (Every test binary
/// shares `common`; only the PostgreSQL ones use this.)
#[allow(unused_macros)]
macro_rules! on_both_stores {
    ($check:ident) => {{
        let dir = tempfile::tempdir().unwrap();
        $check(&porchlight_relay::store::SqliteStore::open(dir.path()).unwrap()).await;
        let server = $crate::common::postgres::TestPostgres::start();
        $check(
            &porchlight_relay::store::PgStore::connect(&server.schema().await)
                .await
                .unwrap(),
        )
        .await;
    }};
}
#[allow(unused_imports)]
pub(crate) use on_both_stores;

pub(crate) async fn connected(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
}

/// A migrated store in a schema of its own, with `rows` put in directly (for the tables
/// not ported to the store's traits yet), and the schema's URL.
pub(crate) async fn store_with(server: &TestPostgres, rows: &str) -> (PgStore, String) {
    let url = server.schema().await;
    let store = PgStore::connect(&url).await.unwrap();
    connected(&url).await.batch_execute(rows).await.unwrap();
    (store, url)
}

/// The first start's seed: site `demo`, its profile, team `Support` and admin `A`.
pub(crate) fn seed() -> Seed {
    Seed {
        site_key: "demo".into(),
        site_name: "Demo".into(),
        profile_name: "Default".into(),
        profile_definition: "{}".into(),
        team_name: "Support".into(),
        admin_email: "a@example.com".into(),
        admin_name: "A".into(),
        admin_password_hash: "x".into(),
    }
}

/// A bot-flow turn from the start that says and changes nothing but the flow state
/// (`{}`); tests set what they need.
pub(crate) fn bot_turn() -> FlowTurn {
    FlowTurn {
        expected_state: None,
        visitor_message: None,
        bot_name: "Bot".into(),
        bot_messages: Vec::new(),
        flow_state: "{}".into(),
        current_step: None,
        queue: false,
        queue_teams: Vec::new(),
        upload_policy: (AttachmentPolicy::Prevent, false),
        end: false,
        ticket_subject: None,
        ticket_acknowledgement: None,
    }
}

/// A new visitor of `site` (their browser's token hash `token`) with a chat started in
/// `status`: (the visitor's id, the chat's).
pub(crate) async fn new_visitors_chat(
    store: &(impl VisitorStore + ConversationStore + ?Sized),
    site: i64,
    token: &str,
    status: ConversationStatus,
) -> (i64, i64) {
    let visitor = store.create_visitor(site, token.into()).await.unwrap();
    let (chat, _) = store
        .open_or_start_conversation(NewConversation::of_visitor(site, visitor.id), status)
        .await
        .unwrap();
    (visitor.id, chat.id)
}

/// Rows put in directly (see [`store_with`]): site 1 (`demo`), visitors `1..=visitors`,
/// agents Ana (1) and Ben (2).
pub(crate) fn demo_people(visitors: i64) -> String {
    format!(
        "INSERT INTO sites (id, key, name, created_at) VALUES (1, 'demo', 'Demo', 0); \
         INSERT INTO visitors (id, site_id, token_hash, display_name, created_at) \
             SELECT n, 1, 'token' || n, 'Visitor ' || n, 0 FROM generate_series(1, {visitors}) n; \
         INSERT INTO agents (id, email, name, role, password_hash, created_at) VALUES \
             (1, 'ana@example.com', 'Ana', 'agent', 'x', 0), \
             (2, 'ben@example.com', 'Ben', 'agent', 'x', 0);"
    )
}
