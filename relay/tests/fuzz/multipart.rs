//! The multipart reader of chat uploads, through the real endpoint: whatever body
//! arrives, the answer is a 201 or a refusal with a code (never a 5xx, never a
//! dropped connection), no part file outlives its request, and every stored file
//! belongs to exactly one message.

use futures_util::FutureExt;
use porchlight_relay::throttle::Limits;

use crate::common::{
    TestRelay, multipart_body as body, multipart_field as field, post_multipart, start_configured,
    stored_files,
};
use crate::engine::Fuzzer;

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

fn seeds() -> Vec<Vec<u8>> {
    let png = field("file", Some("shot.png"), PNG);
    let text = field("file", Some("notes.txt"), b"Order 1234, please.");
    let id = field("client_msg_id", None, b"u-1");
    vec![
        body(std::slice::from_ref(&png)),
        body(&[id.clone(), text.clone()]),
        body(&[png.clone(), id]),
        body(&[field("file", Some("../../etc/passwd"), b"root:x:0:0")]),
        body(&[field("file\"; filename*=UTF-8''%C3%A9t%C3%A9.txt; x=\"", None, b"summer")]),
        body(&[png, text]),
        b"--porchlight-test-boundary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nhi\r\n".to_vec(),
    ]
}

const DICTIONARY: &[&str] = &[
    "--porchlight-test-boundary",
    "--porchlight-test-boundary--",
    "\r\n",
    "\r\n\r\n",
    "Content-Disposition: form-data; ",
    "name=\"file\"",
    "name=\"client_msg_id\"",
    "name=\"other\"",
    "; filename=\"",
    "filename*=UTF-8''",
    ".png\"",
    ".exe\"",
    ".html\"",
    "Content-Type: image/png\r\n",
    "Content-Type: text/html\r\n",
    "Content-Transfer-Encoding: base64\r\n",
    "\u{89}PNG\r\n\u{1a}\n",
    "GIF89a",
    "%PDF-",
    "<html>",
    "MZ",
    "\"",
    ";",
    "=",
    "%00",
    "\\",
];

/// One upload: its status and refusal code, checked.
async fn upload(relay: &TestRelay, chat: i64, bearer: &str, body: &[u8]) -> String {
    let (status, answer) = post_multipart(relay.addr, chat, ("Authorization", bearer), body).await;
    assert!(
        (200..500).contains(&status),
        "an upload answered {status}: {answer}"
    );
    if status != 201 {
        assert!(
            answer["code"].is_string(),
            "a refusal has a code: {status} {answer}"
        );
    }
    let incoming = relay.state.config.data_dir.join("attachments/incoming");
    let left = std::fs::read_dir(incoming).map_or(0, Iterator::count);
    assert_eq!(left, 0, "a part file outlived its request");
    // The refusal's reason (without numbers) or the stored file's type.
    let detail: String = answer["message"]
        .as_str()
        .or(answer["attachment"]["content_type"].as_str())
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_ascii_digit())
        .collect();
    format!("{status} {} {detail}", answer["code"])
}

async fn attachment_messages(relay: &TestRelay, chat: i64) -> usize {
    let messages = relay.state.store.messages_after(chat, 0, 100_000).await;
    messages
        .unwrap()
        .iter()
        .filter(|message| message.attachment.is_some())
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multipart() {
    let relay = start_configured(tempfile::tempdir().unwrap(), |config| {
        // Thousands of uploads from one visitor: the fuzzer is not the one being limited.
        config.limits = Limits {
            chats_per_address: 0,
            files_per_visitor: 0,
            files_per_address: 0,
        };
    })
    .await;
    let mut visitor = relay.visitor().await;
    let token = visitor.hello(None, None).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let chat = visitor.say("v-1", "Files coming").await["conversation_id"]
        .as_i64()
        .unwrap();
    let bearer = format!("Bearer {token}");

    let mut fuzzer = Fuzzer::new("multipart", seeds(), DICTIONARY);
    for _ in 0..Fuzzer::budget(1_000) {
        let input = fuzzer.next_input();
        let checked = std::panic::AssertUnwindSafe(upload(&relay, chat, &bearer, &input))
            .catch_unwind()
            .await;
        match checked {
            Ok(outcome) => fuzzer.observe(input, outcome),
            Err(_) => fuzzer.crashed(&input, "an upload broke a promise"),
        }
    }
    assert_eq!(
        stored_files(&relay),
        attachment_messages(&relay, chat).await,
        "every stored file belongs to one message"
    );
    fuzzer.report();
    relay.stop().await;
}
