//! Automatic assignment over real sockets: a team set to round robin gives ten chats
//! 5/5 to its two agents without ringing; least busy respects capacity, and a chat
//! nobody can take waits for the first agent with room.

mod common;

use common::{Ws, agent_in, json_call as call, start, waiting_chat};
use serde_json::{Value, json};

/// The chats assigned to this console, in order, until `count` of them; no ring comes.
async fn assigned(agent: &mut Ws, count: usize) -> Vec<i64> {
    let mut chats = Vec::new();
    while chats.len() < count {
        let frame = agent.next_json().await;
        assert_ne!(frame["type"], "ring", "an assigning team rang: {frame}");
        if frame["type"] == "assigned" {
            chats.push(frame["conversation_id"].as_i64().unwrap());
        }
    }
    chats
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[expect(
    clippy::too_many_lines,
    reason = "one team's day, read from start to end"
)]
async fn round_robin_spreads_ten_chats_five_and_five_and_least_busy_respects_capacity() {
    let relay = start().await;
    let addr = relay.addr;
    let store = &relay.state.store;
    let admin = relay
        .agent_cookie(&relay.admin().email.clone(), "Admin")
        .await;
    let (mut ana, _) = agent_in(&relay, "ana@example.com", "Ana", &["Support"]).await;
    let (mut bo, _) = agent_in(&relay, "bo@example.com", "Bo", &["Support"]).await;
    let id_of =
        |email: &'static str| async move { store.agent_by_email(email).await.unwrap().unwrap().id };
    let (ana_id, bo_id) = (
        id_of("ana@example.com").await,
        id_of("bo@example.com").await,
    );

    let bo_cookie = relay.agent_cookie("bo@example.com", "Bo").await;
    let set = |assignment: &'static str| json!({"assignment": assignment});
    let (status, _) = call(
        addr,
        "PUT",
        "/api/admin/assignment/Support",
        &bo_cookie,
        set("round_robin"),
    )
    .await;
    assert_eq!(status, 403, "admins only");
    let (status, body) = call(
        addr,
        "PUT",
        "/api/admin/assignment/Billing",
        &admin,
        set("round_robin"),
    )
    .await;
    assert_eq!((status, body["code"].as_str()), (404, Some("not_found")));
    let (status, _) = call(
        addr,
        "PUT",
        "/api/admin/assignment/Support",
        &admin,
        set("lottery"),
    )
    .await;
    assert_eq!(status, 422);
    let (status, _) = call(
        addr,
        "PUT",
        "/api/admin/assignment/Support",
        &admin,
        set("round_robin"),
    )
    .await;
    assert_eq!(status, 204);
    let (_, teams) = call(addr, "GET", "/api/admin/assignment", &admin, Value::Null).await;
    assert_eq!(
        teams,
        json!([{"team": "Support", "assignment": "round_robin"}])
    );

    let mut visitors = Vec::new();
    let mut chats = Vec::new();
    for n in 0..10 {
        let (chat, mut visitor) = waiting_chat(&relay, &format!("Question {n}")).await;
        visitor.next_status("active").await;
        chats.push(chat);
        visitors.push(visitor);
    }
    let to_ana = assigned(&mut ana, 5).await;
    let to_bo = assigned(&mut bo, 5).await;
    assert_eq!(
        to_ana,
        [chats[0], chats[2], chats[4], chats[6], chats[8]],
        "in turn"
    );
    assert_eq!(to_bo, [chats[1], chats[3], chats[5], chats[7], chats[9]]);
    for (chat, agent) in to_ana
        .iter()
        .map(|chat| (chat, ana_id))
        .chain(to_bo.iter().map(|chat| (chat, bo_id)))
    {
        let stored = store.conversation(*chat).await.unwrap().unwrap();
        assert_eq!(
            stored.agent.map(|holder| holder.id),
            Some(agent),
            "chat {chat}"
        );
    }

    // Least busy, within capacity: Ana is full at 5, Bo has room for one more.
    let (status, _) = call(
        addr,
        "PUT",
        "/api/admin/assignment/Support",
        &admin,
        set("least_busy"),
    )
    .await;
    assert_eq!(status, 204);
    store.set_agent_capacity(ana_id, Some(5)).await.unwrap();
    store.set_agent_capacity(bo_id, Some(6)).await.unwrap();
    let (eleventh, _v11) = waiting_chat(&relay, "Eleventh").await;
    assert_eq!(assigned(&mut bo, 1).await, [eleventh]);
    let (twelfth, _v12) = waiting_chat(&relay, "Twelfth").await;
    // Nobody has room: it waits, queued, and rings for no one.
    let waiting = store.conversation(twelfth).await.unwrap().unwrap();
    assert_eq!(waiting.agent, None);

    // Ana finishes a chat: the waiting one is hers at once.
    ana.send(json!({"type": "end_chat", "conversation_id": to_ana[0]}))
        .await;
    assert_eq!(assigned(&mut ana, 1).await, [twelfth]);
    let stored = store.conversation(twelfth).await.unwrap().unwrap();
    assert_eq!(stored.agent.map(|holder| holder.id), Some(ana_id));
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_passed_to_an_assigning_team_goes_to_someone_else_never_straight_back() {
    let relay = start().await;
    let admin = relay
        .agent_cookie(&relay.admin().email.clone(), "Admin")
        .await;
    let (mut ana, _) = agent_in(&relay, "ana@example.com", "Ana", &["Support", "Sales"]).await;
    let (status, _) = call(
        relay.addr,
        "PUT",
        "/api/admin/assignment/Sales",
        &admin,
        json!({"assignment": "round_robin"}),
    )
    .await;
    assert_eq!(status, 204);
    let (chat, _visitor) = waiting_chat(&relay, "Can I get a quote?").await;
    assert_eq!(ana.next_of_type("ring").await["conversation_id"], chat);
    ana.send(json!({"type": "join", "conversation_id": chat}))
        .await;
    ana.next_of_type("joined").await;

    // Ana passes it to Sales, where she is the only one with room: it waits.
    ana.send(json!({"type": "transfer", "conversation_id": chat, "to_team": "Sales"}))
        .await;
    // A note's echo comes once the transfer is handled (frames go in order).
    ana.send(json!({"type": "note", "conversation_id": chat, "client_msg_id": "n-1", "body": "Over to Sales"}))
        .await;
    loop {
        let frame = ana.next_json().await;
        assert_ne!(frame["type"], "assigned", "given straight back: {frame}");
        if frame["type"] == "note" {
            break;
        }
    }
    let waiting = relay.state.store.conversation(chat).await.unwrap().unwrap();
    assert_eq!(
        waiting.status,
        porchlight_protocol::ConversationStatus::Queued
    );

    // The next Sales agent with room is given it.
    let (mut bo, _) = agent_in(&relay, "bo@example.com", "Bo", &["Sales"]).await;
    assert_eq!(assigned(&mut bo, 1).await, [chat]);
    relay.stop().await;
}
