//! The relay's HTTP side: pages, assets and their headers, login and sessions.

mod common;

use common::{header, http, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_and_assets_are_served_with_safe_headers() {
    let relay = start().await;
    let assets = relay.state.config.assets_dir.clone();
    std::fs::create_dir_all(assets.join("widget")).unwrap();
    std::fs::create_dir_all(assets.join("console")).unwrap();
    std::fs::write(assets.join("widget/index.html"), "<p>widget</p>").unwrap();
    std::fs::write(assets.join("console/index.html"), "<p>console</p>").unwrap();
    std::fs::write(assets.join("widget/app-1.js"), "console.log(1)").unwrap();
    std::fs::write(assets.join("widget/app-1.js.br"), "BROTLI").unwrap();

    let (status, headers, body) = http(relay.addr, "GET", "/", &[], "").await;
    assert_eq!(status, 200);
    assert!(body.contains(r#"<script src="/embed.js" data-site="demo" async></script>"#));
    assert_eq!(header(&headers, "x-content-type-options"), Some("nosniff"));

    let (status, headers, body) = http(relay.addr, "GET", "/embed.js", &[], "").await;
    assert_eq!(status, 200);
    assert!(
        header(&headers, "content-type")
            .unwrap()
            .starts_with("text/javascript")
    );
    assert!(body.contains("data-site"));

    let (status, _, body) = http(relay.addr, "GET", "/healthz", &[], "").await;
    assert_eq!(status, 200);
    assert!(body.contains(r#""status":"ok""#), "{body}");

    let (status, headers, body) = http(relay.addr, "GET", "/widget/?site=demo", &[], "").await;
    assert_eq!((status, body.as_str()), (200, "<p>widget</p>"));
    assert_eq!(
        header(&headers, "content-security-policy"),
        Some("frame-ancestors 'self'")
    );
    let (status, _, _) = http(relay.addr, "GET", "/widget/?site=nope", &[], "").await;
    assert_eq!(status, 404);

    let (status, headers, body) = http(
        relay.addr,
        "GET",
        "/widget/app-1.js",
        &[("Accept-Encoding", "br, gzip")],
        "",
    )
    .await;
    assert_eq!((status, body.as_str()), (200, "BROTLI"));
    assert_eq!(header(&headers, "content-encoding"), Some("br"));
    assert!(
        header(&headers, "cache-control")
            .unwrap()
            .contains("immutable")
    );
    let (status, _, _) = http(relay.addr, "GET", "/widget/../../etc/passwd", &[], "").await;
    assert_ne!(status, 200);
    // The page is served only with its frame-ancestors policy, never as a plain file.
    for sneaky in [
        "/widget/%69ndex.html",
        "/console/%69ndex.html",
        "/widget/app-1.js/../index.html",
    ] {
        let (status, headers, _) = http(relay.addr, "GET", sneaky, &[], "").await;
        assert!(
            status != 200 || header(&headers, "content-security-policy").is_some(),
            "{sneaky} was served without its policy"
        );
    }

    let (status, headers, _) = http(relay.addr, "GET", "/console/", &[], "").await;
    assert_eq!(status, 200);
    assert_eq!(
        header(&headers, "content-security-policy"),
        Some("frame-ancestors 'none'")
    );
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_log_in_with_an_httponly_strict_cookie_and_log_out() {
    let relay = start().await;
    let json = [("Content-Type", "application/json")];
    let wrong = format!(
        r#"{{"email":"{}","password":"wrong"}}"#,
        relay.admin().email
    );
    let (status, headers, body) = http(relay.addr, "POST", "/api/login", &json, &wrong).await;
    assert_eq!(status, 401);
    assert!(body.contains("bad_credentials"));
    assert!(header(&headers, "set-cookie").is_none());
    let unknown = r#"{"email":"nobody@example.com","password":"x"}"#;
    let (status, _, _) = http(relay.addr, "POST", "/api/login", &json, unknown).await;
    assert_eq!(status, 401);

    let right = format!(
        r#"{{"email":"{}","password":"{}"}}"#,
        relay.admin().email,
        relay.admin().password
    );
    let foreign = [
        ("Content-Type", "application/json"),
        ("Origin", "https://evil.example"),
    ];
    let (status, _, _) = http(relay.addr, "POST", "/api/login", &foreign, &right).await;
    assert_eq!(status, 403, "a login form on another site cannot log in");

    // While every password check is busy, more attempts are turned away.
    let busy = relay
        .state
        .login_permits
        .clone()
        .acquire_many_owned(4)
        .await
        .unwrap();
    let (status, _, body) = http(relay.addr, "POST", "/api/login", &json, &right).await;
    assert_eq!(status, 429, "{body}");
    drop(busy);

    let (status, headers, body) = http(relay.addr, "POST", "/api/login", &json, &right).await;
    assert_eq!(status, 200);
    assert!(body.contains(r#""role":"admin""#), "{body}");
    let cookie = header(&headers, "set-cookie").unwrap().to_owned();
    assert!(cookie.contains("HttpOnly"));
    assert!(cookie.contains("SameSite=Strict"));
    let pair = cookie.split(';').next().unwrap().to_owned();

    let (status, _, body) = http(relay.addr, "GET", "/api/me", &[("Cookie", &pair)], "").await;
    assert_eq!(status, 200);
    assert!(body.contains(&relay.admin().email));

    let (status, headers, _) =
        http(relay.addr, "POST", "/api/logout", &[("Cookie", &pair)], "").await;
    assert_eq!(status, 204);
    assert!(
        header(&headers, "set-cookie")
            .unwrap()
            .contains("Max-Age=0")
    );
    let (status, _, _) = http(relay.addr, "GET", "/api/me", &[("Cookie", &pair)], "").await;
    assert_eq!(status, 401, "the session is gone from the store");
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_launcher_follows_the_profiles_working_hours_look_and_origins() {
    let relay = start().await;
    let path = "/api/v1/sites/demo/launcher";
    let (status, headers, body) = http(relay.addr, "GET", path, &[], "").await;
    assert_eq!(
        (status, body.as_str()),
        (
            200,
            r##"{"online":true,"colour":"#2554c7","position":"right","launcher_icon":"chat","icon":"M4 4h16v12H7l-3 3z","title":"Chat with us"}"##
        )
    );
    assert_eq!(header(&headers, "access-control-allow-origin"), Some("*"));

    // A schedule with no opening hours at all: always closed.
    let closed = r##"{"name":"Closed","start":"a","working_hours":{"time_zone":"UTC","schedule":{}},
        "appearance":{"colour":"#12355b","position":"left","launcher_icon":"help"},
        "allowed_origins":["https://shop.example"],
        "steps":[{"id":"a","type":"action","action":"start_live_chat"}]}"##;
    relay.save_profile("Closed", closed.into(), true).await;
    let (_, _, body) = http(relay.addr, "GET", path, &[], "").await;
    assert_eq!(
        body,
        r##"{"online":false,"colour":"#12355b","position":"left","launcher_icon":"help","icon":"M11 18h2v-2h-2zm1-16a10 10 0 100 20 10 10 0 000-20zm0 4a4 4 0 00-4 4h2a2 2 0 114 0c0 2-3 2-3 5h2c0-2 3-3 3-5a4 4 0 00-4-4z","title":"Chat with us"}"##
    );

    // The profile's allowed origins may frame the widget.
    let assets = relay.state.config.assets_dir.join("widget");
    std::fs::create_dir_all(&assets).unwrap();
    std::fs::write(assets.join("index.html"), "<p>widget</p>").unwrap();
    let (_, headers, _) = http(relay.addr, "GET", "/widget/?site=demo", &[], "").await;
    assert_eq!(
        header(&headers, "content-security-policy"),
        Some("frame-ancestors 'self' https://shop.example")
    );

    let (status, _, body) = http(relay.addr, "GET", "/api/v1/sites/nope/launcher", &[], "").await;
    assert_eq!(status, 404);
    assert!(body.contains("unknown_site"));
    relay.stop().await;
}

fn json_body(text: &str, extra: &str) -> String {
    format!(
        r#"{{"text":{}{extra}}}"#,
        serde_json::to_string(text).unwrap()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[expect(
    clippy::too_many_lines,
    reason = "one user story, read from start to end"
)]
async fn admins_list_check_create_and_save_profiles_and_nobody_else_can() {
    let relay = start().await;
    let admin = relay
        .agent_cookie(&relay.admin().email.clone(), "Admin")
        .await;
    let agent = relay.agent_cookie("bo@example.com", "Bo").await;

    let (status, _, _) = http(relay.addr, "GET", "/api/profiles", &[], "").await;
    assert_eq!(status, 401);
    let (status, _, body) = http(
        relay.addr,
        "GET",
        "/api/profiles",
        &[("Cookie", &agent)],
        "",
    )
    .await;
    assert_eq!(status, 403);
    assert!(body.contains("admin_only"));

    let (status, _, body) = http(
        relay.addr,
        "GET",
        "/api/profiles",
        &[("Cookie", &admin)],
        "",
    )
    .await;
    assert_eq!(status, 200);
    let list: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(list[0]["name"], "Default");
    assert_eq!(list[0]["site"], "demo");
    assert_eq!(list[0]["default"], true);
    let default_id = list[0]["id"].as_i64().unwrap();

    // Check shows problems next to their steps and stores nothing.
    let broken = "name = \"Default\"\nstart = \"a\"\n[[steps]]\nid = \"a\"\ntype = \"message\"\ntext = \"hi\"\nnext = \"ghost\"\n";
    let headers = [
        ("Content-Type", "application/json"),
        ("Cookie", admin.as_str()),
    ];
    let (status, _, body) = http(
        relay.addr,
        "POST",
        "/api/profiles/check",
        &headers,
        &json_body(broken, ""),
    )
    .await;
    assert_eq!(status, 200);
    let checked: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(checked["ok"], false);
    assert_eq!(checked["problems"][0]["step"], "a");
    assert_eq!(checked["problems"][0]["field"], "next");
    assert_eq!(
        checked["steps"][0]["leads_to"],
        serde_json::json!(["ghost"])
    );

    // Saving an invalid text is refused and the stored profile stays as it was.
    let path = format!("/api/profiles/{default_id}");
    let (status, _, _) = http(relay.addr, "PUT", &path, &headers, &json_body(broken, "")).await;
    assert_eq!(status, 422);
    let (_, _, body) = http(relay.addr, "GET", &path, &[("Cookie", &admin)], "").await;
    assert!(body.contains("start_live_chat"), "{body}");

    // A new profile from the example, made the site's profile.
    let example = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/helpdesk.toml"),
    )
    .unwrap();
    let foreign = vec![
        ("Content-Type", "application/json"),
        ("Cookie", admin.as_str()),
        ("Origin", "https://evil.example"),
    ];
    let create = json_body(&example, r#","site":"demo","make_default":true"#);
    let (status, _, _) = http(relay.addr, "POST", "/api/profiles", &foreign, &create).await;
    assert_eq!(
        status, 403,
        "another site cannot change profiles with the admin's cookie"
    );
    let (status, _, body) = http(relay.addr, "POST", "/api/profiles", &headers, &create).await;
    assert_eq!(status, 201, "{body}");
    let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(doc["default"], true);
    assert!(
        doc["text"]
            .as_str()
            .unwrap()
            .contains("name = \"Help desk\"")
    );
    assert_eq!(doc["steps"][1]["id"], "topic");
    let (_, _, body) = http(relay.addr, "GET", "/api/v1/sites/demo/launcher", &[], "").await;
    assert!(body.contains("online"));

    // Renaming onto another profile's name is refused.
    let renamed = example.replace("name = \"Help desk\"", "name = \"Default\"");
    let path = format!("/api/profiles/{}", doc["id"]);
    let (status, _, body) =
        http(relay.addr, "PUT", &path, &headers, &json_body(&renamed, "")).await;
    assert_eq!(status, 409, "{body}");
    let (status, _, _) = http(
        relay.addr,
        "PUT",
        "/api/profiles/9999",
        &headers,
        &json_body(&example, ""),
    )
    .await;
    assert_eq!(status, 404);
    relay.stop().await;
}
