//! Sessions that really end, tried as an attacker would: a console socket opened
//! before a logout, a password reset, a deactivation or a role change does not
//! outlive it; a one-time password must be replaced at first login and expires
//! unused.

mod common;

use common::{TestRelay, Ws, header, http, json_call, start, start_as_shipped};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logging_out_closes_the_consoles_already_open() {
    let relay = start().await;
    let admin = relay.admin().clone();
    let (status, _, cookie) = log_in(&relay, &admin.email, &admin.password).await;
    assert_eq!(status, 200);
    let cookie = cookie.unwrap();
    let mut open = console(&relay, &cookie).await;

    let (status, _, _) = http(
        relay.addr,
        "POST",
        "/api/logout",
        &[("Cookie", &cookie)],
        "",
    )
    .await;
    assert_eq!(status, 204);
    // The socket ends at once (no more history for a logged-out browser)...
    closes(&mut open).await;
    // ...and it cannot come back on that cookie.
    assert_eq!(socket_status(&relay, &cookie).await, 401);
    relay.stop().await;
}

/// Logs in over HTTP; the status, the answer and the session's cookie pair (if any).
async fn log_in(relay: &TestRelay, email: &str, password: &str) -> (u16, Value, Option<String>) {
    let body = json!({"email": email, "password": password}).to_string();
    let (status, headers, answer) = http(
        relay.addr,
        "POST",
        "/api/login",
        &[("Content-Type", "application/json")],
        &body,
    )
    .await;
    let cookie = header(&headers, "set-cookie")
        .and_then(|cookie| cookie.split(';').next())
        .map(str::to_owned);
    (
        status,
        serde_json::from_str(&answer).unwrap_or(Value::Null),
        cookie,
    )
}

/// Whether a console socket can be opened with `cookie`: the status it is refused
/// with, or 101.
async fn socket_status(relay: &TestRelay, cookie: &str) -> u16 {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = relay.url("/ws/agent").into_client_request().unwrap();
    request
        .headers_mut()
        .insert("cookie", cookie.parse().unwrap());
    match tokio_tungstenite::connect_async(request).await {
        Ok(_) => 101,
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(other) => panic!("{other}"),
    }
}

/// A console socket on `cookie` that has said hello.
async fn console(relay: &TestRelay, cookie: &str) -> Ws {
    let mut ws = Ws::connect(&relay.url("/ws/agent"), &[("cookie", cookie)]).await;
    ws.send(json!({"type": "hello", "v": 1})).await;
    ws.next_of_type("welcome").await;
    ws
}

/// Reads the socket to its end: it must close, with no chat message on the way.
async fn closes(ws: &mut Ws) {
    while let Some(frame) = ws.next().await {
        assert_ne!(
            frame["type"], "message",
            "nothing more once it should end: {frame}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_login_must_replace_the_one_time_password_before_anything_else() {
    let relay = start_as_shipped().await;
    let admin = relay.admin().clone();
    let (status, me, cookie) = log_in(&relay, &admin.email, &admin.password).await;
    assert_eq!(status, 200);
    assert_eq!(me["must_change_password"], true);
    let cookie = cookie.unwrap();
    // Nothing but the password change works yet: no API, no console socket.
    let (status, refused) =
        json_call(relay.addr, "GET", "/api/tickets", &cookie, Value::Null).await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (403, Some("password_change_required"))
    );
    assert_eq!(socket_status(&relay, &cookie).await, 403);
    let (status, me) = json_call(relay.addr, "GET", "/api/me", &cookie, Value::Null).await;
    assert_eq!((status, &me["must_change_password"]), (200, &json!(true)));
    // A weak one, the same one, or a wrong current one are refused in words.
    for (current, new, code) in [
        (admin.password.as_str(), "short", "invalid"),
        (admin.password.as_str(), admin.password.as_str(), "invalid"),
        (
            "not-the-password",
            "a-good-long-password",
            "bad_credentials",
        ),
    ] {
        let (status, refused) = json_call(
            relay.addr,
            "POST",
            "/api/password",
            &cookie,
            json!({"current": current, "new": new}),
        )
        .await;
        assert_eq!(refused["code"], code, "{status} {refused}");
        assert!(refused["message"].is_string());
    }
    let (status, headers, answer) = http(
        relay.addr,
        "POST",
        "/api/password",
        &[("Cookie", &cookie), ("Content-Type", "application/json")],
        &json!({"current": admin.password, "new": "a-good-long-password"}).to_string(),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let fresh = header(&headers, "set-cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    // The old session ended; the new one works, for everything.
    let (status, _) = json_call(relay.addr, "GET", "/api/me", &cookie, Value::Null).await;
    assert_eq!(status, 401);
    let (status, _) = json_call(relay.addr, "GET", "/api/tickets", &fresh, Value::Null).await;
    assert_eq!(status, 200);
    assert_eq!(socket_status(&relay, &fresh).await, 101);
    // The one-time password is gone; the chosen one logs in, with nothing to change.
    assert_eq!(log_in(&relay, &admin.email, &admin.password).await.0, 401);
    let (status, me, _) = log_in(&relay, &admin.email, "a-good-long-password").await;
    assert_eq!((status, me.get("must_change_password")), (200, None));
    relay.stop().await;
}

/// Creates an agent through the People page's API; their id and one-time password.
async fn new_agent(relay: &TestRelay, admin: &str, email: &str) -> (i64, String) {
    let (status, created) = json_call(
        relay.addr,
        "POST",
        "/api/admin/agents",
        admin,
        json!({"email": email, "name": "Bo", "role": "agent"}),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    (
        created["id"].as_i64().unwrap(),
        created["password"].as_str().unwrap().to_owned(),
    )
}

/// Logs the agent in with their one-time password and chooses `password`; the
/// session's cookie.
async fn first_login(relay: &TestRelay, email: &str, one_time: &str, password: &str) -> String {
    let (status, _, cookie) = log_in(relay, email, one_time).await;
    assert_eq!(status, 200);
    let (status, headers, _) = http(
        relay.addr,
        "POST",
        "/api/password",
        &[
            ("Cookie", &cookie.unwrap()),
            ("Content-Type", "application/json"),
        ],
        &json!({"current": one_time, "new": password}).to_string(),
    )
    .await;
    assert_eq!(status, 200);
    header(&headers, "set-cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_ends_every_session_and_an_unused_one_time_password_expires() {
    let relay = start().await;
    let admin = relay.agent_cookie(&relay.admin().email, "Admin").await;
    let (bo, one_time) = new_agent(&relay, &admin, "bo@example.com").await;
    let cookie = first_login(&relay, "bo@example.com", &one_time, "bo-password-123").await;
    let mut open = console(&relay, &cookie).await;

    let (status, reset) = json_call(
        relay.addr,
        "POST",
        &format!("/api/admin/agents/{bo}/password"),
        &admin,
        Value::Null,
    )
    .await;
    assert_eq!(status, 200, "{reset}");
    assert!(reset["expires_at"].as_i64().unwrap() > porchlight_relay::store::now_ms());
    closes(&mut open).await;
    assert_eq!(
        socket_status(&relay, &cookie).await,
        401,
        "the session is gone"
    );
    assert_eq!(
        log_in(&relay, "bo@example.com", "bo-password-123").await.0,
        401
    );
    let new_one_time = reset["password"].as_str().unwrap();
    let (status, me, _) = log_in(&relay, "bo@example.com", new_one_time).await;
    assert_eq!((status, &me["must_change_password"]), (200, &json!(true)));

    // Left unused past its week, a one-time password no longer works.
    let hash = relay
        .state
        .store
        .agent(bo)
        .await
        .unwrap()
        .unwrap()
        .password_hash;
    relay
        .state
        .store
        .set_password(bo, hash, Some(porchlight_relay::store::now_ms() - 1))
        .await
        .unwrap();
    let (status, refused, cookie) = log_in(&relay, "bo@example.com", new_one_time).await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (401, Some("password_expired"))
    );
    assert!(cookie.is_none());
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deactivated_agent_is_out_at_once_and_a_role_change_ends_sessions() {
    let relay = start().await;
    let admin = relay.agent_cookie(&relay.admin().email, "Admin").await;
    let (bo, one_time) = new_agent(&relay, &admin, "bo@example.com").await;
    let cookie = first_login(&relay, "bo@example.com", &one_time, "bo-password-123").await;
    let mut open = console(&relay, &cookie).await;
    let form = |role: &str, active: bool| json!({"name": "Bo", "role": role, "teams": [], "access": "all", "active": active});
    let update_bo = |form: Value| {
        let (relay, admin) = (&relay, &admin);
        async move {
            let path = format!("/api/admin/agents/{bo}");
            let (status, _) = json_call(relay.addr, "PUT", &path, admin, form).await;
            assert_eq!(status, 204);
        }
    };

    update_bo(form("agent", false)).await;
    closes(&mut open).await;
    assert_eq!(socket_status(&relay, &cookie).await, 401);
    let (status, refused, _) = log_in(&relay, "bo@example.com", "bo-password-123").await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (403, Some("account_inactive"))
    );

    // Active again: in again. Then made an admin: that session ends too.
    update_bo(form("agent", true)).await;
    let (status, _, cookie) = log_in(&relay, "bo@example.com", "bo-password-123").await;
    assert_eq!(status, 200);
    let cookie = cookie.unwrap();
    update_bo(form("admin", true)).await;
    let (status, _) = json_call(relay.addr, "GET", "/api/me", &cookie, Value::Null).await;
    assert_eq!(status, 401, "a new role, a new login");

    // The last active admin can be neither deactivated nor demoted.
    update_bo(form("agent", true)).await;
    let me = relay.admin_id().await;
    let (status, refused) = json_call(
        relay.addr,
        "PUT",
        &format!("/api/admin/agents/{me}"),
        &admin,
        json!({"name": "Admin", "role": "admin", "teams": [], "access": "all", "active": false}),
    )
    .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (409, Some("last_admin"))
    );
    relay.stop().await;
}
