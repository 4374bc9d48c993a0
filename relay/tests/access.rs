//! The conversation access level, enforced by the relay: each level × list, open,
//! join and chat-list updates.

mod common;

use common::{TestRelay, Ws, start};
use porchlight_relay::store::AccessLevel;
use serde_json::{Value, json};

async fn agent(relay: &TestRelay, email: &str, teams: &[&str], access: AccessLevel) -> (Ws, Value) {
    let cookie = relay.agent_cookie(email, email).await;
    let store = &relay.state.store;
    let id = store.agent_by_email(email).await.unwrap().unwrap().id;
    store
        .set_agent_teams(id, teams.iter().map(|team| (*team).to_owned()).collect())
        .await
        .unwrap();
    store.set_agent_access(id, access).await.unwrap();
    let mut ws = Ws::connect(&relay.url("/ws/agent"), &[("cookie", &cookie)]).await;
    ws.send(json!({"type": "hello", "v": 1})).await;
    let welcome = ws.next_of_type("welcome").await;
    (ws, welcome)
}

/// A queued chat routed to `team` (through a profile that hands over to it), and its
/// visitor's socket (kept open for the test).
async fn chat_for(relay: &TestRelay, team: &str) -> (i64, Ws) {
    let profile = format!(
        r#"{{"name":"To {team}","start":"a","steps":[{{"id":"a","type":"action","action":"start_live_chat","teams":["{team}"]}}]}}"#
    );
    relay
        .save_profile(&format!("To {team}"), profile, true)
        .await;
    let mut visitor = relay.visitor().await;
    visitor.hello(None, None).await;
    let id = visitor.say("v-1", &format!("for {team}")).await["conversation_id"]
        .as_i64()
        .unwrap();
    (id, visitor)
}

fn listed(welcome: &Value) -> Vec<i64> {
    welcome["chats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|chat| chat["conversation_id"].as_i64().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_access_level_lists_opens_and_joins_only_what_it_may() {
    let relay = start().await;
    let (support, _support_visitor) = chat_for(&relay, "Support").await;
    let (sales, _sales_visitor) = chat_for(&relay, "Sales").await;

    let (mut own, own_welcome) =
        agent(&relay, "own@example.com", &["Support"], AccessLevel::Own).await;
    let (mut team, team_welcome) =
        agent(&relay, "team@example.com", &["Support"], AccessLevel::Team).await;
    let (mut all, all_welcome) = agent(&relay, "all@example.com", &[], AccessLevel::All).await;

    // List.
    assert_eq!(
        listed(&own_welcome),
        [support],
        "own: only what rings for them"
    );
    assert_eq!(listed(&team_welcome), [support], "team: their team's chats");
    assert_eq!(listed(&all_welcome), [support, sales]);

    // Open (and so follow).
    for ws in [&mut own, &mut team] {
        let refused = ws
            .answer(json!({"type": "open", "conversation_id": sales}), "message")
            .await;
        assert_eq!(
            refused["code"], "not_found",
            "another team's chat does not exist for them"
        );
        let opened = ws
            .answer(
                json!({"type": "open", "conversation_id": support}),
                "message",
            )
            .await;
        assert_eq!(opened["body"], "for Support");
    }
    let opened = all
        .answer(json!({"type": "open", "conversation_id": sales}), "message")
        .await;
    assert_eq!(opened["body"], "for Sales");

    // Join.
    let refused = team
        .answer(json!({"type": "join", "conversation_id": sales}), "joined")
        .await;
    assert_eq!(refused["code"], "not_found");
    let joined = team
        .answer(
            json!({"type": "join", "conversation_id": support}),
            "joined",
        )
        .await;
    assert_eq!(joined["type"], "joined");

    // Once a teammate holds it, an own-level agent no longer sees it; the team sees it.
    let gone = own
        .answer(
            json!({"type": "open", "conversation_id": support}),
            "message",
        )
        .await;
    assert_eq!(gone["code"], "not_found");
    let joined = all
        .answer(json!({"type": "join", "conversation_id": sales}), "joined")
        .await;
    assert_eq!(joined["type"], "joined");

    // Chat-list updates follow the same rule: a fresh Sales chat reaches only `all`.
    let (mut own_again, _) = agent(&relay, "own@example.com", &["Support"], AccessLevel::Own).await;
    let (fresh, _fresh_visitor) = chat_for(&relay, "Sales").await;
    loop {
        let update = all.next_of_type("chat").await;
        if update["conversation_id"] == fresh {
            break;
        }
    }
    // The own-level console got nothing about it: everything before the answer to a
    // later request is checked.
    own_again
        .send(json!({"type": "set_status", "status_id": 1}))
        .await;
    loop {
        let frame = own_again.next_json().await;
        assert_ne!(
            frame["conversation_id"], fresh,
            "leaked to an own-level agent: {frame}"
        );
        if frame["type"] == "my_status" {
            break;
        }
    }
    relay.stop().await;
}
