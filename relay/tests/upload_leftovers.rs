//! Uploads tried as an attacker would, to fill the disk: multipart shapes refused
//! after the file was read, bodies cut short, files sent as fast as possible. A
//! refused upload leaves no file and no row; a crash between the row and the file's
//! name is finished at the next start, and strays are removed.

mod common;

use common::{
    BOUNDARY, PATIENCE, TestRelay, multipart_body as body, multipart_field as field,
    post_multipart, start, start_in, stored_files,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

/// A visitor with a chat that takes files: (token, chat id).
async fn visitor_chat(relay: &TestRelay) -> (String, i64) {
    let mut visitor = relay.visitor().await;
    let welcome = visitor.hello(None, None).await;
    let token = welcome["token"].as_str().unwrap().to_owned();
    let chat = visitor.say("v-1", "Files coming").await["conversation_id"]
        .as_i64()
        .unwrap();
    (token, chat)
}

async fn messages_in(relay: &TestRelay, chat: i64) -> usize {
    relay
        .state
        .store
        .messages_after(chat, 0, 1000)
        .await
        .unwrap()
        .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_refused_upload_leaves_a_file_or_a_row() {
    let relay = start().await;
    let (token, chat) = visitor_chat(&relay).await;
    let bearer = format!("Bearer {token}");
    let auth = ("Authorization", bearer.as_str());
    let before = messages_in(&relay, chat).await;
    let file = field("file", Some("shot.png"), PNG);
    let shapes: [(&str, Vec<u8>); 7] = [
        (
            "a second file",
            body(&[file.clone(), field("file", Some("b.png"), PNG)]),
        ),
        (
            "an over-long client_msg_id after the file",
            body(&[file.clone(), field("client_msg_id", None, &[b'x'; 65])]),
        ),
        (
            "an unknown field after the file",
            body(&[file.clone(), field("note", None, b"hi")]),
        ),
        (
            "an empty client_msg_id after the file",
            body(&[file.clone(), field("client_msg_id", None, b"")]),
        ),
        ("no closing boundary", file.clone()),
        (
            "a file that is not what its name says",
            body(&[field("file", Some("x.png"), b"<html>")]),
        ),
        (
            "an empty file",
            body(&[field("file", Some("empty.txt"), b"")]),
        ),
    ];
    for (shape, bytes) in shapes {
        let (status, answer) = post_multipart(relay.addr, chat, auth, &bytes).await;
        assert!((400..500).contains(&status), "{shape}: {status} {answer}");
        assert!(
            answer["message"].is_string(),
            "{shape}: a clear error: {answer}"
        );
        assert_eq!(stored_files(&relay), 0, "{shape} left a file");
    }
    assert_eq!(messages_in(&relay, chat).await, before, "and no row");
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_cut_short_mid_file_leaves_nothing() {
    let relay = start().await;
    let (token, chat) = visitor_chat(&relay).await;
    let promised = 1024 * 1024;
    let head = format!(
        "POST /api/v1/conversations/{chat}/attachments HTTP/1.1\r\nHost: {}\r\n\
         Authorization: Bearer {token}\r\nConnection: close\r\n\
         Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {promised}\r\n\r\n",
        relay.addr
    );
    let mut stream = tokio::net::TcpStream::connect(relay.addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
        .write_all(&field("file", Some("big.txt"), &[b'a'; 64 * 1024]))
        .await
        .unwrap();
    // The sender stops half way: no more body will come.
    stream.shutdown().await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(PATIENCE, stream.read_to_end(&mut answer))
        .await
        .expect("the relay answered")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert_eq!(stored_files(&relay), 0);
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_and_an_address_may_send_only_so_many_files() {
    let relay = start().await;
    let mut visitors = Vec::new();
    for _ in 0..4 {
        visitors.push(visitor_chat(&relay).await);
    }
    let png = body(&[field("file", Some("shot.png"), PNG)]);
    // One visitor: 20, then refused, in words, with when to try again.
    let (token, chat) = &visitors[0];
    let bearer = format!("Bearer {token}");
    for n in 0..20 {
        let (status, answer) =
            post_multipart(relay.addr, *chat, ("Authorization", &bearer), &png).await;
        assert_eq!(status, 201, "file {n}: {answer}");
    }
    let (status, answer) =
        post_multipart(relay.addr, *chat, ("Authorization", &bearer), &png).await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (429, Some("rate_limited"))
    );
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .starts_with("That is a lot of files at once; send more in "),
        "{answer}"
    );
    // Others on the same address share its 60.
    for (token, chat) in &visitors[1..3] {
        let bearer = format!("Bearer {token}");
        for _ in 0..20 {
            let (status, _) =
                post_multipart(relay.addr, *chat, ("Authorization", &bearer), &png).await;
            assert_eq!(status, 201);
        }
    }
    let (token, chat) = &visitors[3];
    let (status, _) = post_multipart(
        relay.addr,
        *chat,
        ("Authorization", &format!("Bearer {token}")),
        &png,
    )
    .await;
    assert_eq!(status, 429, "the address has sent its 60");
    assert_eq!(stored_files(&relay), 60);
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_finishes_a_file_whose_row_committed_and_removes_strays() {
    // Files left by an earlier version, which kept refused uploads: gone at start.
    let dir = tempfile::tempdir().unwrap();
    let attachments = dir.path().join("data/attachments");
    std::fs::create_dir_all(&attachments).unwrap();
    std::fs::write(attachments.join("ab".repeat(32)), b"orphan").unwrap();
    let relay = start_in(dir).await;
    assert_eq!(stored_files(&relay), 0, "the orphan was removed");

    let (token, chat) = visitor_chat(&relay).await;
    let (status, message) = post_multipart(
        relay.addr,
        chat,
        ("Authorization", &format!("Bearer {token}")),
        &body(&[field("file", Some("shot.png"), PNG)]),
    )
    .await;
    assert_eq!(status, 201);
    let url = message["attachment"]["url"].as_str().unwrap().to_owned();
    let key = url.trim_start_matches("/files/").to_owned();
    let dir = relay.stop().await;

    // A crash after the row committed and before the rename; and a part file whose
    // row never did.
    let attachments = dir.path().join("data/attachments");
    std::fs::rename(
        attachments.join(&key),
        attachments.join(format!("incoming/{key}.part")),
    )
    .unwrap();
    std::fs::write(
        attachments.join(format!("incoming/{}.part", "cd".repeat(32))),
        b"x",
    )
    .unwrap();
    let relay = start_in(dir).await;
    assert_eq!(stored_files(&relay), 1);
    let (status, _, body) = common::http(relay.addr, "GET", &url, &[], "").await;
    assert_eq!(status, 200, "the committed file is served under its name");
    assert!(body.contains("PNG\r\n"), "the same bytes");
    relay.stop().await;
}
