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
    click(&visitor, options).await;
    click_when(
        &visitor,
        Locator::XPath("//button[@role='menuitem' and .='End chat']"),
    )
    .await;
    click_when(
        &visitor,
        Locator::XPath("//div[@role='alertdialog']//button[.='End chat']"),
    )
    .await;
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

/// Whether an element `locator` finds is on screen (the menu is drawn once and hidden).
async fn shown(client: &Client, locator: Locator<'_>) -> bool {
    for element in client.find_all(locator).await.unwrap() {
        if element.is_displayed().await.unwrap() {
            return true;
        }
    }
    false
}
