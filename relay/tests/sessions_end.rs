//! Sessions that really end: a console socket opened before a logout does not outlive
//! it.

mod common;

use common::{Ws, header, http, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logging_out_closes_the_consoles_already_open() {
    let relay = start().await;
    let admin = relay.admin().clone();
    let body = serde_json::json!({"email": admin.email, "password": admin.password}).to_string();
    let (status, headers, _) = http(
        relay.addr,
        "POST",
        "/api/login",
        &[("Content-Type", "application/json")],
        &body,
    )
    .await;
    assert_eq!(status, 200);
    let cookie = header(&headers, "set-cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let mut console = Ws::connect(&relay.url("/ws/agent"), &[("cookie", &cookie)]).await;
    console
        .send(serde_json::json!({"type": "hello", "v": 1}))
        .await;
    console.next_of_type("welcome").await;

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
    while let Some(frame) = console.next().await {
        assert_ne!(
            frame["type"], "message",
            "nothing more after the logout: {frame}"
        );
    }
    // ...and it cannot come back on that cookie.
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = relay.url("/ws/agent").into_client_request().unwrap();
    request
        .headers_mut()
        .insert("cookie", cookie.parse().unwrap());
    match tokio_tungstenite::connect_async(request).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 401);
        }
        other => panic!(
            "the socket opened after the logout: {:?}",
            other.map(|_| ())
        ),
    }
    relay.stop().await;
}
