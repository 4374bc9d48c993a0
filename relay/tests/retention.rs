//! Retention under paused time: a site that keeps ended chats 30 days loses them (and
//! their files) once 30 days have passed, and nothing else: not its open chats, not a
//! site that keeps everything.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::queued_chat;
use porchlight_protocol::Author;
use porchlight_relay::attachments::AttachmentsDir;
use porchlight_relay::retention::{self, Pass};
use porchlight_relay::store::{
    NewMessage, NewSiteRow, SiteChange, SqliteStore, Store, StoredAttachment,
};
use tokio_util::sync::CancellationToken;

const DAY: Duration = Duration::from_secs(86_400);

async fn site(store: &dyn Store, key: &str, retention_days: Option<u32>) -> i64 {
    let site = store
        .create_site(NewSiteRow {
            key: key.into(),
            name: key.into(),
            allowed_origins: Vec::new(),
            profile_name: "Default".into(),
            profile_definition: "{}".into(),
        })
        .await
        .unwrap();
    store
        .update_site(
            site.id,
            SiteChange {
                name: key.into(),
                allowed_origins: Vec::new(),
                default_profile_id: site.default_profile_id,
                retention_days,
                require_verified_identity: false,
            },
        )
        .await
        .unwrap();
    site.id
}

/// A chat on `site` with one message and one file; ended when `end`.
async fn chat(store: &dyn Store, files: &AttachmentsDir, site: i64, key: &str, end: bool) -> i64 {
    let chat = queued_chat(store, site, key).await;
    let message = |id: &str, body: &str| {
        NewMessage::text(
            chat.id,
            Some(id.into()),
            Author::Visitor,
            None,
            None,
            body.into(),
        )
    };
    store.append_message(message("m", "Hello")).await.unwrap();
    std::fs::create_dir_all(files.path(key).parent().unwrap()).unwrap();
    std::fs::write(files.path(key), b"file").unwrap();
    let file = StoredAttachment {
        conversation_id: chat.id,
        storage_key: key.into(),
        name: "a.txt".into(),
        content_type: "text/plain".into(),
        size: 4,
    };
    store
        .add_attachment(file, None, message("f", "a.txt"))
        .await
        .unwrap();
    if end {
        store.end(chat.id, Author::Visitor, None).await.unwrap();
    }
    chat.id
}

#[tokio::test(start_paused = true)]
async fn ended_chats_go_with_their_files_once_their_sites_retention_has_passed() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).unwrap());
    let files = AttachmentsDir::new(dir.path());
    let shop = site(store.as_ref(), "shop", Some(30)).await;
    let blog = site(store.as_ref(), "blog", None).await;
    let ended = chat(store.as_ref(), &files, shop, "shop-ended", true).await;
    let open = chat(store.as_ref(), &files, shop, "shop-open", false).await;
    let kept = chat(store.as_ref(), &files, blog, "blog-ended", true).await;

    let (passes, mut done) = tokio::sync::mpsc::unbounded_channel();
    let stop = CancellationToken::new();
    let runner = tokio::spawn(retention::run(
        Arc::clone(&store),
        files.clone(),
        stop.clone(),
        move |pass| {
            let _ = passes.send(pass);
        },
    ));
    assert_eq!(done.recv().await, Some(Pass::default()), "nothing at start");
    tokio::time::advance(29 * DAY).await;
    assert_eq!(done.recv().await, Some(Pass::default()), "29 days: kept");
    tokio::time::advance(2 * DAY).await;
    let pass = done.recv().await.unwrap();
    assert_eq!((pass.conversations, pass.files), (1, 1), "31 days: gone");

    assert!(store.conversation(ended).await.unwrap().is_none());
    assert!(!files.path("shop-ended").exists());
    for (chat, key) in [(open, "shop-open"), (kept, "blog-ended")] {
        assert!(store.conversation(chat).await.unwrap().is_some(), "{key}");
        assert!(
            store.messages_after(chat, 0, 10).await.unwrap().len() >= 2,
            "{key}"
        );
        assert!(files.path(key).exists(), "{key}");
    }
    stop.cancel();
    runner.await.unwrap();
}
