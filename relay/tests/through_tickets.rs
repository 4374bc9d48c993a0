//! Live chat "through tickets": a waiting chat gets a ticket and rings for nobody;
//! agents join from the ticket, and with "agent must be assigned to the linked
//! ticket to join" only the ticket's agent may.

mod common;

use common::{TestRelay, Ws, agent_in, http, json_call, start};
use porchlight_relay::store::ChatRules;
use serde_json::{Value, json};

/// An agent of Support with a console open: the socket, a session cookie and their id.
async fn agent_in_support(relay: &TestRelay, email: &str, name: &str) -> (Ws, String, i64) {
    let (ws, welcome) = agent_in(relay, email, name, &["Support"]).await;
    let cookie = relay.agent_cookie(email, name).await;
    (ws, cookie, welcome["agent"]["id"].as_i64().unwrap())
}

/// Frames an agent got before the relay answered a status request (which it reads
/// only once the agent's queue is empty).
async fn frames_until_settled(agent: &mut Ws) -> Vec<Value> {
    agent
        .send(json!({"type": "set_status", "status_id": 1}))
        .await;
    let mut frames = Vec::new();
    loop {
        let frame = agent.next().await.unwrap();
        if frame["type"] == "my_status" {
            return frames;
        }
        frames.push(frame);
    }
}

async fn tickets(relay: &TestRelay, cookie: &str) -> Value {
    let (status, _, body) =
        http(relay.addr, "GET", "/api/tickets", &[("Cookie", cookie)], "").await;
    assert_eq!(status, 200);
    serde_json::from_str(&body).unwrap()
}

async fn assign(relay: &TestRelay, cookie: &str, ticket: i64, agent: Option<i64>) -> u16 {
    let body = json!({ "agent_id": agent }).to_string();
    let (status, _, _) = http(
        relay.addr,
        "PUT",
        &format!("/api/tickets/{ticket}/agent"),
        &[("Cookie", cookie), ("Content-Type", "application/json")],
        &body,
    )
    .await;
    status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[expect(
    clippy::too_many_lines,
    reason = "one user story, read from start to end"
)]
async fn a_waiting_chat_gets_a_ticket_and_only_its_agent_joins() {
    if common::sqlite_only("changes a ticket with SQL on SQLite's file") {
        return;
    }
    let relay = start().await;
    relay
        .state
        .store
        .set_chat_rules(ChatRules {
            through_tickets: true,
            ticket_agent_only: true,
            ..ChatRules::default()
        })
        .await
        .unwrap();
    let (mut ana, ana_cookie, _) = agent_in_support(&relay, "ana@example.com", "Ana").await;
    let (mut bo, bo_cookie, bo_id) = agent_in_support(&relay, "bo@example.com", "Bo").await;

    let mut visitor = relay.visitor().await;
    visitor.hello(None, None).await;
    let chat = visitor.say("v-1", "My order is late").await["conversation_id"]
        .as_i64()
        .unwrap();
    for agent in [&mut ana, &mut bo] {
        // Neither may see the chat, yet both Tickets pages are told to reload.
        let mut frames = Vec::new();
        loop {
            let frame = agent.next().await.unwrap();
            if frame == json!({"type": "tickets_changed"}) {
                break;
            }
            frames.push(frame);
        }
        frames.extend(frames_until_settled(agent).await);
        assert!(
            frames.iter().all(|frame| frame["type"] != "ring"),
            "nothing rings through tickets: {frames:?}"
        );
    }

    let list = tickets(&relay, &ana_cookie).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let ticket = &list[0];
    assert!(
        ticket["subject"]
            .as_str()
            .unwrap()
            .starts_with("Chat with Visitor")
    );
    assert_eq!(ticket["team"], "Support");
    assert_eq!(
        ticket["chat"],
        json!({"conversation_id": chat, "status": "queued"})
    );
    assert!(ticket.get("agent").is_none());
    let ticket_id = ticket["id"].as_i64().unwrap();

    ana.send(json!({"type": "join", "conversation_id": chat}))
        .await;
    assert_eq!(ana.next_of_type("error").await["code"], "not_allowed");

    assert_eq!(
        assign(&relay, &ana_cookie, ticket_id, Some(bo_id)).await,
        403,
        "agents take tickets for themselves only"
    );
    // A ticket without a team takes the team of the agent who takes it.
    let mut account = relay
        .state
        .store
        .agent_accounts()
        .await
        .unwrap()
        .into_iter()
        .find(|account| account.id == bo_id)
        .unwrap();
    account.default_team = Some("Support".into());
    relay.state.store.update_agent(account).await.unwrap();
    rusqlite::Connection::open(relay.state.config.data_dir.join("porchlight.sqlite3"))
        .unwrap()
        .execute("UPDATE tickets SET team = NULL", [])
        .unwrap();
    assert_eq!(
        assign(&relay, &bo_cookie, ticket_id, Some(bo_id)).await,
        204
    );
    let taken = &tickets(&relay, &bo_cookie).await[0];
    assert_eq!(
        (&taken["agent"]["name"], &taken["team"]),
        (&json!("Bo"), &json!("Support"))
    );
    ana.send(json!({"type": "join", "conversation_id": chat}))
        .await;
    assert_eq!(ana.next_of_type("error").await["code"], "not_allowed");
    bo.send(json!({"type": "join", "conversation_id": chat}))
        .await;
    assert_eq!(bo.next_of_type("joined").await["conversation_id"], chat);
    assert_eq!(
        tickets(&relay, &bo_cookie).await[0]["chat"]["status"],
        "active"
    );

    // When the chat ends, its transcript is added to the ticket.
    bo.send(json!({"type": "send", "conversation_id": chat, "client_msg_id": "b-1", "body": "It ships today."}))
        .await;
    bo.next_of_type("ack").await;
    bo.send(json!({"type": "end_chat", "conversation_id": chat}))
        .await;
    bo.next_message("Bo ended the chat").await;
    let (status, _, body) = http(
        relay.addr,
        "GET",
        &format!("/api/tickets/{ticket_id}"),
        &[("Cookie", &bo_cookie)],
        "",
    )
    .await;
    assert_eq!(status, 200);
    let detail: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        detail["chats"],
        json!([{"conversation_id": chat, "status": "ended"}])
    );
    let transcript = detail["notes"][0]["body"].as_str().unwrap();
    assert_eq!(detail["notes"][0]["kind"], "transcript");
    assert!(
        transcript.contains("] Visitor: My order is late"),
        "{transcript}"
    );
    assert!(transcript.contains("] Bo: It ships today."), "{transcript}");
    let lines: Vec<&str> = transcript.lines().collect();
    assert!(lines.last().unwrap().ends_with("Bo ended the chat"));
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_assignment_rule_any_agent_joins_from_the_ticket() {
    let relay = start().await;
    relay
        .state
        .store
        .set_chat_rules(ChatRules {
            through_tickets: true,
            ..ChatRules::default()
        })
        .await
        .unwrap();
    let (mut ana, ana_cookie, _) = agent_in_support(&relay, "ana@example.com", "Ana").await;
    let mut visitor = relay.visitor().await;
    visitor.hello(None, None).await;
    let chat = visitor.say("v-1", "Hello").await["conversation_id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        tickets(&relay, &ana_cookie).await[0]["chat"]["conversation_id"],
        chat
    );
    ana.send(json!({"type": "join", "conversation_id": chat}))
        .await;
    assert_eq!(ana.next_of_type("joined").await["conversation_id"], chat);

    // An own-level agent sees only tickets assigned to them.
    let cy_cookie = relay.agent_cookie("cy@example.com", "Cy").await;
    let cy = relay
        .state
        .store
        .agent_by_email("cy@example.com")
        .await
        .unwrap()
        .unwrap();
    relay
        .state
        .store
        .set_agent_access(cy.id, porchlight_relay::store::AccessLevel::Own)
        .await
        .unwrap();
    assert_eq!(tickets(&relay, &cy_cookie).await, json!([]));
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[expect(
    clippy::too_many_lines,
    reason = "one user story, read from start to end"
)]
async fn agents_open_tickets_set_categories_and_close_them() {
    let relay = start().await;
    let admin = relay
        .agent_cookie(&relay.admin().email.clone(), "Admin")
        .await;
    let (_ana_socket, ana, _) = agent_in_support(&relay, "ana@example.com", "Ana").await;

    let outcome = json!({"name": "Outcome", "values": ["Solved", "No reply"]});
    assert_eq!(
        json_call(
            relay.addr,
            "POST",
            "/api/admin/categories",
            &ana,
            outcome.clone()
        )
        .await
        .0,
        403
    );
    assert_eq!(
        json_call(
            relay.addr,
            "POST",
            "/api/admin/categories",
            &admin,
            outcome.clone()
        )
        .await
        .0,
        201
    );
    assert_eq!(
        json_call(relay.addr, "POST", "/api/admin/categories", &admin, outcome)
            .await
            .0,
        409
    );
    let empty = json!({"name": "Empty", "values": []});
    assert_eq!(
        json_call(relay.addr, "POST", "/api/admin/categories", &admin, empty)
            .await
            .0,
        422
    );
    let (_, _, body) = http(
        relay.addr,
        "GET",
        "/api/ticket-categories",
        &[("Cookie", &ana)],
        "",
    )
    .await;
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!([{"name": "Outcome", "values": ["Solved", "No reply"]}])
    );

    let (status, made) = json_call(
        relay.addr,
        "POST",
        "/api/tickets",
        &ana,
        json!({"subject": "Call back Mrs Jones", "team": "Support"}),
    )
    .await;
    assert_eq!(status, 201);
    let id = made["id"].as_i64().unwrap();
    let path = |tail: &str| format!("/api/tickets/{id}{tail}");
    assert_eq!(
        json_call(
            relay.addr,
            "PUT",
            &path("/categories"),
            &ana,
            json!({"Outcome": "Maybe"})
        )
        .await
        .0,
        422,
        "only the category's values"
    );
    assert_eq!(
        json_call(
            relay.addr,
            "PUT",
            &path("/categories"),
            &ana,
            json!({"Outcome": "Solved"})
        )
        .await
        .0,
        204
    );
    assert_eq!(
        json_call(
            relay.addr,
            "PUT",
            &path("/status"),
            &ana,
            json!({"status": "closed"})
        )
        .await
        .0,
        204
    );
    assert_eq!(
        json_call(
            relay.addr,
            "PUT",
            &path("/status"),
            &ana,
            json!({"status": "gone"})
        )
        .await
        .0,
        422
    );
    let (_, _, body) = http(relay.addr, "GET", &path(""), &[("Cookie", &ana)], "").await;
    let detail: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(detail["ticket"]["subject"], "Call back Mrs Jones");
    assert_eq!(detail["ticket"]["status"], "closed");
    assert_eq!(
        detail["ticket"]["agent"]["name"], "Ana",
        "a ticket an agent opens is theirs"
    );
    assert_eq!(detail["ticket"]["team"], "Support");
    assert_eq!(detail["categories"], json!({"Outcome": "Solved"}));
    assert_eq!(
        json_call(
            relay.addr,
            "POST",
            "/api/tickets",
            &ana,
            json!({"subject": " "})
        )
        .await
        .0,
        422
    );
    relay.stop().await;
}
