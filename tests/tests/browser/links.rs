//! Web addresses in messages are links, on both sides, that open safely; nothing else
//! becomes one.

use super::*;

/// The settled lines of `side` (`mine` or `theirs`): the widget draws a visitor's line
/// again once it is acknowledged, so a pending one may go stale under the test.
fn lines_of(side: &str) -> String {
    format!("//li[contains(@class,'{side}') and not(contains(@class,'pending'))]")
}

/// Waits for the link to `url` in a message of `side`, opening in a new tab with no
/// opener, referrer or endorsement.
async fn link_in(client: &Client, side: &str, url: &str) {
    wait_for(
        client,
        Locator::XPath(&format!(
            "{}//span[@class='body']/a[@href='{url}' and .='{url}' and @target='_blank' \
             and @rel='noopener noreferrer nofollow']",
            lines_of(side)
        )),
    )
    .await;
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
        Locator::XPath(&format!("{}//span[@class='body']", lines_of("mine"))),
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
