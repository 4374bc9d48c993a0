//! An agent finds a chat older than the 50 closed ones the console lists, by a word
//! its visitor wrote, and opens it.

use porchlight_protocol::Author;

use super::*;

/// An ended chat whose visitor wrote `body`.
async fn ended_chat(harness: &Harness, visitor: usize, body: &str) {
    let (_, chat) = visitor_said(harness, &format!("visitor-{visitor}"), body).await;
    let store = &harness.state.store;
    store.end(chat.id, Author::Visitor, None).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_finds_a_chat_older_than_the_latest_fifty_and_opens_it() {
    let harness = Harness::start().await;
    ended_chat(&harness, 0, "My parcel to Reykjavik never arrived").await;
    for visitor in 1..=55 {
        ended_chat(
            &harness,
            visitor,
            &format!("Question {visitor} about sizes"),
        )
        .await;
    }
    let profile = tempfile::tempdir().unwrap();
    let agent = harness.agent(&profile).await;
    click_when(&agent, Locator::XPath("//button[.='Closed']")).await;
    wait_for(&agent, Locator::XPath("//ul[@class='chats']/li[50]")).await;
    let listed = agent
        .find_all(Locator::XPath("//ul[@class='chats']/li"))
        .await
        .unwrap()
        .len();
    assert_eq!(listed, 50, "the console lists the latest 50 closed chats");

    wait_for(&agent, Locator::Css("input[aria-label='Search chats']"))
        .await
        .send_keys("reykjav")
        .await
        .unwrap();
    click(
        &agent,
        Locator::XPath("//form[@role='search']//button[.='Search']"),
    )
    .await;
    wait_for(
        &agent,
        Locator::XPath("//p[@class='found-count' and starts-with(., '1 chat found')]"),
    )
    .await;
    click_when(
        &agent,
        Locator::XPath("//ul[contains(@class,'found')]//button[contains(., 'Reykjavik')]"),
    )
    .await;
    wait_for(
        &agent,
        Locator::XPath(
            "//ol[@class='log']//span[@class='body' and .='My parcel to Reykjavik never arrived']",
        ),
    )
    .await;

    // Cleared, the ordinary list is back.
    click(&agent, Locator::XPath("//button[.='Clear']")).await;
    wait_for(
        &agent,
        Locator::XPath("//ul[@class='chats' and not(@hidden)]"),
    )
    .await;
    agent.close().await.unwrap();
    harness.stop().await;
}
