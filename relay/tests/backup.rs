//! `porchlight backup` taken while a visitor writes, and `porchlight restore` into a
//! new folder: every message acknowledged before the backup began is in the copy, with
//! the chat's file, and a relay started on it serves them. A restore never replaces a
//! database unless told to, and then keeps the old one beside it.

mod common;

use std::path::Path;

use common::{multipart_body, multipart_field, post_multipart, start, start_in, stored_files};
use tokio::process::Command;
use tokio::sync::mpsc;

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

async fn porchlight(args: &[&str]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_porchlight"))
        .args(args)
        .env("PORCHLIGHT_LOG", "warn")
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.success(), text)
}

fn arg(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_under_load_restores_every_message_acknowledged_before_it() {
    if common::sqlite_only("a backup is of SQLite's data folder") {
        return;
    }
    let relay = start().await;
    let data = relay.state.config.data_dir.clone();
    let mut visitor = relay.visitor().await;
    let token = visitor.hello(None, None).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let chat = visitor.say("m-0", "Here comes a screenshot").await["conversation_id"]
        .as_i64()
        .unwrap();
    let bearer = format!("Bearer {token}");
    let file = multipart_body(&[multipart_field("file", Some("shot.png"), PNG)]);
    let (status, _) = post_multipart(relay.addr, chat, ("Authorization", &bearer), &file).await;
    assert_eq!(status, 201);

    // The visitor writes steadily (under the 20 a second a visitor may send); each ack
    // is reported as it comes.
    let (acked_tx, mut acked) = mpsc::unbounded_channel::<String>();
    let (stop_tx, mut stop) = tokio::sync::oneshot::channel::<()>();
    let writer = tokio::spawn(async move {
        let mut pace = tokio::time::interval(std::time::Duration::from_millis(60));
        for n in 1.. {
            pace.tick().await;
            if stop.try_recv().is_ok() {
                break;
            }
            let id = format!("m-{n}");
            visitor.say(&id, &format!("Message {n}")).await;
            let _ = acked_tx.send(id);
        }
    });
    let mut before = Vec::new();
    while before.len() < 20 {
        before.push(acked.recv().await.unwrap());
    }
    let scratch = tempfile::tempdir().unwrap();
    let copy = scratch.path().join("copy");
    let (ok, said) = porchlight(&["backup", arg(&copy), "--data", arg(&data)]).await;
    assert!(ok, "{said}");
    assert!(said.contains("and 1 files"), "{said}");
    // Writes went on during the backup and after it.
    for _ in 0..5 {
        acked.recv().await.unwrap();
    }
    let _ = stop_tx.send(());
    writer.await.unwrap();
    let (ok, said) = porchlight(&["backup", arg(&copy), "--data", arg(&data)]).await;
    assert!(!ok && said.contains("is not an empty folder"), "{said}");
    relay.stop().await;

    let restored_dir = tempfile::tempdir().unwrap();
    let restored_data = restored_dir.path().join("data");
    let (ok, said) = porchlight(&["restore", arg(&copy), "--data", arg(&restored_data)]).await;
    assert!(ok, "{said}");
    assert!(said.starts_with("restored 1 conversations"), "{said}");
    let (ok, said) = porchlight(&["restore", arg(&copy), "--data", arg(&restored_data)]).await;
    assert!(!ok && said.contains("pass --force"), "{said}");
    let (ok, said) = porchlight(&[
        "restore",
        arg(&copy),
        "--data",
        arg(&restored_data),
        "--force",
    ])
    .await;
    assert!(ok, "{said}");
    let kept_aside = std::fs::read_dir(&restored_data)
        .unwrap()
        .flatten()
        .filter(|entry| entry.file_name().to_string_lossy().starts_with("replaced-"))
        .count();
    assert_eq!(kept_aside, 1, "the replaced data is kept");

    let relay = start_in(restored_dir).await;
    let messages = relay
        .state
        .store
        .messages_after(chat, 0, 10_000)
        .await
        .unwrap();
    let ids: Vec<&str> = messages
        .iter()
        .filter_map(|message| message.client_msg_id.as_deref())
        .collect();
    for id in before.iter().map(String::as_str).chain(["m-0"]) {
        assert!(ids.contains(&id), "{id} was acknowledged before the backup");
    }
    assert!(messages.iter().any(|message| message.attachment.is_some()));
    assert_eq!(stored_files(&relay), 1, "the chat's file came along");
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_refuses_what_is_not_a_backup() {
    let scratch = tempfile::tempdir().unwrap();
    let not_a_backup = scratch.path().join("junk");
    std::fs::create_dir_all(&not_a_backup).unwrap();
    let data = scratch.path().join("data");
    let (ok, said) = porchlight(&["restore", arg(&not_a_backup), "--data", arg(&data)]).await;
    assert!(
        !ok && said.contains("holds no Porchlight database"),
        "{said}"
    );
    std::fs::write(not_a_backup.join("porchlight.sqlite3"), b"not a database").unwrap();
    let (ok, said) = porchlight(&["restore", arg(&not_a_backup), "--data", arg(&data)]).await;
    assert!(!ok && said.contains("not an SQLite database"), "{said}");
    assert!(
        !data.join("porchlight.sqlite3").exists(),
        "nothing was put in place"
    );
    let (ok, said) = porchlight(&[
        "backup",
        arg(&scratch.path().join("out")),
        "--data",
        arg(&data),
    ])
    .await;
    assert!(
        !ok && said.contains("holds no Porchlight database"),
        "{said}"
    );
}
