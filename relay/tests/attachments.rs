//! Files in chats: who may send them (the flow's policy, an agent's switch), size and
//! type limits, and how they are served.

mod common;

use common::{TestRelay, Ws, header, http, start, stored_files, upload};
use porchlight_relay::flow::{Format, Profile};
use serde_json::json;

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

/// A visitor with a waiting chat under the current profile: socket, token, chat id.
async fn waiting_visitor(relay: &TestRelay) -> (Ws, String, i64) {
    let mut visitor = relay.visitor().await;
    let welcome = visitor.hello(None, None).await;
    let token = welcome["token"].as_str().unwrap().to_owned();
    let chat = visitor.say("v-1", "Here is a screenshot").await["conversation_id"]
        .as_i64()
        .unwrap();
    (visitor, token, chat)
}

async fn next_uploads(visitor: &mut Ws) -> bool {
    visitor.next_of_type("uploads").await["allowed"]
        .as_bool()
        .unwrap()
}

fn profile(attachments: &str, switchable: bool) -> Profile {
    let text = format!(
        "name = \"Files {attachments}\"\nstart = \"live\"\nagents_can_toggle_uploads = {switchable}\n\n\
         [[steps]]\nid = \"live\"\ntype = \"action\"\naction = \"start_live_chat\"\nattachments = \"{attachments}\"\n"
    );
    Profile::parse(&text, Format::Toml).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_sends_a_picture_the_agent_gets_it_and_it_is_served_safely() {
    let relay = start().await;
    let (mut agent, _) = relay.agent("ana@example.com", "Ana").await;
    let (mut visitor, token, chat) = waiting_visitor(&relay).await;
    assert!(
        next_uploads(&mut visitor).await,
        "the default profile allows files"
    );
    agent
        .send(json!({"type": "open", "conversation_id": chat}))
        .await;
    agent.next_message("Here is a screenshot").await;

    let bearer = format!("Bearer {token}");
    let (status, message) = upload(
        relay.addr,
        chat,
        ("Authorization", &bearer),
        "shot.png",
        PNG,
    )
    .await;
    assert_eq!(status, 201, "{message}");
    assert_eq!(message["body"], "shot.png");
    assert_eq!(message["attachment"]["content_type"], "image/png");
    assert_eq!(message["attachment"]["size"], PNG.len());
    let url = message["attachment"]["url"].as_str().unwrap().to_owned();
    let seen = agent.next_message("shot.png").await;
    assert_eq!(seen["attachment"]["url"], url.as_str());

    // The same client_msg_id again is the same message, stored once.
    let (status, again) = upload(
        relay.addr,
        chat,
        ("Authorization", &bearer),
        "shot.png",
        PNG,
    )
    .await;
    assert_eq!((status, &again["seq"]), (201, &message["seq"]));

    let (status, headers, _) = http(relay.addr, "GET", &url, &[], "").await;
    assert_eq!(status, 200);
    let length = PNG.len().to_string();
    assert_eq!(header(&headers, "content-length"), Some(length.as_str()));
    assert_eq!(header(&headers, "content-type"), Some("image/png"));
    assert_eq!(header(&headers, "x-content-type-options"), Some("nosniff"));
    assert_eq!(
        header(&headers, "content-disposition"),
        Some("inline; filename=\"shot.png\"")
    );
    assert!(
        header(&headers, "content-security-policy")
            .unwrap()
            .starts_with("sandbox")
    );
    assert_eq!(stored_files(&relay), 1, "the duplicate left no second file");

    let (status, message) = upload(
        relay.addr,
        chat,
        ("Authorization", &bearer),
        "invoice.pdf",
        b"%PDF-1.7 ...",
    )
    .await;
    assert_eq!(status, 201);
    let (_, headers, _) = http(
        relay.addr,
        "GET",
        message["attachment"]["url"].as_str().unwrap(),
        &[],
        "",
    )
    .await;
    assert_eq!(
        header(&headers, "content-disposition"),
        Some("attachment; filename=\"invoice.pdf\"")
    );
    let (status, _, _) = http(
        relay.addr,
        "GET",
        &format!("/files/{}", "0".repeat(64)),
        &[],
        "",
    )
    .await;
    assert_eq!(status, 404);
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_of_the_wrong_type_or_size_or_from_strangers_are_refused() {
    let relay = start().await;
    let (_visitor, token, chat) = waiting_visitor(&relay).await;
    let bearer = format!("Bearer {token}");
    let auth = ("Authorization", bearer.as_str());
    for (name, bytes, code) in [
        (
            "page.html",
            &b"<html><script>alert(1)</script>"[..],
            "file_type",
        ),
        ("logo.svg", b"<svg onload=alert(1)>", "file_type"),
        ("fake.png", b"<html>not a picture</html>", "file_type"),
    ] {
        let (status, answer) = upload(relay.addr, chat, auth, name, bytes).await;
        assert_eq!(
            (status, answer["code"].as_str()),
            (415, Some(code)),
            "{name}"
        );
    }
    let big = vec![b'a'; 10 * 1024 * 1024 + 1];
    let (status, answer) = upload(relay.addr, chat, auth, "big.txt", &big).await;
    assert_eq!((status, answer["code"].as_str()), (413, Some("too_large")));

    let stranger = format!("Bearer {}", "ab".repeat(32));
    let (status, _) = upload(relay.addr, chat, ("Authorization", &stranger), "a.png", PNG).await;
    assert_eq!(status, 404, "someone else's token finds no chat");
    let agent_cookie = relay.agent_cookie("bo@example.com", "Bo").await;
    let (status, answer) = upload(relay.addr, chat, ("Cookie", &agent_cookie), "a.png", PNG).await;
    assert_eq!((status, answer["code"].as_str()), (403, Some("not_joined")));
    assert_eq!(stored_files(&relay), 0, "nothing refused is kept");
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_policy_decides_and_a_permitted_agent_switches_uploads_live() {
    let relay = start().await;
    relay.use_profile(&profile("prevent", true), true).await;
    let (mut visitor, token, chat) = waiting_visitor(&relay).await;
    assert!(!next_uploads(&mut visitor).await);
    let bearer = format!("Bearer {token}");
    let (status, answer) = upload(relay.addr, chat, ("Authorization", &bearer), "a.png", PNG).await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (403, Some("uploads_off"))
    );

    // An agent without the permission is refused; with it, the switch reaches the
    // visitor at once.
    let (mut bo, _) = relay.agent("bo@example.com", "Bo").await;
    bo.send(json!({"type": "join", "conversation_id": chat}))
        .await;
    bo.next_of_type("joined").await;
    bo.send(json!({"type": "set_visitor_uploads", "conversation_id": chat, "allowed": true}))
        .await;
    assert_eq!(bo.next_of_type("error").await["code"], "not_allowed");
    let store = &relay.state.store;
    let mut account = store
        .agent_accounts()
        .await
        .unwrap()
        .into_iter()
        .find(|account| account.name == "Bo")
        .unwrap();
    account.can_toggle_uploads = true;
    store.update_agent(account).await.unwrap();
    let (mut bo, welcome) = relay.agent("bo@example.com", "Bo").await;
    assert_eq!(welcome["can_toggle_uploads"], true);
    bo.send(json!({"type": "set_visitor_uploads", "conversation_id": chat, "allowed": true}))
        .await;
    loop {
        if next_uploads(&mut visitor).await {
            break;
        }
    }
    let chat_line = bo.next_of_type("chat").await;
    assert_eq!(chat_line["visitor_uploads"], true);
    let (status, _) = upload(relay.addr, chat, ("Authorization", &bearer), "a.png", PNG).await;
    assert_eq!(status, 201);

    bo.send(json!({"type": "set_visitor_uploads", "conversation_id": chat, "allowed": false}))
        .await;
    loop {
        if !next_uploads(&mut visitor).await {
            break;
        }
    }
    let (status, _) = upload(relay.addr, chat, ("Authorization", &bearer), "b.png", PNG).await;
    assert_eq!(status, 403);

    // The agent in the chat can always send files.
    let cookie = relay.agent_cookie("bo@example.com", "Bo").await;
    let (status, message) = upload(
        relay.addr,
        chat,
        ("Cookie", &cookie),
        "reply.pdf",
        b"%PDF-1.4",
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(message["author"], "agent");
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_that_does_not_allow_overrides_keeps_its_policy() {
    let relay = start().await;
    relay.use_profile(&profile("allow", false), true).await;
    let (mut visitor, _token, chat) = waiting_visitor(&relay).await;
    assert!(next_uploads(&mut visitor).await);
    let (mut admin, _) = relay.agent(&relay.admin().email.clone(), "Admin").await;
    admin
        .send(json!({"type": "join", "conversation_id": chat}))
        .await;
    admin.next_of_type("joined").await;
    admin
        .send(json!({"type": "set_visitor_uploads", "conversation_id": chat, "allowed": false}))
        .await;
    let refused = admin.next_of_type("error").await;
    assert_eq!(refused["code"], "not_allowed");
    assert!(refused["message"].as_str().unwrap().contains("profile"));
    relay.stop().await;
}
