//! Admins run several sites from one relay: add one, set who may embed it and its
//! profile, and paste the tag it shows; visitors of each site get that site's chat.

mod common;

use common::{header, http, json_call as call, start_configured};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[expect(
    clippy::too_many_lines,
    reason = "one admin's story, read from start to end"
)]
async fn admins_add_a_site_set_its_origins_and_profile_and_its_visitors_get_its_chat() {
    let relay = start_configured(tempfile::tempdir().unwrap(), |config| {
        config.public_url = Some("https://chat.example.com/".into());
    })
    .await;
    let addr = relay.addr;
    let assets = relay.state.config.assets_dir.join("widget");
    std::fs::create_dir_all(&assets).unwrap();
    std::fs::write(assets.join("index.html"), "<p>widget</p>").unwrap();
    let admin = relay
        .agent_cookie(&relay.admin().email.clone(), "Admin")
        .await;
    let agent = relay.agent_cookie("bo@example.com", "Bo").await;

    let shop =
        json!({"key": "shop", "name": "Shop", "allowed_origins": ["https://Shop.Example.com/"]});
    for (method, path) in [
        ("GET", "/api/admin/sites"),
        ("POST", "/api/admin/sites"),
        ("PUT", "/api/admin/sites/demo"),
    ] {
        let (status, body) = call(addr, method, path, &agent, shop.clone()).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (403, Some("admin_only")),
            "{method} {path}"
        );
    }

    let (status, created) = call(addr, "POST", "/api/admin/sites", &admin, shop.clone()).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["key"], "shop");
    assert_eq!(
        created["allowed_origins"],
        json!(["https://shop.example.com"])
    );
    assert_eq!(
        created["embed"],
        r#"<script src="https://chat.example.com/embed.js" data-site="shop" async></script>"#
    );
    assert_eq!(created["secret"].as_str().unwrap().len(), 64);
    assert_eq!(created["retention_days"], Value::Null);
    let shop_profile = created["profile_id"]
        .as_i64()
        .expect("a new site gets a profile");

    let (status, body) = call(addr, "POST", "/api/admin/sites", &admin, shop).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("name_taken")));
    for bad in [
        json!({"key": "Shop Two", "name": "Shop two"}),
        json!({"key": "shop2", "name": ""}),
        json!({"key": "shop2", "name": "Shop two", "allowed_origins": ["https://x.example.com; script-src *"]}),
        json!({"key": "shop2", "name": "Shop two", "allowed_origins": ["https://x.example.com/page"]}),
    ] {
        let (status, body) = call(addr, "POST", "/api/admin/sites", &admin, bad.clone()).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (422, Some("invalid")),
            "{bad}"
        );
    }

    // The new site's widget may be framed by its origin only; the demo's is unchanged.
    let policy = |site: &'static str| async move {
        let (status, headers, _) =
            http(addr, "GET", &format!("/widget/?site={site}"), &[], "").await;
        assert_eq!(status, 200);
        header(&headers, "content-security-policy")
            .unwrap()
            .to_owned()
    };
    assert_eq!(
        policy("shop").await,
        "frame-ancestors 'self' https://shop.example.com"
    );
    assert_eq!(policy("demo").await, "frame-ancestors 'self'");

    // Its visitors get its chat, which starts as the default profile: live chat.
    let mut visitor = relay.visitor().await;
    visitor
        .send(json!({"type": "hello", "v": 1, "site": "shop"}))
        .await;
    visitor.next_of_type("welcome").await;
    let ack = visitor.say("m1", "Do you ship to Norway?").await;
    let conversation = ack["conversation_id"].as_i64().unwrap();
    let stored = relay
        .state
        .store
        .conversation(conversation)
        .await
        .unwrap()
        .unwrap();
    let site = relay
        .state
        .store
        .site_by_key("shop")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.site_id, site.id,
        "the chat belongs to the site it came from"
    );

    // Rename, change origins, keep ended chats 30 days; a profile of another site is refused.
    let (_, sites) = call(addr, "GET", "/api/admin/sites", &admin, Value::Null).await;
    let demo_profile = sites[0]["profile_id"].as_i64().unwrap();
    assert_eq!(sites.as_array().unwrap().len(), 2);
    let change = |profile: i64| {
        json!({"name": "Shop (EU)", "allowed_origins": ["https://eu.shop.example.com", "https://*.shop.example.com"],
               "profile_id": profile, "retention_days": 30})
    };
    let (status, body) = call(
        addr,
        "PUT",
        "/api/admin/sites/shop",
        &admin,
        change(demo_profile),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("invalid")),
        "{body}"
    );
    let (status, unchanged) = call(addr, "GET", "/api/admin/sites", &admin, Value::Null).await;
    assert_eq!(
        (status, &unchanged[1]["name"]),
        (200, &json!("Shop")),
        "a refused change changes nothing"
    );
    let (status, saved) = call(
        addr,
        "PUT",
        "/api/admin/sites/shop",
        &admin,
        change(shop_profile),
    )
    .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(
        (
            &saved["name"],
            &saved["retention_days"],
            &saved["profile_id"]
        ),
        (&json!("Shop (EU)"), &json!(30), &json!(shop_profile))
    );
    assert_eq!(
        policy("shop").await,
        "frame-ancestors 'self' https://eu.shop.example.com https://*.shop.example.com"
    );
    for (path, body) in [
        (
            "/api/admin/sites/shop",
            json!({"name": "Shop", "allowed_origins": [], "profile_id": shop_profile, "retention_days": 0}),
        ),
        (
            "/api/admin/sites/shop",
            json!({"name": "Shop", "allowed_origins": [], "profile_id": shop_profile, "retention_days": 3651}),
        ),
    ] {
        let (status, answer) = call(addr, "PUT", path, &admin, body).await;
        assert_eq!((status, answer["code"].as_str()), (422, Some("invalid")));
    }
    let (status, body) = call(
        addr,
        "PUT",
        "/api/admin/sites/nowhere",
        &admin,
        change(shop_profile),
    )
    .await;
    assert_eq!((status, body["code"].as_str()), (404, Some("unknown_site")));
    relay.stop().await;
}
