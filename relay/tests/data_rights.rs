//! A visitor's data: an admin hands it over (JSON with their files) or erases it,
//! leaving no row or file of theirs behind, everyone else's intact, and a record that
//! it was done. Files whose rows are gone survive no restart.

mod common;

use base64::Engine;
use common::{
    TestRelay, Ws, header, http, json_call as call, start, start_in, stored_files, upload,
};
use porchlight_protocol::{AgentInfo, Author};
use porchlight_relay::attachments::AttachmentsDir;
use porchlight_relay::retention;
use porchlight_relay::store::notes::NewNote;
use porchlight_relay::store::{ChatRules, DB_FILE, now_ms};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

/// A visitor with a waiting chat (and a ticket, through tickets) holding `words` and a
/// picture: their socket, token, visitor id and chat.
async fn visitor_with_a_picture(
    relay: &TestRelay,
    words: &str,
    picture: &[u8],
) -> (Ws, String, i64, i64) {
    let mut visitor = relay.visitor().await;
    let token = visitor.hello(None, None).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let chat = visitor.say("v-1", words).await["conversation_id"]
        .as_i64()
        .unwrap();
    let bearer = format!("Bearer {token}");
    let (status, _) = upload(
        relay.addr,
        chat,
        ("Authorization", &bearer),
        "shot.png",
        picture,
    )
    .await;
    assert_eq!(status, 201);
    let id = relay
        .state
        .store
        .conversation(chat)
        .await
        .unwrap()
        .unwrap()
        .visitor_id;
    (visitor, token, id, chat)
}

/// Rows anywhere that still mention `words` or belong to `visitor` or their `chat`.
fn rows_left(relay: &TestRelay, visitor: i64, chat: i64, words: &str) -> i64 {
    let db = rusqlite::Connection::open(relay.state.config.data_dir.join(DB_FILE)).unwrap();
    let pattern = format!("%{words}%");
    db.query_row(
        "SELECT (SELECT count(*) FROM messages WHERE conversation_id = ?1 OR body LIKE ?2) \
         + (SELECT count(*) FROM notes WHERE conversation_id = ?1) \
         + (SELECT count(*) FROM attachments WHERE conversation_id = ?1) \
         + (SELECT count(*) FROM participants WHERE conversation_id = ?1) \
         + (SELECT count(*) FROM emails WHERE conversation_id = ?1) \
         + (SELECT count(*) FROM conversations WHERE id = ?1) \
         + (SELECT count(*) FROM ticket_notes WHERE conversation_id = ?1 OR body LIKE ?2) \
         + (SELECT count(*) FROM tickets WHERE subject LIKE ?2 OR visitor_id = ?4) \
         + (SELECT count(*) FROM visitors WHERE id = ?4) \
         + (SELECT count(*) FROM ai_visitor_usage WHERE visitor_id = ?4) \
         + (SELECT count(*) FROM messages_fts WHERE messages_fts MATCH '\"' || ?3 || '\"')",
        rusqlite::params![chat, pattern, words.split(' ').next().unwrap(), visitor],
        |row| row.get(0),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[expect(
    clippy::too_many_lines,
    reason = "one request for data, then one for erasure, read from start to end"
)]
async fn an_admin_exports_a_visitors_data_then_erases_it_and_nothing_of_theirs_is_left() {
    if common::sqlite_only("counts what is left with SQL on SQLite's tables") {
        return;
    }
    let relay = start().await;
    let addr = relay.addr;
    let store = &relay.state.store;
    store
        .set_chat_rules(ChatRules {
            through_tickets: true,
            ..ChatRules::default()
        })
        .await
        .unwrap();
    let admin = relay
        .agent_cookie(&relay.admin().email.clone(), "Admin")
        .await;
    let agent = relay.agent_cookie("bo@example.com", "Bo").await;
    let ana_picture = [PNG, b"ana's picture"].concat();
    let (mut ana_page, ana_token, ana, ana_chat) =
        visitor_with_a_picture(&relay, "Zanzibar invoice 4471 is wrong", &ana_picture).await;
    let (_cy, _, cy, cy_chat) =
        visitor_with_a_picture(&relay, "Quokka shipping question", PNG).await;
    store
        .add_note(NewNote {
            conversation_id: ana_chat,
            client_msg_id: "n-1".into(),
            author: AgentInfo {
                id: 1,
                name: "Admin".into(),
            },
            body: "Zanzibar customer, VIP".into(),
        })
        .await
        .unwrap();

    for (method, path) in [
        ("GET", format!("/api/admin/visitors/{ana}/export")),
        ("DELETE", format!("/api/admin/visitors/{ana}")),
        ("GET", "/api/admin/erasures".to_owned()),
    ] {
        let (status, body) = call(addr, method, &path, &agent, Value::Null).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (403, Some("admin_only")),
            "{method} {path}"
        );
    }

    // The export: their chat with its messages, their ticket, their picture's bytes.
    let (status, headers, body) = http(
        addr,
        "GET",
        &format!("/api/admin/visitors/{ana}/export"),
        &[("Cookie", &admin)],
        "",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        header(&headers, "content-disposition"),
        Some(format!("attachment; filename=\"visitor-{ana}.json\"").as_str())
    );
    let export: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (&export["visitor"]["id"], &export["visitor"]["site"]),
        (&json!(ana), &json!("demo"))
    );
    let chats = export["conversations"].as_array().unwrap();
    assert_eq!(chats.len(), 1);
    assert_eq!(chats[0]["id"], ana_chat);
    assert_eq!(
        chats[0]["messages"][0]["body"],
        "Zanzibar invoice 4471 is wrong"
    );
    assert_eq!(export["tickets"].as_array().unwrap().len(), 1, "{export}");
    let file = &export["files"][0];
    assert_eq!(
        (&file["name"], &file["conversation_id"]),
        (&json!("shot.png"), &json!(ana_chat))
    );
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(file["base64"].as_str().unwrap())
        .unwrap();
    assert_eq!(bytes, ana_picture);
    assert!(
        !body.contains("VIP"),
        "agents' private notes are not the visitor's data"
    );
    assert!(!body.contains("Quokka"), "nobody else's data");

    // No erasure while their chat is open.
    let erase = format!("/api/admin/visitors/{ana}");
    let (status, answer) = call(addr, "DELETE", &erase, &admin, Value::Null).await;
    assert_eq!((status, answer["code"].as_str()), (409, Some("chat_open")));
    store.end(ana_chat, Author::Visitor, None).await.unwrap();
    assert_eq!(stored_files(&relay), 2);
    assert!(rows_left(&relay, ana, ana_chat, "Zanzibar") > 0);

    let (status, erased) = call(addr, "DELETE", &erase, &admin, Value::Null).await;
    assert_eq!(status, 200, "{erased}");
    assert_eq!(
        (
            &erased["conversations"],
            &erased["files"],
            &erased["tickets"],
            &erased["by"]
        ),
        (&json!(1), &json!(1), &json!(1), &json!("Admin"))
    );
    assert!(
        erased["messages"].as_u64().unwrap() >= 3,
        "their words, the file and the end"
    );
    assert_eq!(
        rows_left(&relay, ana, ana_chat, "Zanzibar"),
        0,
        "no row of theirs is left"
    );
    // Her page was still open: its socket closes, and she comes back as someone new.
    while let Some(frame) = ana_page.stream_next().await {
        if matches!(frame, Message::Close(_)) {
            break;
        }
    }
    let mut again = relay.visitor().await;
    let welcome = again.hello(Some(&ana_token), None).await;
    assert_ne!(welcome["token"].as_str(), Some(ana_token.as_str()));
    assert!(
        welcome.get("conversation").is_none_or(Value::is_null),
        "{welcome}"
    );
    assert_eq!(
        stored_files(&relay),
        1,
        "their picture is off the disk, Cy's is not"
    );
    assert!(store.conversation(cy_chat).await.unwrap().is_some());
    let (status, _) = call(
        addr,
        "GET",
        &format!("/api/admin/visitors/{ana}/export"),
        &admin,
        Value::Null,
    )
    .await;
    assert_eq!(status, 404);
    let (status, again) = call(addr, "DELETE", &erase, &admin, Value::Null).await;
    assert_eq!((status, again["code"].as_str()), (404, Some("not_found")));
    let (_, record) = call(addr, "GET", "/api/admin/erasures", &admin, Value::Null).await;
    assert_eq!(record.as_array().unwrap().len(), 1);
    assert_eq!(
        (&record[0]["visitor_id"], &record[0]["site"]),
        (&json!(ana), &json!("demo"))
    );
    let (_, tickets) = call(addr, "GET", "/api/tickets", &admin, Value::Null).await;
    let subjects: Vec<&str> = tickets
        .as_array()
        .unwrap()
        .iter()
        .map(|ticket| ticket["subject"].as_str().unwrap())
        .collect();
    assert!(subjects.contains(&"(erased)"), "{subjects:?}");
    assert!(
        subjects.contains(&format!("Chat with Visitor {cy}").as_str()),
        "{subjects:?}"
    );

    // Killed between the erasure's COMMIT and the file's removal: the file is still
    // listed after a restart, and the next retention pass removes it.
    store.end(cy_chat, Author::Visitor, None).await.unwrap();
    store
        .erase_visitor(cy, "Admin".into())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored_files(&relay), 1);
    let dir = relay.stop().await;
    let relay = start_in(dir).await;
    let files = AttachmentsDir::new(&relay.state.config.data_dir);
    let store = relay.state.store.as_ref();
    assert_eq!(store.files_to_delete().await.unwrap().len(), 1);
    let pass = retention::pass(store, &files, now_ms()).await.unwrap();
    assert_eq!(pass.files, 1);
    assert_eq!(stored_files(&relay), 0);
    assert!(store.files_to_delete().await.unwrap().is_empty());
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_still_with_the_bot_is_erased_with_its_visitor() {
    let relay = start().await;
    let mut profile = common::helpdesk();
    profile.working_hours = None;
    relay.use_profile(&profile, true).await;
    let mut visitor = relay.visitor().await;
    let welcome = visitor.hello(None, None).await;
    assert_eq!(welcome["conversation"]["status"], "bot");
    let chat = welcome["conversation"]["id"].as_i64().unwrap();
    let visitor_id = relay
        .state
        .store
        .conversation(chat)
        .await
        .unwrap()
        .unwrap()
        .visitor_id;
    let admin = relay
        .agent_cookie(&relay.admin().email.clone(), "Admin")
        .await;
    let (status, erased) = call(
        relay.addr,
        "DELETE",
        &format!("/api/admin/visitors/{visitor_id}"),
        &admin,
        Value::Null,
    )
    .await;
    assert_eq!(
        (status, &erased["conversations"]),
        (200, &json!(1)),
        "{erased}"
    );
    assert!(
        relay
            .state
            .store
            .conversation(chat)
            .await
            .unwrap()
            .is_none()
    );
    relay.stop().await;
}
