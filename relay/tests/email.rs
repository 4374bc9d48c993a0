//! Email against an SMTP sink inside the test: the settings (the password never shown
//! back), a test email, an offline message's ticket emailed to the team (after a server
//! that refused, then accepted), and an email queued but not sent when the relay
//! stopped, sent after the restart.

mod common;

use std::future::Future;

use common::smtp::{Mode, SmtpSink};
use common::{
    PATIENCE, TestRelay, Ws, json_call as call, start_allowing_loopback, start_configured,
};
use porchlight_relay::flow::{Format, Profile};
use porchlight_relay::server::DEMO_ADMIN_EMAIL;
use serde_json::{Value, json};

const OFFLINE: &str = r#"
name = "Offline"
start = "email"

[[steps]]
id = "email"
type = "input"
input = "email"
variable = "email"
text = "What email address can we reach you at?"
next = "question"

[[steps]]
id = "question"
type = "input"
input = "text"
variable = "question"
text = "What would you like to ask?"
next = "ticket"

[[steps]]
id = "ticket"
type = "action"
action = "create_ticket"
subject = "Chat question: $QUESTION"
next = "thanks"

[[steps]]
id = "thanks"
type = "action"
action = "end_chat"
text = "Thanks, we will reply to $EMAIL."
"#;

fn settings(port: u16) -> Value {
    json!({
        "host": "127.0.0.1", "port": port, "security": "none", "user": "", "password": "hunter2",
        "from": "Acme Support <support@example.com>", "team_to": "team@example.com"
    })
}

async fn admin_of(relay: &TestRelay) -> String {
    relay.agent_cookie(DEMO_ADMIN_EMAIL, "Admin").await
}

/// The offline profile, acknowledging each ticket to the visitor by email.
fn acknowledging() -> Profile {
    let text = OFFLINE.replace(
        "next = \"thanks\"",
        "acknowledgement = \"\"\"Thanks for your message: \"$QUESTION\".\n\n\
         Your ticket is $TICKETID. We usually reply within $WAITTIME minutes.\"\"\"\n\
         next = \"thanks\"",
    );
    Profile::parse(&text, Format::Toml).unwrap()
}

/// A visitor leaves a message through the offline profile; returns their socket.
async fn leave_a_message(relay: &TestRelay, question: &str) -> Ws {
    let mut visitor = relay.visitor().await;
    let welcome = visitor.hello(None, None).await;
    assert_eq!(welcome["prompt"]["step_id"], "email");
    visitor.say("v-1", "ana@example.com").await;
    visitor.say("v-2", question).await;
    visitor.next_status("ended").await;
    visitor
}

/// Waits, without a fixed sleep, until `check` holds.
async fn until<F: Future<Output = bool>>(mut check: impl FnMut() -> F) {
    tokio::time::timeout(PATIENCE, async {
        while !check().await {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the outbox got there in time");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_settings_keep_the_password_to_themselves_and_a_test_email_arrives() {
    let relay = start_allowing_loopback().await;
    let addr = relay.addr;
    let admin = admin_of(&relay).await;
    let agent = relay.agent_cookie("bo@example.com", "Bo").await;
    let mut sink = SmtpSink::start(Mode::Accept).await;

    let (status, off) = call(addr, "GET", "/api/admin/email", &admin, Value::Null).await;
    assert_eq!((status, &off["enabled"]), (200, &json!(false)));
    let (status, _) = call(addr, "PUT", "/api/admin/email", &agent, settings(sink.port)).await;
    assert_eq!(status, 403);
    let (status, saved) = call(addr, "PUT", "/api/admin/email", &admin, settings(sink.port)).await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(
        (&saved["enabled"], &saved["password_set"]),
        (&json!(true), &json!(true))
    );
    assert!(!saved.to_string().contains("hunter2"));
    let mut bad = settings(sink.port);
    bad["from"] = json!("support at example");
    let (status, body) = call(addr, "PUT", "/api/admin/email", &admin, bad).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("invalid")),
        "{body}"
    );

    let send_test = || {
        call(
            addr,
            "POST",
            "/api/admin/email/test",
            &admin,
            json!({"to": "ana@example.com"}),
        )
    };
    let (status, test) = send_test().await;
    assert_eq!((status, &test["ok"]), (200, &json!(true)), "{test}");
    let email = sink.next().await;
    assert_eq!(email.to, ["ana@example.com"]);
    assert!(
        email.data.contains("Subject: Porchlight test email"),
        "{}",
        email.data
    );
    assert!(
        email
            .data
            .contains("From: \"Acme Support\" <support@example.com>"),
        "{}",
        email.data
    );

    // A server that is not there: the test says so plainly.
    call(addr, "PUT", "/api/admin/email", &admin, settings(1)).await;
    let (_, test) = send_test().await;
    assert_eq!(test["ok"], false);
    assert!(
        test["message"]
            .as_str()
            .unwrap()
            .starts_with("Not sent: 127.0.0.1:1"),
        "{test}"
    );
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offline_message_reaches_the_team_by_email_after_the_server_refused_once() {
    let relay = start_allowing_loopback().await;
    let addr = relay.addr;
    let admin = admin_of(&relay).await;
    relay
        .use_profile(&Profile::parse(OFFLINE, Format::Toml).unwrap(), true)
        .await;
    let mut sink = SmtpSink::start(Mode::Refuse).await;
    call(addr, "PUT", "/api/admin/email", &admin, settings(sink.port)).await;

    let _visitor = leave_a_message(&relay, "Do you fix boilers on Sundays?").await;
    let outbox = || async {
        call(addr, "GET", "/api/admin/email/outbox", &admin, Value::Null)
            .await
            .1
    };
    until(|| async { outbox().await[0]["attempts"] == 1 }).await;
    let refused = outbox().await;
    assert_eq!(refused[0]["status"], "pending", "{refused}");
    assert!(
        refused[0]["last_error"].as_str().unwrap().contains("451"),
        "{refused}"
    );
    assert!(sink.is_empty());

    sink.set_mode(Mode::Accept);
    let (status, _) = call(addr, "POST", "/api/admin/email/retry", &admin, Value::Null).await;
    assert_eq!(status, 204);
    let email = sink.next().await;
    assert_eq!(email.to, ["team@example.com"]);
    assert!(
        email
            .data
            .contains("New ticket #1: Chat question: Do you fix boilers on Sundays?"),
        "{}",
        email.data
    );
    assert!(
        email.data.contains("Reply-To: ana@example.com"),
        "{}",
        email.data
    );
    assert!(
        email.data.contains("Content-Type: text/html"),
        "plain text and HTML"
    );
    assert!(
        email.data.contains("Do you fix boilers on Sundays?"),
        "the transcript is in it"
    );
    until(|| async { outbox().await[0]["status"] == "sent" }).await;
    let sent = outbox().await;
    assert_eq!(
        (&sent[0]["attempts"], &sent[0]["to"]),
        (&json!(2), &json!("team@example.com"))
    );
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_who_gave_an_email_gets_an_acknowledgement_and_the_transcript() {
    let relay = start_allowing_loopback().await;
    let admin = admin_of(&relay).await;
    relay.use_profile(&acknowledging(), true).await;
    let mut sink = SmtpSink::start(Mode::Accept).await;
    let mut with_transcripts = settings(sink.port);
    with_transcripts["transcript_at_end"] = json!(true);
    let (_, saved) = call(
        relay.addr,
        "PUT",
        "/api/admin/email",
        &admin,
        with_transcripts,
    )
    .await;
    assert_eq!(saved["transcript_at_end"], true);

    let _visitor = leave_a_message(&relay, "Can you come on Monday?").await;
    let mut emails = [sink.next().await, sink.next().await, sink.next().await];
    emails.sort_by(|a, b| a.to.cmp(&b.to));
    let (acknowledged, to_visitor, to_team) = if emails[0].data.contains("Subject: We got") {
        (&emails[0], &emails[1], &emails[2])
    } else {
        (&emails[1], &emails[0], &emails[2])
    };
    assert_eq!(acknowledged.to, ["ana@example.com"]);
    assert!(
        acknowledged
            .data
            .contains("Subject: We got your message (ticket #1)"),
        "{}",
        acknowledged.data
    );
    assert!(
        acknowledged.data.contains("Your ticket is 1."),
        "{}",
        acknowledged.data
    );
    assert!(
        !acknowledged.data.contains('$'),
        "every variable filled: {}",
        acknowledged.data
    );
    assert_eq!(
        (to_visitor.to.as_slice(), to_team.to.as_slice()),
        (
            &["ana@example.com".to_owned()][..],
            &["team@example.com".to_owned()][..]
        )
    );
    assert!(
        to_visitor.data.contains("Subject: Your chat with"),
        "{}",
        to_visitor.data
    );
    assert!(
        to_visitor.data.contains("You: Can you come on Monday?"),
        "{}",
        to_visitor.data
    );
    assert!(
        to_visitor
            .data
            .contains("Thanks, we will reply to ana@example.com."),
        "{}",
        to_visitor.data
    );
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_email_queued_when_the_relay_stopped_mid_send_is_sent_after_the_restart() {
    if common::sqlite_only(
        "on PostgreSQL an email a stopped node took waits out its two-minute claim, so another node never sends it twice",
    ) {
        return;
    }
    let relay = start_allowing_loopback().await;
    let admin = admin_of(&relay).await;
    relay
        .use_profile(&Profile::parse(OFFLINE, Format::Toml).unwrap(), true)
        .await;
    // A server that takes the connection and never answers: the send hangs...
    let silent = SmtpSink::start(Mode::Silent).await;
    call(
        relay.addr,
        "PUT",
        "/api/admin/email",
        &admin,
        settings(silent.port),
    )
    .await;
    drop(leave_a_message(&relay, "Is my boiler under warranty?").await);
    // ...while the settings move to a server that works, and the relay stops.
    let mut sink = SmtpSink::start(Mode::Accept).await;
    call(
        relay.addr,
        "PUT",
        "/api/admin/email",
        &admin,
        settings(sink.port),
    )
    .await;
    let dir = relay.stop().await;
    assert!(sink.is_empty());

    let relay = start_configured(dir, |config| {
        config.outbound_allow = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let email = sink.next().await;
    assert!(
        email.data.contains("Is my boiler under warranty?"),
        "{}",
        email.data
    );
    let admin = admin_of(&relay).await;
    let outbox = || async {
        call(
            relay.addr,
            "GET",
            "/api/admin/email/outbox",
            &admin,
            Value::Null,
        )
        .await
        .1
    };
    until(|| async { outbox().await[0]["status"] == "sent" }).await;
    assert_eq!(
        outbox().await[0]["attempts"],
        1,
        "the interrupted try never counted"
    );
    assert!(sink.is_empty(), "sent once");
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_asks_for_the_transcript_by_email_a_few_times_a_day_at_most() {
    let relay = start_allowing_loopback().await;
    let admin = admin_of(&relay).await;
    relay
        .use_profile(&Profile::parse(OFFLINE, Format::Toml).unwrap(), true)
        .await;
    let ask = |email: &str| json!({"type": "email_transcript", "email": email});

    // No SMTP server saved: the widget is not offered it, and the relay refuses it.
    let mut visitor = leave_a_message(&relay, "Where is my parcel?").await;
    let refused = visitor
        .answer(ask("bo@example.com"), "transcript_queued")
        .await;
    assert_eq!(refused["code"], "not_allowed", "{refused}");

    let mut sink = SmtpSink::start(Mode::Accept).await;
    call(
        relay.addr,
        "PUT",
        "/api/admin/email",
        &admin,
        settings(sink.port),
    )
    .await;
    let mut visitor = relay.visitor().await;
    let welcome = visitor.hello(None, None).await;
    assert_eq!(welcome["profile"]["email_transcript"], true);
    drop(visitor);

    let mut visitor = leave_a_message(&relay, "Where is my parcel?").await;
    let team = sink.next().await;
    assert_eq!(team.to, ["team@example.com"], "the ticket's email first");
    let bad = visitor
        .answer(ask("bo at example"), "transcript_queued")
        .await;
    assert_eq!(bad["code"], "bad_frame", "{bad}");
    for _ in 0..3 {
        let queued = visitor
            .answer(ask(" bo@example.com "), "transcript_queued")
            .await;
        assert_eq!(queued["email"], "bo@example.com", "{queued}");
        let email = sink.next().await;
        assert_eq!(email.to, ["bo@example.com"]);
        assert!(
            email.data.contains("You: Where is my parcel?"),
            "{}",
            email.data
        );
    }
    let capped = visitor
        .answer(ask("BO@example.com"), "transcript_queued")
        .await;
    assert_eq!(capped["code"], "not_allowed", "a fourth in a day: {capped}");
    // One network asks five times an hour, whatever addresses it names.
    let fifth = visitor
        .answer(ask("cy@example.com"), "transcript_queued")
        .await;
    assert_eq!(fifth["email"], "cy@example.com", "{fifth}");
    assert_eq!(sink.next().await.to, ["cy@example.com"]);
    let sixth = visitor
        .answer(ask("di@example.com"), "transcript_queued")
        .await;
    assert!(
        sixth["message"]
            .as_str()
            .is_some_and(|message| message.starts_with("Too many transcripts")),
        "{sixth}"
    );
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agents_reply_on_a_ticket_is_kept_and_emailed_to_its_requester() {
    let relay = start_allowing_loopback().await;
    let admin = admin_of(&relay).await;
    relay
        .use_profile(&Profile::parse(OFFLINE, Format::Toml).unwrap(), true)
        .await;
    let reply = |body: &str| json!({ "body": body });

    // Email off: the reply stays on the ticket.
    let _visitor = leave_a_message(&relay, "Can you fix a tap?").await;
    let (status, kept) = call(
        relay.addr,
        "POST",
        "/api/tickets/1/replies",
        &admin,
        reply("Noted."),
    )
    .await;
    assert_eq!(status, 201, "{kept}");
    assert!(kept.get("emailed_to").is_none(), "{kept}");

    let mut sink = SmtpSink::start(Mode::Accept).await;
    call(
        relay.addr,
        "PUT",
        "/api/admin/email",
        &admin,
        settings(sink.port),
    )
    .await;
    let (_, detail) = call(relay.addr, "GET", "/api/tickets/1", &admin, Value::Null).await;
    assert_eq!(
        detail["requester_email"], "ana@example.com",
        "the chat's address"
    );
    let (status, empty) = call(
        relay.addr,
        "POST",
        "/api/tickets/1/replies",
        &admin,
        reply("  "),
    )
    .await;
    assert_eq!(
        (status, empty["code"].as_str()),
        (422, Some("invalid")),
        "{empty}"
    );
    let (status, queued) = call(
        relay.addr,
        "POST",
        "/api/tickets/1/replies",
        &admin,
        reply("We can come on Monday at 9.\n\nPlease leave <the key> with a neighbour."),
    )
    .await;
    assert_eq!(status, 201, "{queued}");
    assert_eq!(queued["emailed_to"], "ana@example.com");
    assert_eq!(queued["note"]["kind"], "reply");
    assert_eq!(queued["note"]["author"], "Admin");
    let email = sink.next().await;
    assert_eq!(email.to, ["ana@example.com"]);
    for expected in [
        "Subject: Re: Chat question: Can you fix a tap? (ticket #1)",
        "Reply-To: team@example.com",
        "We can come on Monday at 9.",
        "&lt;the key&gt;",
    ] {
        assert!(
            email.data.contains(expected),
            "{expected:?} in {}",
            email.data
        );
    }
    let (_, detail) = call(relay.addr, "GET", "/api/tickets/1", &admin, Value::Null).await;
    let replies: Vec<&Value> = detail["notes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|note| note["kind"] == "reply")
        .collect();
    assert_eq!(replies.len(), 2, "both replies are on the ticket: {detail}");

    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_opened_for_someone_emails_its_replies_to_the_address_given() {
    let relay = start_allowing_loopback().await;
    let admin = admin_of(&relay).await;
    let reply = |body: &str| json!({ "body": body });
    let mut sink = SmtpSink::start(Mode::Accept).await;
    call(
        relay.addr,
        "PUT",
        "/api/admin/email",
        &admin,
        settings(sink.port),
    )
    .await;
    // Someone who wrote in another way, say by phone.
    let (status, bad) = call(
        relay.addr,
        "POST",
        "/api/tickets",
        &admin,
        json!({"subject": "Phone call", "requester_email": "bo at example"}),
    )
    .await;
    assert_eq!(
        (status, bad["code"].as_str()),
        (422, Some("invalid")),
        "{bad}"
    );
    let (_, opened) = call(
        relay.addr,
        "POST",
        "/api/tickets",
        &admin,
        json!({"subject": "Phone call", "requester_email": "bo@example.com"}),
    )
    .await;
    let path = format!("/api/tickets/{}/replies", opened["id"]);
    let (_, queued) = call(relay.addr, "POST", &path, &admin, reply("Called you back.")).await;
    assert_eq!(queued["emailed_to"], "bo@example.com");
    assert_eq!(sink.next().await.to, ["bo@example.com"]);
    let (status, _) = call(
        relay.addr,
        "POST",
        "/api/tickets/99/replies",
        &admin,
        reply("?"),
    )
    .await;
    assert_eq!(status, 404);
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_writes_its_own_transcript_email_with_the_variables_named() {
    let relay = start_allowing_loopback().await;
    let admin = admin_of(&relay).await;
    relay
        .use_profile(&Profile::parse(OFFLINE, Format::Toml).unwrap(), true)
        .await;
    let mut sink = SmtpSink::start(Mode::Accept).await;
    call(
        relay.addr,
        "PUT",
        "/api/admin/email",
        &admin,
        settings(sink.port),
    )
    .await;
    let path = "/api/admin/sites/demo/email-templates";
    let (status, listed) = call(relay.addr, "GET", path, &admin, Value::Null).await;
    assert_eq!(status, 200, "{listed}");
    let kinds: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["new_ticket", "transcript", "ticket_reply"]);
    assert_eq!(listed[1]["subject"], "Your chat with $TITLE (#$CHATID)");
    assert_eq!(listed[1]["custom"], false);
    assert_eq!(listed[1]["variables"][2][0], "$TRANSCRIPT");

    let save = |body: Value| {
        call(
            relay.addr,
            "PUT",
            "/api/admin/sites/demo/email-templates/transcript",
            &admin,
            body,
        )
    };
    let (status, wrong) =
        save(json!({"subject": "Chat $CHATID", "body": "$TRANSCRIPT by $AGENT"})).await;
    assert_eq!(status, 422);
    assert!(
        wrong["message"]
            .as_str()
            .unwrap()
            .starts_with("$AGENT is not filled"),
        "{wrong}"
    );
    let (status, _) =
        save(json!({"subject": "Chat\nBcc: x@example.com", "body": "$TRANSCRIPT"})).await;
    assert_eq!(status, 422, "a subject is one line");
    let (status, _) = call(
        relay.addr,
        "PUT",
        "/api/admin/sites/demo/email-templates/invoice",
        &admin,
        json!({"subject": "x", "body": "y"}),
    )
    .await;
    assert_eq!(status, 404);
    let (status, saved) = save(json!({
        "subject": "Acme Plumbing: your chat #$CHATID",
        "body": "Hello from Acme!\n\n$TRANSCRIPT\n\nCall us on 0123 456 789."
    }))
    .await;
    assert_eq!((status, &saved["custom"]), (200, &json!(true)), "{saved}");

    let mut visitor = leave_a_message(&relay, "Is the tap fixed?").await;
    assert_eq!(sink.next().await.to, ["team@example.com"]);
    visitor
        .answer(
            json!({"type": "email_transcript", "email": "ana@example.com"}),
            "transcript_queued",
        )
        .await;
    let email = sink.next().await;
    for expected in [
        "Subject: Acme Plumbing: your chat #",
        "Hello from Acme!",
        "You: Is the tap fixed?",
        "Call us on 0123 456 789.",
    ] {
        assert!(
            email.data.contains(expected),
            "{expected:?} in {}",
            email.data
        );
    }

    // Both fields empty: back to the default.
    let (_, reset) = save(json!({"subject": "", "body": ""})).await;
    assert_eq!(reset["custom"], false);
    assert_eq!(reset["subject"], "Your chat with $TITLE (#$CHATID)");
    let (_, as_shown) = save(json!({"subject": reset["subject"], "body": reset["body"]})).await;
    assert_eq!(
        as_shown["custom"], false,
        "the default saved as shown stays the default"
    );
    let agent = relay.agent_cookie("bo@example.com", "Bo").await;
    let (status, _) = call(relay.addr, "GET", path, &agent, Value::Null).await;
    assert_eq!(status, 403, "admins only");
    relay.stop().await;
}
