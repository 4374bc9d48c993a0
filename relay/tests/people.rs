//! The admin pages' API: agents, teams, statuses and the live-chat settings.

mod common;

use common::{Ws, header, http, json_call as call, start};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[expect(
    clippy::too_many_lines,
    reason = "one user story, read from start to end"
)]
async fn admins_create_agents_who_can_log_in_and_change_their_teams_access_and_capacity() {
    let relay = start().await;
    let addr = relay.addr;
    let admin = relay
        .agent_cookie(&relay.admin().email.clone(), "Admin")
        .await;
    let agent = relay.agent_cookie("bo@example.com", "Bo").await;

    let (status, body) = call(addr, "GET", "/api/admin/agents", &agent, Value::Null).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("admin_only")));
    let (status, _) = call(addr, "GET", "/api/admin/sites", &agent, Value::Null).await;
    assert_eq!(status, 403, "site secrets are for admins");
    let (status, sites) = call(addr, "GET", "/api/admin/sites", &admin, Value::Null).await;
    assert_eq!((status, &sites[0]["key"]), (200, &json!("demo")));
    assert_eq!(sites[0]["secret"].as_str().unwrap().len(), 64);

    let new = json!({"email": "cy@example.com", "name": "Cy", "role": "agent"});
    let (status, created) = call(addr, "POST", "/api/admin/agents", &admin, new.clone()).await;
    assert_eq!(status, 201);
    let cy = created["id"].as_i64().unwrap();
    let password = created["password"].as_str().unwrap().to_owned();
    let (status, body) = call(addr, "POST", "/api/admin/agents", &admin, new).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("name_taken")));
    let (status, _) = call(
        addr,
        "POST",
        "/api/admin/agents",
        &admin,
        json!({"email": "not an email", "name": "X", "role": "agent"}),
    )
    .await;
    assert_eq!(status, 422);
    let login = json!({"email": "cy@example.com", "password": password}).to_string();
    let (status, headers, _) = http(
        addr,
        "POST",
        "/api/login",
        &[("Content-Type", "application/json")],
        &login,
    )
    .await;
    assert_eq!(status, 200, "the one-time password works");
    let first = header(&headers, "set-cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let (status, headers, _) = http(
        addr,
        "POST",
        "/api/password",
        &[("Cookie", &first), ("Content-Type", "application/json")],
        &json!({"current": password, "new": "cy-own-password"}).to_string(),
    )
    .await;
    assert_eq!(status, 200, "and is replaced at once");
    let cy_cookie = header(&headers, "set-cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();

    // Teams must exist before an agent joins them.
    let change = json!({"name": "Cy Young", "role": "agent", "teams": ["Billing"], "access": "team", "max_chats": 3, "can_toggle_uploads": false, "default_team": "Billing"});
    let path = format!("/api/admin/agents/{cy}");
    let (status, _) = call(addr, "PUT", &path, &admin, change.clone()).await;
    assert_eq!(status, 404, "no Billing team yet");
    let (status, _) = call(
        addr,
        "POST",
        "/api/admin/teams",
        &admin,
        json!({"name": "Billing"}),
    )
    .await;
    assert_eq!(status, 201);
    let (status, _) = call(
        addr,
        "POST",
        "/api/admin/teams",
        &admin,
        json!({"name": "Billing"}),
    )
    .await;
    assert_eq!(status, 409);
    let (_, teams) = call(addr, "GET", "/api/admin/teams", &admin, Value::Null).await;
    assert!(teams.as_array().unwrap().contains(&json!("Billing")));

    // A connected console of the agent reconnects when their account changes.
    let mut console = Ws::connect(&relay.url("/ws/agent"), &[("cookie", &cy_cookie)]).await;
    console.send(json!({"type": "hello", "v": 1})).await;
    console.next_of_type("welcome").await;
    let (status, _) = call(addr, "PUT", &path, &admin, change).await;
    assert_eq!(status, 204);
    assert_eq!(
        console.next().await,
        None,
        "the old console socket is closed"
    );
    let (_, list) = call(addr, "GET", "/api/admin/agents", &admin, Value::Null).await;
    let saved = list
        .as_array()
        .unwrap()
        .iter()
        .find(|account| account["id"] == cy)
        .unwrap()
        .clone();
    assert_eq!(
        saved,
        json!({"id": cy, "email": "cy@example.com", "name": "Cy Young", "role": "agent",
               "teams": ["Billing"], "access": "team", "max_chats": 3, "can_toggle_uploads": false,
               "default_team": "Billing", "active": true})
    );
    let mut console = Ws::connect(&relay.url("/ws/agent"), &[("cookie", &cy_cookie)]).await;
    console.send(json!({"type": "hello", "v": 1})).await;
    let welcome = console.next_of_type("welcome").await;
    assert_eq!(
        welcome["my_teams"],
        json!(["Billing"]),
        "the new console sees the change"
    );

    for (bad, why) in [
        (
            json!({"name": "", "role": "agent", "access": "all"}),
            "blank name",
        ),
        (
            json!({"name": "Cy", "role": "boss", "access": "all"}),
            "unknown role",
        ),
        (
            json!({"name": "Cy", "role": "agent", "access": "some"}),
            "unknown access",
        ),
        (
            json!({"name": "Cy", "role": "agent", "access": "all", "max_chats": 0}),
            "zero capacity",
        ),
        (
            json!({"name": "Cy", "role": "agent", "access": "all", "default_team": "Sales"}),
            "default team not theirs",
        ),
    ] {
        let (status, _) = call(addr, "PUT", &path, &admin, bad).await;
        assert_eq!(status, 422, "{why}");
    }

    // The only admin cannot demote themselves.
    let me = relay.admin_id().await;
    let (status, body) = call(
        addr,
        "PUT",
        &format!("/api/admin/agents/{me}"),
        &admin,
        json!({"name": "Admin", "role": "agent", "access": "all"}),
    )
    .await;
    assert_eq!((status, body["code"].as_str()), (409, Some("last_admin")));
    let (_, list) = call(addr, "GET", "/api/admin/agents", &admin, Value::Null).await;
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|account| account["id"] == me && account["role"] == "admin"),
        "nothing changed"
    );
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_edit_statuses_and_the_live_chat_settings() {
    let relay = start().await;
    let addr = relay.addr;
    let admin = relay
        .agent_cookie(&relay.admin().email.clone(), "Admin")
        .await;

    let (status, lunch) = call(
        addr,
        "POST",
        "/api/admin/statuses",
        &admin,
        json!({"name": "Lunch", "online": false}),
    )
    .await;
    assert_eq!(status, 201);
    let (status, _) = call(
        addr,
        "POST",
        "/api/admin/statuses",
        &admin,
        json!({"name": "lunch", "online": true}),
    )
    .await;
    assert_eq!(status, 409, "names are unique ignoring case");
    let id = lunch["id"].as_i64().unwrap();
    let (status, _) = call(
        addr,
        "PUT",
        &format!("/api/admin/statuses/{id}"),
        &admin,
        json!({"name": "Lunch at desk", "online": true}),
    )
    .await;
    assert_eq!(status, 200);
    let (_, statuses) = call(addr, "GET", "/api/admin/statuses", &admin, Value::Null).await;
    assert!(
        statuses
            .as_array()
            .unwrap()
            .contains(&json!({"id": id, "name": "Lunch at desk", "online": true}))
    );

    let (status, settings) = call(addr, "GET", "/api/admin/settings", &admin, Value::Null).await;
    assert_eq!(
        (status, settings),
        (
            200,
            json!({"prevent_multiple_agents": true, "one_chat_per_agent": false,
                   "display": "ring", "ticket_agent_only": false,
                   "abandon": {"enabled": true, "ask_after_minutes": 5,
                               "end_after_minutes": 10, "close_ticket": true,
                               "ticket_categories": {}}})
        )
    );
    let changed = json!({"prevent_multiple_agents": false, "one_chat_per_agent": true,
                         "display": "tickets", "ticket_agent_only": true,
                         "abandon": {"enabled": true, "ask_after_minutes": 3,
                                     "end_after_minutes": 8, "close_ticket": true,
                                     "ticket_categories": {}}});
    let (status, _, _) = http(
        addr,
        "PUT",
        "/api/admin/settings",
        &[
            ("Cookie", &admin),
            ("Content-Type", "application/json"),
            ("Origin", "https://elsewhere.example"),
        ],
        &changed.to_string(),
    )
    .await;
    assert_eq!(status, 403, "changes only from the console's origin");
    let (status, _) = call(addr, "PUT", "/api/admin/settings", &admin, changed.clone()).await;
    assert_eq!(status, 204);
    assert_eq!(
        call(addr, "GET", "/api/admin/settings", &admin, Value::Null).await,
        (200, changed)
    );
    let (status, _) = call(
        addr,
        "PUT",
        "/api/admin/settings",
        &admin,
        json!({"prevent_multiple_agents": true, "one_chat_per_agent": false, "display": "queue"}),
    )
    .await;
    assert_eq!(status, 422, "display is ring or tickets");
    let (status, _) = call(
        addr,
        "PUT",
        "/api/admin/settings",
        &admin,
        json!({"prevent_multiple_agents": true, "one_chat_per_agent": false, "display": "ring",
               "abandon": {"enabled": true, "ask_after_minutes": 9, "end_after_minutes": 8,
                           "close_ticket": false}}),
    )
    .await;
    assert_eq!(status, 422, "the question comes before the end");
    relay.stop().await;
}
