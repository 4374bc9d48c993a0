//! The console's email work: an agent replies on a ticket for its requester, and an
//! admin rewords a site's transcript email.

use std::sync::atomic::Ordering;

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_opens_a_ticket_for_someone_and_replies_to_them_by_email() {
    let harness = Harness::start().await;
    harness.state.email_on.store(true, Ordering::Relaxed);
    let profile = tempfile::tempdir().unwrap();
    let admin = harness.agent(&profile).await;
    click_when(&admin, Locator::XPath("//button[.='Tickets']")).await;
    fill_fields(
        &admin,
        &[
            ("New ticket subject", "Phone call from Bo"),
            ("Requester's email", "bo@example.com"),
        ],
    )
    .await;
    click(&admin, Locator::XPath("//button[.='New ticket']")).await;
    click_when(
        &admin,
        Locator::XPath("//td/button[.='Phone call from Bo']"),
    )
    .await;
    wait_for(
        &admin,
        Locator::XPath("//p[@class='hint' and .='Emailed to bo@example.com.']"),
    )
    .await;
    wait_for(
        &admin,
        Locator::Css("textarea[aria-label='Reply to the requester']"),
    )
    .await
    .send_keys("We will call you back at 3pm.")
    .await
    .unwrap();
    click(&admin, Locator::XPath("//button[.='Send reply']")).await;
    wait_for(
        &admin,
        Locator::XPath("//p[@role='status' and .='Reply sent to bo@example.com.']"),
    )
    .await;
    wait_for(
        &admin,
        Locator::XPath("//li[p[.='Reply by Admin']]/pre[.='We will call you back at 3pm.']"),
    )
    .await;
    let outbox = harness.state.store.outbox(10).await.unwrap();
    assert!(
        outbox
            .iter()
            .any(|line| line.kind == "ticket_reply" && line.to.as_deref() == Some("bo@example.com")),
        "{outbox:?}"
    );
    admin.close().await.unwrap();
    harness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_rewords_the_transcript_email_and_a_wrong_variable_is_named() {
    let harness = Harness::start().await;
    let profile = tempfile::tempdir().unwrap();
    let admin = harness.agent(&profile).await;
    click_when(&admin, Locator::XPath("//nav//button[.='Email']")).await;
    let subject = "input[aria-label='Transcript (to the visitor): subject']";
    wait_for_value(&admin, subject, "Your chat with $TITLE (#$CHATID)").await;
    let field = admin.find(Locator::Css(subject)).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys("Your Acme chat #$CHATID").await.unwrap();
    let save = Locator::XPath(
        "//fieldset[@aria-label='Transcript (to the visitor)']//button[.='Save template']",
    );
    click(&admin, save).await;
    wait_for(
        &admin,
        Locator::XPath("//p[@role='status' and .='Transcript (to the visitor) saved.']"),
    )
    .await;
    wait_for(
        &admin,
        Locator::XPath(
            "//fieldset[@aria-label='Transcript (to the visitor)']/legend[contains(., 'your own')]",
        ),
    )
    .await;
    let saved = harness
        .state
        .store
        .setting("email_templates")
        .await
        .unwrap()
        .unwrap();
    assert!(saved.contains("Your Acme chat #$CHATID"), "{saved}");

    wait_for(
        &admin,
        Locator::Css("textarea[aria-label='Transcript (to the visitor): body']"),
    )
    .await
    .send_keys(" Signed, $AGENT")
    .await
    .unwrap();
    click(&admin, save).await;
    wait_for(
        &admin,
        Locator::XPath(
            "//p[@role='status' and starts-with(., '$AGENT is not filled in this email')]",
        ),
    )
    .await;
    admin.close().await.unwrap();
    harness.stop().await;
}
