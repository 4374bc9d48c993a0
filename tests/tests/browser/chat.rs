//! A visitor and an agent chat; a visitor walks the example profile.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[expect(
    clippy::too_many_lines,
    reason = "one user story, read from start to end"
)]
async fn a_visitor_and_an_agent_chat_in_real_browsers_and_history_survives_a_reload() {
    let harness = Harness::start().await;
    let (base, port) = (harness.base.clone(), harness.port);

    // The visitor opens the demo page and the widget.
    let visitor_profile = tempfile::tempdir().unwrap();
    let visitor = browser(port, &visitor_profile).await;
    visitor.goto(&format!("{base}/")).await.unwrap();
    assert_eq!(launcher_label(&visitor).await, "Open chat");
    click_launcher(&visitor).await;
    assert_eq!(launcher_label(&visitor).await, "Close chat");
    enter_widget(&visitor).await;
    let message_box = wait_for(&visitor, Locator::Css("textarea[aria-label='Message']")).await;
    message_box.send_keys("My tap is dripping").await.unwrap();
    click(&visitor, Locator::Css("button[aria-label='Send']")).await;
    wait_for(
        &visitor,
        Locator::XPath("//li[contains(@class,'mine') and not(contains(@class,'pending'))]//span[.='My tap is dripping']"),
    )
    .await;
    // Waiting, the visitor sees their place in line and the estimate.
    wait_for(
        &visitor,
        Locator::XPath(
            "//p[@role='status' and .=\"You're number 1 in the queue · wait about 5 minutes\"]",
        ),
    )
    .await;

    // An agent logs into the console in a second browser, joins and replies.
    let agent_profile = tempfile::tempdir().unwrap();
    let agent = harness.agent(&agent_profile).await;
    click_when(&agent, Locator::XPath("//button[.='Join']")).await;
    wait_for(&agent, Locator::XPath("//span[.='My tap is dripping']")).await;
    let reply_box = wait_for(&agent, Locator::Css("textarea[aria-label='Message']")).await;
    reply_box
        .send_keys("Close the valve under the sink, I will call you.")
        .await
        .unwrap();
    click(&agent, Locator::Css("button[aria-label='Send']")).await;
    wait_for(&agent, Locator::XPath("//button[.='End chat']")).await;

    // The visitor sees the join and the reply.
    wait_for(
        &visitor,
        Locator::XPath("//span[.='Admin joined the chat']"),
    )
    .await;
    wait_for(
        &visitor,
        Locator::XPath("//li[contains(@class,'theirs')]//span[.='Close the valve under the sink, I will call you.']"),
    )
    .await;

    // The pictures in the README: the widget on the demo page, and the console.
    screenshot(&visitor, "widget").await;
    screenshot(&agent, "console").await;

    // The context panel shows where the visitor is and their browser.
    wait_for(
        &agent,
        Locator::XPath(&format!("//dl[@aria-label='Visitor']/dd[.='{base}/']")),
    )
    .await;
    wait_for(
        &agent,
        Locator::XPath(
            "//dl[@aria-label='Visitor']/dd[contains(., 'Chrome') and contains(., 'on Linux')]",
        ),
    )
    .await;

    // The admin adds a canned text, then posts it with "/" and Enter: filled in.
    click(&agent, Locator::XPath("//button[.='Canned text']")).await;
    wait_for(&agent, Locator::Css("input[aria-label='Group']"))
        .await
        .send_keys("Welcome")
        .await
        .unwrap();
    click(&agent, Locator::Css("input[aria-label='Title']")).await;
    agent
        .find(Locator::Css("input[aria-label='Title']"))
        .await
        .unwrap()
        .send_keys("Greeting")
        .await
        .unwrap();
    agent
        .find(Locator::Css("textarea[aria-label='Text']"))
        .await
        .unwrap()
        .send_keys("Thanks for waiting, $NAME. I'm $AGENT.")
        .await
        .unwrap();
    click(&agent, Locator::XPath("//button[.='Add canned text']")).await;
    wait_for(&agent, Locator::XPath("//td[.='Greeting']")).await;
    click(&agent, Locator::XPath("//button[.='Chats']")).await;
    let reply_box = wait_for(&agent, Locator::Css("textarea[aria-label='Message']")).await;
    reply_box.send_keys("/greet").await.unwrap();
    wait_for(
        &agent,
        Locator::XPath("//ul[@aria-label='Canned text']//strong[.='Welcome · Greeting']"),
    )
    .await;
    reply_box.send_keys("\u{E007}").await.unwrap();
    wait_for(
        &visitor,
        Locator::XPath("//li[contains(@class,'theirs')]//span[starts-with(., 'Thanks for waiting, Visitor ') and contains(., \"I'm Admin.\")]"),
    )
    .await;

    // The visitor sends a picture (the demo profile allows files); the agent sees it.
    let picture = visitor_profile.path().join("shot.png");
    std::fs::write(&picture, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").unwrap();
    wait_for(&visitor, Locator::Css("input[aria-label='Attach a file']"))
        .await
        .send_keys(picture.to_str().unwrap())
        .await
        .unwrap();
    wait_for(&agent, Locator::Css("img[alt='shot.png']")).await;
    wait_for(&visitor, Locator::Css("img[alt='shot.png']")).await;

    // The agent switches visitor uploads off: the paperclip goes at once.
    click(
        &agent,
        Locator::XPath("//label[contains(., 'Visitor can send files')]/input"),
    )
    .await;
    wait_for(
        &visitor,
        Locator::XPath("//form[@class='composer' and not(.//input[@aria-label='Attach a file'])]"),
    )
    .await;

    // A reload keeps the conversation.
    visitor.enter_parent_frame().await.unwrap();
    visitor.refresh().await.unwrap();
    click_launcher(&visitor).await;
    enter_widget(&visitor).await;
    wait_for(&visitor, Locator::XPath("//span[.='My tap is dripping']")).await;
    wait_for(
        &visitor,
        Locator::XPath("//span[.='Close the valve under the sink, I will call you.']"),
    )
    .await;

    // The agent ends the chat; the visitor is told.
    click(&agent, Locator::XPath("//button[.='End chat']")).await;
    wait_for(&visitor, Locator::XPath("//span[.='Admin ended the chat']")).await;

    visitor.close().await.unwrap();
    agent.close().await.unwrap();
    harness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_walks_the_example_profile_from_greeting_to_live_chat() {
    let harness = Harness::start().await;
    use_helpdesk(&harness).await;

    let visitor_profile = tempfile::tempdir().unwrap();
    let visitor = browser(harness.port, &visitor_profile).await;
    visitor.goto(&format!("{}/", harness.base)).await.unwrap();
    click_launcher(&visitor).await;
    enter_widget(&visitor).await;

    // The bot greets and asks; the composer waits for a choice.
    wait_for(&visitor, Locator::XPath("//h1[.='Acme Plumbing']")).await;
    wait_for(
        &visitor,
        Locator::XPath("//span[.=\"Hello! I'm the Acme assistant.\"]"),
    )
    .await;
    let composer = wait_for(&visitor, Locator::Css("textarea[aria-label='Message']")).await;
    assert_eq!(
        composer.attr("disabled").await.unwrap().as_deref(),
        Some("true")
    );
    assert_eq!(
        composer.attr("placeholder").await.unwrap().as_deref(),
        Some("Choose one of the options above.")
    );

    // The choices are buttons that work from the keyboard.
    let billing = wait_for(
        &visitor,
        Locator::XPath("//div[@class='choices']//button[.='Billing']"),
    )
    .await;
    billing.send_keys("\u{E007}").await.unwrap();

    // An email input, with an inline hint before anything is sent.
    let email = wait_for(
        &visitor,
        Locator::Css("input[type='email'][aria-label='Message']"),
    )
    .await;
    email.send_keys("not-an-email").await.unwrap();
    click(&visitor, Locator::Css("button[aria-label='Send']")).await;
    wait_for(
        &visitor,
        Locator::XPath(
            "//p[@class='hint' and .='Please enter an email address like name@example.com.']",
        ),
    )
    .await;
    let email = visitor
        .find(Locator::Css("input[type='email'][aria-label='Message']"))
        .await
        .unwrap();
    // Select all and type over it, as a person would.
    email
        .send_keys("\u{E009}a\u{E009}ana@example.com")
        .await
        .unwrap();
    click(&visitor, Locator::Css("button[aria-label='Send']")).await;
    wait_for(
        &visitor,
        Locator::XPath("//span[.=\"Thanks! I'm connecting you with the team now: you're number 1 in line, about 5 min.\"]"),
    )
    .await;
    wait_for(
        &visitor,
        Locator::XPath("//p[@class='status' and .='Waiting for an agent…']"),
    )
    .await;

    // The chat now waits for an agent, who sees the visitor's answers.
    let agent_profile = tempfile::tempdir().unwrap();
    let agent = harness.agent(&agent_profile).await;
    click_when(&agent, Locator::XPath("//button[.='Join']")).await;
    wait_for(&agent, Locator::XPath("//span[.='Billing']")).await;
    wait_for(&agent, Locator::XPath("//span[.='ana@example.com']")).await;
    wait_for(
        &visitor,
        Locator::XPath("//span[.='Admin joined the chat']"),
    )
    .await;

    visitor.close().await.unwrap();
    agent.close().await.unwrap();
    harness.stop().await;
}
