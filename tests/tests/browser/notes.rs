//! Around the messages in a real browser: each side sees the other typing, and a
//! private note shows in the console but never in the widget.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_shows_both_ways_and_a_private_note_never_reaches_the_widget() {
    let harness = Harness::start().await;
    let visitor_profile = tempfile::tempdir().unwrap();
    let visitor = visitor_in_widget(&harness, &visitor_profile).await;
    let message_box = wait_for(&visitor, Locator::Css("textarea[aria-label='Message']")).await;
    message_box.send_keys("I was charged twice").await.unwrap();
    click(&visitor, Locator::Css("button[aria-label='Send']")).await;

    let agent_profile = tempfile::tempdir().unwrap();
    let agent = harness.agent(&agent_profile).await;
    click_when(&agent, Locator::XPath("//button[.='Join']")).await;
    wait_for(
        &visitor,
        Locator::XPath("//p[@class='status' and starts-with(., 'You are chatting with')]"),
    )
    .await;

    // The visitor types: the agent sees it.
    message_box.send_keys("It was on Monday").await.unwrap();
    let typing = wait_for(
        &agent,
        Locator::XPath("//p[@class='typing-now' and not(@hidden)]"),
    )
    .await;
    assert!(typing.text().await.unwrap().ends_with(" is typing…"));

    // A private note: amber in the console, marked as one.
    click_when(&agent, Locator::XPath("//button[.='Private note']")).await;
    let note_box = wait_for(&agent, Locator::Css("textarea[aria-label='Private note']")).await;
    note_box
        .send_keys("Refund approved by finance, ref 5521")
        .await
        .unwrap();
    click(&agent, Locator::Css("button[aria-label='Add note']")).await;
    let note = wait_for(
        &agent,
        Locator::XPath("//li[contains(@class,'note') and not(contains(@class,'pending'))]"),
    )
    .await;
    let shown = note.text().await.unwrap();
    assert!(
        shown.contains("Private note") && shown.contains("ref 5521"),
        "{shown}"
    );

    // The agent types a reply: the visitor sees it, then the reply.
    click(&agent, Locator::XPath("//button[.='Reply']")).await;
    let reply_box = wait_for(&agent, Locator::Css("textarea[aria-label='Message']")).await;
    reply_box
        .send_keys("Refunded, sorry about that")
        .await
        .unwrap();
    let typing = wait_for(
        &visitor,
        Locator::XPath("//p[@class='typing-now' and not(@hidden)]"),
    )
    .await;
    assert!(typing.text().await.unwrap().ends_with(" is typing…"));
    click(&agent, Locator::Css("button[aria-label='Send']")).await;
    wait_for(
        &visitor,
        Locator::XPath("//li[contains(@class,'theirs')]//span[@class='body' and .='Refunded, sorry about that']"),
    )
    .await;
    let widget_text = visitor
        .find(Locator::Css("body"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!widget_text.contains("5521"), "{widget_text}");
    assert!(
        !widget_text.contains("is typing"),
        "the reply ended the typing"
    );

    visitor.close().await.unwrap();
    agent.close().await.unwrap();
    harness.stop().await;
}
