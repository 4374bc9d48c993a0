//! `porchlight migrate --from sqlite:DIR --to postgres:URL`: a single-node install
//! copied into an empty PostgreSQL database reads back the same through the store, its
//! report sums rebuilt the same, and new rows continue after the copied ones; a
//! database that already holds a site is refused, and nothing is written to it.

mod common;

use std::process::Command;

use common::postgres::{TestPostgres, new_visitors_chat, seed};
use porchlight_protocol::{AgentInfo, Author, ConversationStatus};
use porchlight_relay::attachments::AttachmentsDir;
use porchlight_relay::store::{
    ChatRules, DB_FILE, NewMessage, PgStore, SqliteStore, Store, StoredAttachment, now_ms,
};

const DAY_MS: i64 = 86_400_000;

/// The uploaded file of [`single_node_install`].
const FILE_KEY: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
const FILE_BYTES: &[u8] = b"invoice 1234";

/// A chat answered with a file, ended and rated; a ticket; and one chat still waiting.
async fn single_node_install(store: &dyn Store, dir: &std::path::Path) -> (i64, i64) {
    assert!(store.seed_if_empty(seed()).await.unwrap());
    let site = store.site_by_key("demo").await.unwrap().unwrap().id;
    let admin = AgentInfo {
        id: 1,
        name: "A".into(),
    };
    let (visitor, chat) =
        new_visitors_chat(store, site, "browser", ConversationStatus::Queued).await;
    let said = |author, id: Option<i64>, body: &str| {
        NewMessage::text(chat, None, author, id, None, body.into())
    };
    store
        .append_message(said(Author::Visitor, None, "Hello\0there"))
        .await
        .unwrap();
    store
        .join(chat, admin.clone(), ChatRules::default())
        .await
        .unwrap();
    store
        .append_message(said(Author::Agent, Some(1), "Hi!"))
        .await
        .unwrap();
    let files = AttachmentsDir::new(dir);
    std::fs::create_dir_all(dir.join("attachments")).unwrap();
    std::fs::write(files.path(FILE_KEY), FILE_BYTES).unwrap();
    let file = StoredAttachment {
        conversation_id: chat,
        storage_key: FILE_KEY.into(),
        name: "invoice.txt".into(),
        content_type: "text/plain".into(),
        size: FILE_BYTES.len() as u64,
    };
    store
        .add_attachment(file, None, said(Author::Agent, Some(1), "invoice.txt"))
        .await
        .unwrap();
    store.end(chat, Author::Visitor, None).await.unwrap();
    store.rate(chat, 5, Some("Great".into())).await.unwrap();
    store
        .create_ticket(site, "Invoice".into(), None, Some(1), None)
        .await
        .unwrap();
    new_visitors_chat(store, site, "waiting", ConversationStatus::Queued).await;
    (chat, visitor)
}

fn migrate(dir: &std::path::Path, url: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_porchlight"))
        .arg("migrate")
        .arg("--from")
        .arg(format!("sqlite:{}", dir.display()))
        .arg("--to")
        .arg(format!("postgres:{url}"))
        .output()
        .unwrap()
}

#[tokio::test]
async fn a_single_node_install_moves_into_postgresql_whole() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite: &dyn Store = &SqliteStore::open(dir.path()).unwrap();
    let (chat, visitor) = single_node_install(sqlite, dir.path()).await;
    let server = TestPostgres::start();
    let url = server.schema().await;

    let moved = migrate(dir.path(), &url);
    let printed = String::from_utf8_lossy(&moved.stdout);
    assert!(
        moved.status.success(),
        "{printed}{}",
        String::from_utf8_lossy(&moved.stderr)
    );
    assert!(printed.contains("messages"), "{printed}");

    let postgres: &dyn Store = &PgStore::connect(&url).await.unwrap();
    assert_eq!(
        postgres.file_content(FILE_KEY).await.unwrap().as_deref(),
        Some(FILE_BYTES),
        "the uploaded file is in the database, for every node to serve"
    );
    let was = sqlite.conversation(chat).await.unwrap().unwrap();
    let now = postgres.conversation(chat).await.unwrap().unwrap();
    assert_eq!(now, was);
    let said = |messages: Vec<porchlight_protocol::ChatMessage>| {
        messages
            .into_iter()
            .map(|m| (m.seq, m.body))
            .collect::<Vec<_>>()
    };
    let copied = said(postgres.messages_after(chat, 0, 100).await.unwrap());
    let mut expected = said(sqlite.messages_after(chat, 0, 100).await.unwrap());
    // PostgreSQL's text holds no NUL: it becomes U+FFFD.
    expected[0].1 = expected[0].1.replace('\0', "\u{fffd}");
    assert_eq!(copied, expected);
    assert_eq!(
        postgres.agent_accounts().await.unwrap(),
        sqlite.agent_accounts().await.unwrap()
    );
    assert_eq!(
        postgres.tickets(None, 10).await.unwrap(),
        sqlite.tickets(None, 10).await.unwrap()
    );
    assert_eq!(
        postgres.waiting_conversations().await.unwrap(),
        sqlite.waiting_conversations().await.unwrap()
    );
    let today = now_ms() / DAY_MS;
    assert_eq!(
        postgres.report_sums(today - 1, today + 1).await.unwrap(),
        sqlite.report_sums(today - 1, today + 1).await.unwrap(),
        "the trigger rebuilt the sums"
    );

    // New rows continue after the copied ones.
    let site = postgres.site_by_key("demo").await.unwrap().unwrap().id;
    let newcomer = postgres.create_visitor(site, "new".into()).await.unwrap();
    assert!(newcomer.id > visitor + 1, "{} after {visitor}", newcomer.id);

    // A database that holds a site already is left alone.
    let again = migrate(dir.path(), &url);
    assert!(!again.status.success());
    let refused = String::from_utf8_lossy(&again.stderr);
    assert!(refused.contains("already holds a site"), "{refused}");
    assert_eq!(postgres.sites().await.unwrap().len(), 1);

    let nowhere = migrate(&dir.path().join("nowhere"), &url);
    assert!(String::from_utf8_lossy(&nowhere.stderr).contains(DB_FILE));
}
