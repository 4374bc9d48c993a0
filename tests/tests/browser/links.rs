//! Web addresses in messages are links, on both sides, that open safely; nothing else
//! becomes one.

use super::*;

/// The link to `url` in a message of `side` (`mine` or `theirs`), once it shows.
async fn link_in(client: &Client, side: &str, url: &str) -> fantoccini::elements::Element {
    let link = wait_for(
        client,
        Locator::XPath(&format!(
            "//li[contains(@class,'{side}')]//span[@class='body']/a[@href='{url}' and .='{url}']"
        )),
    )
    .await;
    assert_eq!(
        link.attr("target").await.unwrap().as_deref(),
        Some("_blank")
    );
    assert_eq!(
        link.attr("rel").await.unwrap().as_deref(),
        Some("noopener noreferrer nofollow")
    );
    link
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn addresses_in_messages_are_safe_links_on_both_sides() {
    let harness = Harness::start().await;
    let visitor_profile = tempfile::tempdir().unwrap();
    let visitor = visitor_in_widget(&harness, &visitor_profile).await;
    let message_box = wait_for(&visitor, Locator::Css("textarea[aria-label='Message']")).await;
    message_box
        .send_keys("It breaks on https://shop.test/cart?id=7. Try javascript:alert(1) too")
        .await
        .unwrap();
    click(&visitor, Locator::Css("button[aria-label='Send']")).await;
    link_in(&visitor, "mine", "https://shop.test/cart?id=7").await;
    let body = wait_for(
        &visitor,
        Locator::XPath("//li[contains(@class,'mine')]//span[@class='body']"),
    )
    .await;
    assert_eq!(
        body.text().await.unwrap(),
        "It breaks on https://shop.test/cart?id=7. Try javascript:alert(1) too",
        "the text is whole"
    );
    assert_eq!(
        body.find_all(Locator::Css("a")).await.unwrap().len(),
        1,
        "javascript: is no link"
    );

    let agent_profile = tempfile::tempdir().unwrap();
    let agent = harness.agent(&agent_profile).await;
    click_when(&agent, Locator::XPath("//button[.='Join']")).await;
    link_in(&agent, "theirs", "https://shop.test/cart?id=7").await;
    let reply_box = wait_for(&agent, Locator::Css("textarea[aria-label='Message']")).await;
    reply_box
        .send_keys("Fixed, see (https://status.test/incidents/42)")
        .await
        .unwrap();
    click(&agent, Locator::Css("button[aria-label='Send']")).await;
    link_in(&visitor, "theirs", "https://status.test/incidents/42").await;

    visitor.close().await.unwrap();
    agent.close().await.unwrap();
    harness.stop().await;
}
