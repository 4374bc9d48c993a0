//! The host page says who the visitor is; the site's server proves it with the
//! site's secret (an HS256 JWT, or the hex HMAC of the user id). A proven visitor's
//! chats follow them to any browser and are shown to nobody without a proof; an
//! anonymous chat becomes theirs when they identify mid-chat; the three `identified`
//! options of a profile do what they say. The tokens here are made with `hmac` and
//! `base64` directly, not with the relay's code.

mod common;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{TestRelay, Ws, json_call, post_multipart, start};
use hmac::{Hmac, Mac};
use porchlight_relay::store::{SiteChange, now_ms};
use serde_json::{Value, json};
use sha2::Sha256;

fn mac(secret: &str, message: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

fn jwt(secret: &str, claims: &Value) -> String {
    let head = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let body = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signature = URL_SAFE_NO_PAD.encode(mac(secret, format!("{head}.{body}").as_bytes()));
    format!("{head}.{body}.{signature}")
}

fn user_hash(secret: &str, user_id: &str) -> String {
    mac(secret, user_id.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// A token for `user` that is good for an hour.
fn token_for(secret: &str, user: &str, name: &str) -> String {
    jwt(
        secret,
        &json!({"sub": user, "name": name, "email": format!("{user}@example.com"),
                "exp": now_ms() / 1000 + 3600}),
    )
}

/// The demo site's secret, after setting whether it requires verified identity.
async fn demo_site(relay: &TestRelay, require_verified: bool) -> String {
    let store = &relay.state.store;
    let site = store.site_by_key("demo").await.unwrap().unwrap();
    store
        .update_site(
            site.id,
            SiteChange {
                name: site.name,
                allowed_origins: site.allowed_origins,
                default_profile_id: site.default_profile_id,
                retention_days: site.retention_days,
                require_verified_identity: require_verified,
            },
        )
        .await
        .unwrap();
    site.secret
}

/// A profile whose chats go straight to the queue; files per `attachments`.
async fn live_chat(relay: &TestRelay, access: &str, attachments: &str) {
    let definition = json!({"name": "Live", "access": access, "start": "live", "steps": [
        {"id": "live", "type": "action", "action": "start_live_chat", "attachments": attachments}
    ]});
    relay
        .save_profile("Live", definition.to_string(), true)
        .await;
}

async fn hello(ws: &mut Ws, token: Option<&str>, identity: Option<Value>) -> Value {
    let mut hello = json!({"type": "hello", "v": 1, "site": "demo"});
    if let Some(token) = token {
        hello["token"] = json!(token);
    }
    if let Some(identity) = identity {
        hello["identity"] = identity;
    }
    ws.send(hello).await;
    ws.next_json().await
}

/// The hello is refused with `code` and the socket closes, with nothing shown.
async fn refused(relay: &TestRelay, token: Option<&str>, identity: Value, code: &str) {
    let mut ws = relay.visitor().await;
    let answer = hello(&mut ws, token, Some(identity)).await;
    assert_eq!(answer["code"], code, "{answer}");
    assert!(
        ws.next().await.is_none(),
        "the socket closes, showing nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proven_visitor_finds_their_chat_on_another_browser_and_nobody_else_does() {
    let relay = start().await;
    let secret = demo_site(&relay, true).await;
    live_chat(&relay, "anyone", "prevent").await;
    let token = token_for(&secret, "user-42", "Ana Lima");

    let mut laptop = relay.visitor().await;
    let welcome = hello(&mut laptop, None, Some(json!({"token": token}))).await;
    assert_eq!(welcome["type"], "welcome", "{welcome}");
    let laptop_token = welcome["token"].as_str().unwrap().to_owned();
    let chat = laptop.say("m1", "My boiler is making a noise").await["conversation_id"]
        .as_i64()
        .unwrap();

    let mut phone = relay.visitor().await;
    let welcome = hello(&mut phone, None, Some(json!({"token": token}))).await;
    assert_eq!(
        welcome["conversation"]["id"], chat,
        "the same chat on the phone"
    );
    phone.next_message("My boiler is making a noise").await;
    assert_ne!(
        welcome["token"], laptop_token,
        "each browser keeps its own token"
    );

    // Forged, borrowed for another user, expired, or missing where required.
    refused(
        &relay,
        None,
        json!({"token": token_for("not-the-secret", "user-42", "Ana")}),
        "identity_refused",
    )
    .await;
    refused(
        &relay,
        None,
        json!({"user_id": "user-7", "token": token}),
        "identity_refused",
    )
    .await;
    let stale = jwt(
        &secret,
        &json!({"sub": "user-42", "exp": now_ms() / 1000 - 3600}),
    );
    refused(&relay, None, json!({"token": stale}), "identity_expired").await;
    refused(
        &relay,
        None,
        json!({"user_id": "user-42"}),
        "identity_refused",
    )
    .await;
    refused(
        &relay,
        Some(&laptop_token),
        json!({"user_id": "user-42", "token": "00"}),
        "identity_refused",
    )
    .await;

    // The laptop's token alone, without a proof (signed out): a new, empty visitor.
    let mut signed_out = relay.visitor().await;
    let welcome = hello(&mut signed_out, Some(&laptop_token), None).await;
    assert_eq!(welcome["type"], "welcome");
    assert!(welcome.get("conversation").is_none(), "{welcome}");
    assert_ne!(welcome["token"], laptop_token);
    // Resuming the chat by its id shows nothing either.
    let mut resuming = relay.visitor().await;
    resuming
        .send(
            json!({"type": "hello", "v": 1, "site": "demo", "token": laptop_token,
                     "resume": {"conversation_id": chat, "last_seq": 0}}),
        )
        .await;
    let welcome = resuming.next_json().await;
    assert_eq!(welcome["type"], "welcome");
    assert!(welcome.get("conversation").is_none(), "{welcome}");

    // The HMAC of the user id proves the same user.
    let mut tablet = relay.visitor().await;
    let hashed = json!({"user_id": "user-42", "token": user_hash(&secret, "user-42")});
    let welcome = hello(&mut tablet, None, Some(hashed)).await;
    assert_eq!(welcome["conversation"]["id"], chat);
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_anonymous_chat_becomes_the_users_when_they_identify_mid_chat() {
    let relay = start().await;
    let secret = demo_site(&relay, true).await;
    live_chat(&relay, "anyone", "prevent").await;
    let mut visitor = relay.visitor().await;
    hello(&mut visitor, None, None).await;
    let chat = visitor.say("m1", "Where is my order?").await["conversation_id"]
        .as_i64()
        .unwrap();

    let bad = visitor
        .answer(
            json!({"type": "identify", "identity": {"user_id": "user-9"}}),
            "welcome",
        )
        .await;
    assert_eq!(bad["code"], "identity_refused", "a user id without a token");
    let identity = json!({"user_id": "user-9", "token": user_hash(&secret, "user-9"),
        "name": "Bea Costa", "company": "Costa Ltd", "traits": {"plan": "Pro"},
        "context": {"order": {"label": "Last order", "value": "#1042\nshipped Monday"}}});
    visitor
        .send(json!({"type": "identify", "identity": identity}))
        .await;
    // Still the same chat: the next message lands in it.
    assert_eq!(visitor.say("m2", "Thanks").await["conversation_id"], chat);

    let cookie = relay.agent_cookie(&relay.admin().email, "Admin").await;
    let (status, contact) = json_call(
        relay.addr,
        "GET",
        &format!("/api/conversations/{chat}/contact"),
        &cookie,
        Value::Null,
    )
    .await;
    assert_eq!(status, 200, "{contact}");
    assert_eq!(contact["name"], "Bea Costa");
    assert_eq!(contact["user_id"], "user-9");
    assert_eq!(contact["verified"], true);
    assert_eq!(contact["company"], "Costa Ltd");
    assert_eq!(contact["traits"]["plan"], "Pro");
    assert_eq!(contact["context"]["order"]["label"], "Last order");

    // Another browser, proven as user-9, sees the upgraded chat.
    let mut other = relay.visitor().await;
    let welcome = hello(
        &mut other,
        None,
        Some(json!({"user_id": "user-9",
        "token": user_hash(&secret, "user-9")})),
    )
    .await;
    assert_eq!(welcome["conversation"]["id"], chat);
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identifying_as_a_user_with_a_chat_elsewhere_switches_the_socket_to_it() {
    let relay = start().await;
    let secret = demo_site(&relay, false).await;
    live_chat(&relay, "anyone", "prevent").await;
    let token = token_for(&secret, "user-5", "Cai");
    let mut laptop = relay.visitor().await;
    hello(&mut laptop, None, Some(json!({"token": token}))).await;
    let chat = laptop.say("m1", "Hello from the laptop").await["conversation_id"]
        .as_i64()
        .unwrap();

    let mut phone = relay.visitor().await;
    phone
        .send(json!({"type": "hello", "v": 1, "site": "demo", "languages": ["fr-CA"]}))
        .await;
    let welcome = phone.next_json().await;
    assert!(welcome.get("conversation").is_none());
    let welcome = phone
        .answer(
            json!({"type": "identify", "identity": {"token": token}}),
            "welcome",
        )
        .await;
    assert_eq!(welcome["conversation"]["id"], chat, "{welcome}");
    assert_eq!(
        welcome["profile"]["language"], "fr",
        "the new welcome speaks the phone's language"
    );
    phone.next_message("Hello from the laptop").await;
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_for_identified_visitors_admits_them_and_no_one_else() {
    let relay = start().await;
    let secret = demo_site(&relay, true).await;
    live_chat(&relay, "identified", "prevent").await;
    let mut anonymous = relay.visitor().await;
    assert_eq!(
        hello(&mut anonymous, None, None).await["code"],
        "identity_required"
    );
    let mut context_only = relay.visitor().await;
    let answer = hello(&mut context_only, None, Some(json!({"name": "Dee"}))).await;
    assert_eq!(
        answer["code"], "identity_required",
        "a name is not an identity"
    );
    let mut member = relay.visitor().await;
    let welcome = hello(
        &mut member,
        None,
        Some(json!({"token": token_for(&secret, "m-1", "Eve")})),
    )
    .await;
    assert_eq!(welcome["type"], "welcome", "{welcome}");
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_flows_identified_condition_and_name_follow_the_identity() {
    let relay = start().await;
    demo_site(&relay, false).await;
    let text = "name = \"Members\"\nstart = \"check\"\n\
        [[steps]]\nid = \"check\"\ntype = \"condition\"\nwhen = { test = \"identified\" }\nthen = \"member\"\nelse = \"guest\"\n\
        [[steps]]\nid = \"member\"\ntype = \"message\"\ntext = \"Welcome back, $NAME ($EMAIL).\"\nnext = \"ask\"\n\
        [[steps]]\nid = \"guest\"\ntype = \"message\"\ntext = \"Hello, guest.\"\nnext = \"ask\"\n\
        [[steps]]\nid = \"ask\"\ntype = \"input\"\ninput = \"text\"\nvariable = \"topic\"\ntext = \"What is it about?\"\nnext = \"live\"\n\
        [[steps]]\nid = \"live\"\ntype = \"action\"\naction = \"start_live_chat\"\n";
    let profile =
        porchlight_relay::flow::Profile::parse(text, porchlight_relay::flow::Format::Toml).unwrap();
    relay.use_profile(&profile, true).await;

    let mut guest = relay.visitor().await;
    hello(&mut guest, None, None).await;
    guest.next_message("Hello, guest.").await;

    let mut member = relay.visitor().await;
    let identity = json!({"user_id": "u-3", "name": "Fay", "email": "fay@example.com"});
    hello(&mut member, None, Some(identity)).await;
    member
        .next_message("Welcome back, Fay (fay@example.com).")
        .await;
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identified_file_sending_needs_an_identity_and_a_live_proof() {
    let relay = start().await;
    let secret = demo_site(&relay, true).await;
    live_chat(&relay, "anyone", "identified").await;

    let mut anonymous = relay.visitor().await;
    let welcome = hello(&mut anonymous, None, None).await;
    let anonymous_token = welcome["token"].as_str().unwrap().to_owned();
    let chat = anonymous.say("a1", "Here is a scan").await["conversation_id"]
        .as_i64()
        .unwrap();
    let status = anonymous.next_of_type("uploads").await;
    assert_eq!(status["allowed"], false, "anonymous visitors send no files");
    let bearer = format!("Bearer {anonymous_token}");
    let (code, _) = post_multipart(relay.addr, chat, ("Authorization", &bearer), &pdf_body()).await;
    assert_eq!(code, 403);

    let token = token_for(&secret, "user-8", "Gil");
    let mut member = relay.visitor().await;
    let welcome = hello(&mut member, None, Some(json!({"token": token}))).await;
    let member_token = welcome["token"].as_str().unwrap().to_owned();
    let chat = member.say("b1", "Here is a scan").await["conversation_id"]
        .as_i64()
        .unwrap();
    assert_eq!(member.next_of_type("uploads").await["allowed"], true);
    let bearer = format!("Bearer {member_token}");
    let (code, answer) =
        post_multipart(relay.addr, chat, ("Authorization", &bearer), &pdf_body()).await;
    assert_eq!(
        (code, answer["code"].as_str()),
        (403, Some("identity_refused")),
        "no proof"
    );
    let (code, answer) = post_with_proof(&relay, chat, &member_token, &token).await;
    assert_eq!(code, 201, "{answer}");
    let forged = token_for("not-the-secret", "user-8", "Gil");
    let (code, _) = post_with_proof(&relay, chat, &member_token, &forged).await;
    assert_eq!(code, 403);
    let someone_else = token_for(&secret, "user-99", "Hal");
    let (code, _) = post_with_proof(&relay, chat, &member_token, &someone_else).await;
    assert_eq!(code, 403, "a proof for another user");
    relay.stop().await;
}

fn pdf_body() -> Vec<u8> {
    common::multipart_body(&[common::multipart_field(
        "file",
        Some("scan.pdf"),
        b"%PDF-1.7 scan",
    )])
}

/// Posts a PDF with the visitor's token and `Porchlight-Identity`.
async fn post_with_proof(relay: &TestRelay, chat: i64, token: &str, proof: &str) -> (u16, Value) {
    let body = String::from_utf8(pdf_body()).unwrap();
    let (status, _, answer) = common::http(
        relay.addr,
        "POST",
        &format!("/api/v1/conversations/{chat}/attachments"),
        &[
            ("Authorization", &format!("Bearer {token}")),
            ("Porchlight-Identity", proof),
            (
                "Content-Type",
                &format!("multipart/form-data; boundary={}", common::BOUNDARY),
            ),
        ],
        &body,
    )
    .await;
    (status, serde_json::from_str(&answer).unwrap_or(Value::Null))
}
