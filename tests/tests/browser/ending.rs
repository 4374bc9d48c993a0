//! The visitor ends a chat from the widget's menu, after saying so twice.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_ends_the_chat_from_the_menu_once_they_confirm() {
    let harness = Harness::start().await;
    let visitor_profile = tempfile::tempdir().unwrap();
    let visitor = visitor_in_widget(&harness, &visitor_profile).await;
    let options = Locator::Css("button[aria-label='Chat options']");
    assert!(
        !shown(&visitor, options).await,
        "no menu before there is a chat"
    );
    let message_box = wait_for(&visitor, Locator::Css("textarea[aria-label='Message']")).await;
    message_box.send_keys("Never mind, found it").await.unwrap();
    click(&visitor, Locator::Css("button[aria-label='Send']")).await;
    wait_for(
        &visitor,
        Locator::XPath("//p[@role='status' and .='Waiting for an agent…']"),
    )
    .await;

    // Asked once more; "Keep chatting" leaves the chat as it was.
    click_when(&visitor, options).await;
    click_when(
        &visitor,
        Locator::XPath("//button[@role='menuitem' and .='End chat']"),
    )
    .await;
    let confirm = Locator::Css("div[role='alertdialog'][aria-label='End this chat?']");
    wait_for(&visitor, confirm).await;
    click(&visitor, Locator::XPath("//button[.='Keep chatting']")).await;
    assert!(!shown(&visitor, confirm).await);
    wait_for(
        &visitor,
        Locator::XPath("//p[@role='status' and .='Waiting for an agent…']"),
    )
    .await;

    // Confirmed: the chat ends for both sides.
    end_from_menu(&visitor).await;
    wait_for(
        &visitor,
        Locator::XPath("//p[@role='status' and .='Chat ended. Write to start a new one.']"),
    )
    .await;
    wait_for(
        &visitor,
        Locator::XPath("//span[.='The visitor ended the chat']"),
    )
    .await;
    assert!(
        !shown(&visitor, options).await,
        "no menu once the chat has ended"
    );
    let waiting = harness.state.store.waiting_conversations().await.unwrap();
    assert!(waiting.is_empty(), "the chat left the queue");

    visitor.close().await.unwrap();
    harness.stop().await;
}

/// Ends the chat from the widget's menu, confirming it.
pub(super) async fn end_from_menu(visitor: &Client) {
    click(visitor, Locator::Css("button[aria-label='Chat options']")).await;
    click_when(
        visitor,
        Locator::XPath("//button[@role='menuitem' and .='End chat']"),
    )
    .await;
    click_when(
        visitor,
        Locator::XPath("//div[@role='alertdialog']//button[.='End chat']"),
    )
    .await;
}

/// Whether an element `locator` finds is on screen (the menu is drawn once and hidden).
async fn shown(client: &Client, locator: Locator<'_>) -> bool {
    for element in client.find_all(locator).await.unwrap() {
        if element.is_displayed().await.unwrap() {
            return true;
        }
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_ends_a_chat_and_rates_it_and_the_agent_sees_the_rating() {
    let harness = Harness::start().await;
    let store = &harness.state.store;
    let site = store.site_by_key("demo").await.unwrap().unwrap();
    let rated = r#"{"name":"Rated","start":"a","rating":"stars","steps":[{"id":"a","type":"action","action":"start_live_chat"}]}"#;
    store
        .save_profile(site.id, "Rated", rated.into(), true)
        .await
        .unwrap();
    let visitor_profile = tempfile::tempdir().unwrap();
    let visitor = visitor_in_widget(&harness, &visitor_profile).await;
    wait_for(&visitor, Locator::Css("textarea[aria-label='Message']"))
        .await
        .send_keys("Can I change my order?")
        .await
        .unwrap();
    click(&visitor, Locator::Css("button[aria-label='Send']")).await;
    let agent_profile = tempfile::tempdir().unwrap();
    let agent = harness.agent(&agent_profile).await;
    click_when(&agent, Locator::XPath("//button[.='Join']")).await;
    wait_for(
        &visitor,
        Locator::XPath("//p[@class='status' and starts-with(., 'You are chatting with')]"),
    )
    .await;
    let card = Locator::Css("section[aria-label='Rate this chat']");
    assert!(
        !shown(&visitor, card).await,
        "no rating while the chat is open"
    );

    end_from_menu(&visitor).await;
    wait_for(
        &visitor,
        Locator::XPath("//section[@aria-label='Rate this chat' and not(@hidden)]"),
    )
    .await;
    click(&visitor, Locator::Css("button[aria-label='4 of 5 stars']")).await;
    let lit = visitor
        .find_all(Locator::Css("button.score.lit"))
        .await
        .unwrap()
        .len();
    assert_eq!(lit, 4, "four stars light up");
    visitor
        .find(Locator::Css("textarea[aria-label='Comment']"))
        .await
        .unwrap()
        .send_keys("Sorted in a minute")
        .await
        .unwrap();
    click(&visitor, Locator::XPath("//button[.='Send rating']")).await;
    wait_for(
        &visitor,
        Locator::XPath("//p[@class='thanks' and not(@hidden) and .='Thanks for your feedback!']"),
    )
    .await;
    assert!(!shown(&visitor, card).await, "asked once");

    // The agent sees it beside the chat.
    wait_for(
        &agent,
        Locator::XPath("//dl[@aria-label='Visitor']/dd[.='★★★★☆ 4/5 · “Sorted in a minute”']"),
    )
    .await;
    visitor.close().await.unwrap();
    agent.close().await.unwrap();
    harness.stop().await;
}
