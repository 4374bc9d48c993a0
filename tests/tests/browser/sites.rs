//! The admin's side of sites and data rights: a new site with its tag to copy and its
//! retention, an API key made and revoked, and a visitor's data erased from under their
//! ended chat.

use porchlight_protocol::Author;

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_adds_a_site_sees_its_tag_and_sets_its_retention() {
    let harness = Harness::start().await;
    let profile = tempfile::tempdir().unwrap();
    let admin = harness.agent(&profile).await;
    click_when(&admin, Locator::XPath("//nav//button[.='Sites']")).await;
    wait_for(&admin, Locator::Css("section[aria-label='Site demo']")).await;
    fill_fields(
        &admin,
        &[
            ("New site's key", "shop"),
            ("New site's name", "Shop"),
            ("New site's origins", "https://shop.example.com"),
        ],
    )
    .await;
    click(&admin, Locator::XPath("//button[.='Add site']")).await;
    let tag = wait_for(
        &admin,
        Locator::Css("section[aria-label='Site shop'] textarea[aria-label='Embed tag']"),
    )
    .await
    .prop("value")
    .await
    .unwrap()
    .unwrap();
    assert_eq!(
        tag,
        format!(
            "<script src=\"{}/embed.js\" data-site=\"shop\" async></script>",
            harness.base
        )
    );

    let card = "section[aria-label='Site shop']";
    admin
        .find(Locator::Css(&format!(
            "{card} input[aria-label='Retention days']"
        )))
        .await
        .unwrap()
        .send_keys("30")
        .await
        .unwrap();
    click(&admin, Locator::Css(&format!("{card} button.save-site"))).await;
    wait_for(
        &admin,
        Locator::XPath("//p[@role='status' and .='Site \"shop\" saved.']"),
    )
    .await;
    let site = harness
        .state
        .store
        .site_by_key("shop")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(site.retention_days, Some(30));
    assert_eq!(site.allowed_origins, ["https://shop.example.com"]);
    admin.close().await.unwrap();
    harness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_makes_an_api_key_sees_it_once_and_revokes_it() {
    let harness = Harness::start().await;
    let profile = tempfile::tempdir().unwrap();
    let admin = harness.agent(&profile).await;
    click_when(&admin, Locator::XPath("//nav//button[.='Sites']")).await;
    let keys = "section[aria-label='Site demo'] section[aria-label='API keys']";
    wait_for(
        &admin,
        Locator::Css(&format!("{keys} input[aria-label=\"New key's name\"]")),
    )
    .await
    .send_keys("CRM sync")
    .await
    .unwrap();
    click(
        &admin,
        Locator::Css(&format!("{keys} input[aria-label='Key may write']")),
    )
    .await;
    click(
        &admin,
        Locator::Css(&format!("{keys} button[type='submit']")),
    )
    .await;
    let shown = wait_for(&admin, Locator::Css(&format!("{keys} p.made-key code")))
        .await
        .text()
        .await
        .unwrap();
    assert!(shown.starts_with("plk_") && shown.len() > 60, "{shown}");
    let line = wait_for(
        &admin,
        Locator::XPath("//section[@aria-label='API keys']//li[contains(., 'CRM sync')]"),
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(
        line.contains("read and write") && line.contains("never used"),
        "{line}"
    );
    assert!(!line.contains(&shown[12..]), "the list never shows the key");

    click(
        &admin,
        Locator::XPath(
            "//section[@aria-label='API keys']//li[contains(., 'CRM sync')]//button[.='Revoke']",
        ),
    )
    .await;
    wait_for(
        &admin,
        Locator::XPath("//section[@aria-label='API keys']//li[contains(@class,'revoked')]"),
    )
    .await;
    let site = harness
        .state
        .store
        .site_by_key("demo")
        .await
        .unwrap()
        .unwrap();
    let stored = harness.state.store.api_keys(site.id).await.unwrap();
    assert!(stored[0].revoked_at.is_some());
    admin.close().await.unwrap();
    harness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_erases_the_visitor_of_an_ended_chat_after_confirming() {
    let harness = Harness::start().await;
    let (visitor, chat) = visitor_said(&harness, "erase-me", "Please forget me").await;
    let store = &harness.state.store;
    store.end(chat.id, Author::Visitor, None).await.unwrap();

    let profile = tempfile::tempdir().unwrap();
    let admin = harness.agent(&profile).await;
    click_when(&admin, Locator::XPath("//button[.='Closed']")).await;
    let name = &visitor.display_name;
    click_when(
        &admin,
        Locator::XPath(&format!(
            "//ul[@class='chats']//button[contains(., '{name}')]"
        )),
    )
    .await;
    let export = wait_for(&admin, Locator::XPath("//a[.=\"Export visitor's data\"]")).await;
    assert_eq!(
        export.attr("href").await.unwrap().as_deref(),
        Some(format!("/api/admin/visitors/{}/export", visitor.id).as_str())
    );
    click(
        &admin,
        Locator::XPath("//button[.=\"Erase visitor's data…\"]"),
    )
    .await;
    admin.accept_alert().await.unwrap();
    wait_for(
        &admin,
        Locator::XPath("//p[@role='alert' and starts-with(., \"The visitor's data was erased\")]"),
    )
    .await;
    assert!(
        admin
            .find_all(Locator::XPath(&format!(
                "//ul[@class='chats']//button[contains(., '{name}')]"
            )))
            .await
            .unwrap()
            .is_empty(),
        "the erased chat left the list"
    );
    assert!(store.conversation(chat.id).await.unwrap().is_none());
    assert_eq!(store.erasures().await.unwrap().len(), 1);
    admin.close().await.unwrap();
    harness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_saves_the_smtp_server_and_its_password_is_not_shown_back() {
    let harness = Harness::start().await;
    let profile = tempfile::tempdir().unwrap();
    let admin = harness.agent(&profile).await;
    click_when(&admin, Locator::XPath("//nav//button[.='Email']")).await;
    fill_fields(
        &admin,
        &[
            ("SMTP host", "smtp.example.com"),
            ("User", "relay"),
            ("Password", "hunter2"),
            ("From", "Support <support@example.com>"),
            ("Team's address", "team@example.com"),
        ],
    )
    .await;
    click(&admin, Locator::XPath("//button[.='Save email settings']")).await;
    wait_for(
        &admin,
        Locator::XPath("//p[@role='status' and .='Email settings saved.']"),
    )
    .await;
    let password = admin
        .find(Locator::Css("input[aria-label='Password']"))
        .await
        .unwrap();
    assert_eq!(password.prop("value").await.unwrap().as_deref(), Some(""));
    assert_eq!(
        password.attr("placeholder").await.unwrap().as_deref(),
        Some("saved (type to replace)")
    );
    let saved = harness.state.store.setting("email").await.unwrap().unwrap();
    assert!(
        saved.contains("smtp.example.com") && saved.contains("\"port\":587"),
        "{saved}"
    );
    admin.close().await.unwrap();
    harness.stop().await;
}
