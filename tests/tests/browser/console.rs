//! The console beyond the chat: profiles, ringing, people, through tickets.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_checks_saves_and_tries_a_profile_in_the_console() {
    let harness = Harness::start().await;
    let profile = tempfile::tempdir().unwrap();
    let admin = harness.agent(&profile).await;
    click_when(&admin, Locator::XPath("//nav//button[.='Profiles']")).await;
    click_when(
        &admin,
        Locator::XPath("//ul[@class='profile-list']//button[contains(.,'Default')]"),
    )
    .await;
    wait_for(
        &admin,
        Locator::XPath("//table[@class='steps']//td[.='live_chat']"),
    )
    .await;

    // A broken edit: the problem shows next to its step, and saving is refused.
    let source = admin
        .find(Locator::Css("textarea[aria-label='Profile']"))
        .await
        .unwrap();
    paste(
        &admin,
        &source,
        "name = \"Default\"\nstart = \"a\"\n[[steps]]\nid = \"a\"\ntype = \"message\"\ntext = \"hi\"\nnext = \"ghost\"\n",
    )
    .await;
    click(&admin, Locator::XPath("//button[.='Check']")).await;
    wait_for(
        &admin,
        Locator::XPath("//tr[contains(@class,'bad')]/td[1][.='a']/..//li[contains(.,'leads to step \"ghost\", which does not exist')]"),
    )
    .await;
    click(&admin, Locator::XPath("//button[.='Save']")).await;
    wait_for(
        &admin,
        Locator::XPath("//p[@class='note' and .='Not saved: fix the problems below.']"),
    )
    .await;

    // A new profile from the example: saved, listed, and tried in a test widget.
    click(&admin, Locator::XPath("//button[.='New profile']")).await;
    let example = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/helpdesk.toml"),
    )
    .unwrap();
    paste(&admin, &source, &example).await;
    click(&admin, Locator::XPath("//button[.='Save']")).await;
    // Saved, but not the site's chat profile: the note says so.
    wait_for(
        &admin,
        Locator::XPath("//p[@class='note' and .=\"Saved. It is not the site's chat profile, so new chats do not use it yet.\"]"),
    )
    .await;
    wait_for(
        &admin,
        Locator::XPath("//ul[@class='profile-list']//button[contains(.,'Help desk')]"),
    )
    .await;
    // Made the site's chat profile, it is what new chats use.
    click(
        &admin,
        Locator::XPath("//label[contains(., \"Use for the site's chats\")]/input"),
    )
    .await;
    click(&admin, Locator::XPath("//button[.='Save']")).await;
    wait_for(
        &admin,
        Locator::XPath("//p[@class='note' and .='Saved. New chats use it now.']"),
    )
    .await;
    click(&admin, Locator::XPath("//button[.='Try it']")).await;
    wait_for(&admin, Locator::Css("iframe[title='Chat preview']"))
        .await
        .enter_frame()
        .await
        .unwrap();
    wait_for(&admin, Locator::XPath("//h1[.='Acme Plumbing']")).await;

    admin.close().await.unwrap();
    harness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_rings_for_two_agents_stops_for_the_other_when_one_joins_and_is_transferred() {
    let harness = Harness::start().await;
    harness
        .add_agent("bo@example.com", "Bo", "bo-password-1")
        .await;
    let (ana_profile, bo_profile, visitor_profile) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let ana = harness.agent(&ana_profile).await;
    let bo = harness
        .log_in(&bo_profile, "bo@example.com", "bo-password-1")
        .await;
    for agent in [&ana, &bo] {
        wait_for(agent, Locator::Css("select[aria-label='Status']")).await;
    }

    let visitor = browser(harness.port, &visitor_profile).await;
    visitor.goto(&format!("{}/", harness.base)).await.unwrap();
    click_launcher(&visitor).await;
    enter_widget(&visitor).await;
    wait_for(&visitor, Locator::Css("textarea[aria-label='Message']"))
        .await
        .send_keys("Is anyone there?")
        .await
        .unwrap();
    click(&visitor, Locator::Css("button[aria-label='Send']")).await;

    // Both agents see it ring.
    for agent in [&ana, &bo] {
        wait_for(agent, Locator::Css("li.chat.ringing")).await;
        wait_for(
            agent,
            Locator::XPath("//button[contains(@class,'ringing-badge') and .='1 chat is ringing']"),
        )
        .await;
    }
    // Ana joins; Bo's ring stops at once.
    click_when(
        &ana,
        Locator::XPath("//li[contains(@class,'ringing')]//button[.='Join']"),
    )
    .await;
    wait_for(&ana, Locator::XPath("//button[.='End chat']")).await;
    bo.wait()
        .at_most(PATIENCE)
        .for_element(Locator::XPath("//li[contains(@class,'chat') and not(contains(@class,'ringing'))]//span[.='With Admin']"))
        .await
        .expect("Bo's ring stopped and Bo sees who took the chat");
    assert!(
        bo.find(Locator::Css("li.chat.ringing")).await.is_err(),
        "nothing rings for Bo any more"
    );
    wait_for(
        &visitor,
        Locator::XPath("//span[.='Admin joined the chat']"),
    )
    .await;

    // Ana transfers the chat to Bo: it rings for Bo again, both sides are told.
    click_when(
        &ana,
        Locator::XPath("//select[@aria-label='Transfer']/option[.='Bo']"),
    )
    .await;
    wait_for(
        &visitor,
        Locator::XPath("//span[.='Admin transferred the chat to Bo']"),
    )
    .await;
    wait_for(
        &bo,
        Locator::XPath("//li[contains(@class,'ringing')]//button[.='Join']"),
    )
    .await;
    // Bo works from the keyboard: "?" lists the shortcuts, "a" joins what rings.
    press(&bo, "?").await;
    wait_for(
        &bo,
        Locator::Css("[role='dialog'][aria-label='Keyboard shortcuts']"),
    )
    .await;
    press(&bo, "a").await;
    wait_for(&bo, Locator::XPath("//button[.='End chat']")).await;
    wait_for(&visitor, Locator::XPath("//span[.='Bo joined the chat']")).await;

    for client in [visitor, ana, bo] {
        client.close().await.unwrap();
    }
    harness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[expect(
    clippy::too_many_lines,
    reason = "one user story, read from start to end"
)]
async fn an_admin_adds_a_team_and_an_agent_who_then_logs_in() {
    let harness = Harness::start().await;
    let admin_profile = tempfile::tempdir().unwrap();
    let admin = harness.agent(&admin_profile).await;
    click_when(&admin, Locator::XPath("//button[.='People']")).await;

    wait_for(&admin, Locator::Css("input[aria-label='New team']"))
        .await
        .send_keys("Billing")
        .await
        .unwrap();
    click(&admin, Locator::XPath("//button[.='Add team']")).await;
    wait_for(
        &admin,
        Locator::XPath("//section[@aria-label='Teams']//td[.='Billing']"),
    )
    .await;
    // Billing's new chats are given out in turn instead of ringing.
    admin
        .find(Locator::Css("select[aria-label='New chats for Billing']"))
        .await
        .unwrap()
        .select_by_value("round_robin")
        .await
        .unwrap();
    wait_for(
        &admin,
        Locator::XPath("//p[@role='status' and .='Assignment saved.']"),
    )
    .await;
    let teams = harness.state.store.team_assignments().await.unwrap();
    assert!(
        teams.iter().any(|team| team.team == "Billing"
            && team.assignment == porchlight_protocol::api::people::Assignment::RoundRobin),
        "{teams:?}"
    );

    admin
        .find(Locator::Css("input[aria-label=\"New agent's email\"]"))
        .await
        .unwrap()
        .send_keys("cy@example.com")
        .await
        .unwrap();
    admin
        .find(Locator::Css("input[aria-label=\"New agent's name\"]"))
        .await
        .unwrap()
        .send_keys("Cy")
        .await
        .unwrap();
    click(&admin, Locator::XPath("//button[.='Add agent']")).await;
    let notice = wait_for(
        &admin,
        Locator::XPath("//p[@role='status' and contains(., 'one-time password')]"),
    )
    .await
    .text()
    .await
    .unwrap();
    let password = notice.rsplit(' ').next().unwrap().to_owned();

    click_when(&admin, Locator::Css("input[aria-label='Cy in Billing']")).await;
    admin
        .find(Locator::Css("select[aria-label='Access of Cy']"))
        .await
        .unwrap()
        .select_by_value("team")
        .await
        .unwrap();
    click(&admin, Locator::XPath("//button[.='Save Cy']")).await;
    wait_for(
        &admin,
        Locator::XPath("//p[@role='status' and .='Agent saved.']"),
    )
    .await;
    let accounts = harness.state.store.agent_accounts().await.unwrap();
    let cy = accounts
        .iter()
        .find(|account| account.name == "Cy")
        .unwrap();
    assert_eq!(cy.teams, ["Billing"]);
    assert_eq!(cy.access.as_str(), "team");

    click(
        &admin,
        Locator::XPath("//label[contains(., 'one live chat open at a time')]/input"),
    )
    .await;
    click(&admin, Locator::XPath("//button[.='Save chat settings']")).await;
    wait_for(
        &admin,
        Locator::XPath("//p[@role='status' and .='Chat settings saved.']"),
    )
    .await;
    assert!(
        harness
            .state
            .store
            .chat_rules()
            .await
            .unwrap()
            .one_chat_per_agent
    );

    // The Reports page draws its charts and offers the exports.
    click(&admin, Locator::XPath("//button[.='Reports']")).await;
    wait_for(&admin, Locator::Css("svg[aria-label^='Chats per day']")).await;
    wait_for(
        &admin,
        Locator::XPath("//dl[@aria-label='Figures']//dt[.='Chats']"),
    )
    .await;
    let export = admin
        .find(Locator::XPath("//a[.='Export chats (CSV)']"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    assert!(
        export.starts_with("/api/reports/chats.csv?from=20"),
        "{export}"
    );

    // Cy's first login: the one-time password must be replaced before anything else.
    let cy_profile = tempfile::tempdir().unwrap();
    let cy_browser = harness
        .log_in(&cy_profile, "cy@example.com", &password)
        .await;
    wait_for(
        &cy_browser,
        Locator::XPath("//h2[.='Choose your password']"),
    )
    .await;
    let fields = cy_browser
        .find_all(Locator::Css("form.password-form input[type='password']"))
        .await
        .unwrap();
    assert_eq!(fields.len(), 2, "the one-time password is not asked again");
    fields[0].send_keys("cy-own-password").await.unwrap();
    fields[1].send_keys("cy-own-password").await.unwrap();
    click(&cy_browser, Locator::XPath("//button[.='Save password']")).await;
    wait_for(&cy_browser, Locator::XPath("//nav//strong[.='Cy']")).await;
    assert!(
        cy_browser
            .find(Locator::XPath("//button[.='People']"))
            .await
            .is_err(),
        "agents do not see the admin pages"
    );

    // An admin gives Cy a new one-time password: Cy's console is logged out at once.
    click(&admin, Locator::XPath("//button[.='People']")).await;
    click_when(&admin, Locator::XPath("//button[.='New password for Cy']")).await;
    wait_for(
        &admin,
        Locator::XPath("//p[@role='status' and starts-with(., 'Cy is logged out everywhere.')]"),
    )
    .await;
    wait_for(&cy_browser, Locator::XPath("//button[.='Log in']")).await;

    cy_browser.close().await.unwrap();
    admin.close().await.unwrap();
    harness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[expect(
    clippy::too_many_lines,
    reason = "one user story, read from start to end"
)]
async fn through_tickets_an_agent_takes_the_ticket_and_joins_its_chat() {
    let harness = Harness::start().await;
    let admin_profile = tempfile::tempdir().unwrap();
    let admin = harness.agent(&admin_profile).await;
    click_when(&admin, Locator::XPath("//button[.='People']")).await;
    click_when(
        &admin,
        Locator::XPath("//label[contains(., 'Through tickets')]/input"),
    )
    .await;
    click(
        &admin,
        Locator::XPath("//label[contains(., 'assigned to the linked ticket')]/input"),
    )
    .await;
    click(&admin, Locator::XPath("//button[.='Save chat settings']")).await;
    wait_for(
        &admin,
        Locator::XPath("//p[@role='status' and .='Chat settings saved.']"),
    )
    .await;

    let visitor_profile = tempfile::tempdir().unwrap();
    let visitor = browser(harness.port, &visitor_profile).await;
    visitor.goto(&format!("{}/", harness.base)).await.unwrap();
    click_launcher(&visitor).await;
    enter_widget(&visitor).await;
    wait_for(&visitor, Locator::Css("textarea[aria-label='Message']"))
        .await
        .send_keys("Where is my parcel?")
        .await
        .unwrap();
    click(&visitor, Locator::Css("button[aria-label='Send']")).await;

    click(&admin, Locator::XPath("//button[.='Tickets']")).await;
    let take = wait_for(
        &admin,
        Locator::XPath(
            "//tr[td[starts-with(., 'Chat with Visitor')]]//button[starts-with(., 'Take ticket')]",
        ),
    )
    .await;
    assert!(
        admin
            .find(Locator::XPath("//li[contains(@class, 'ringing')]"))
            .await
            .is_err(),
        "nothing rings through tickets"
    );
    take.click().await.unwrap();
    click_when(
        &admin,
        Locator::XPath("//tr[td[.='Admin']]//button[starts-with(., 'Join chat')]"),
    )
    .await;
    wait_for(&admin, Locator::XPath("//span[.='Where is my parcel?']")).await;
    // The chat's header names its ticket.
    wait_for(
        &admin,
        Locator::XPath("//dl[@aria-label='Visitor']/dt[.='Ticket']/following-sibling::dd[1][starts-with(., '#')]"),
    )
    .await;
    wait_for(&admin, Locator::XPath("//button[.='End chat']")).await;
    wait_for(
        &visitor,
        Locator::XPath("//span[.='Admin joined the chat']"),
    )
    .await;

    // Ending the chat puts its transcript on the ticket.
    click(&admin, Locator::XPath("//button[.='End chat']")).await;
    wait_for(&visitor, Locator::XPath("//span[.='Admin ended the chat']")).await;
    click(&admin, Locator::XPath("//button[.='Tickets']")).await;
    click_when(
        &admin,
        Locator::XPath("//button[starts-with(., 'Chat with Visitor')]"),
    )
    .await;
    wait_for(
        &admin,
        Locator::XPath("//pre[contains(., 'Visitor: Where is my parcel?')]"),
    )
    .await;
    click(
        &admin,
        Locator::XPath("//button[@role='tab' and .='Chats']"),
    )
    .await;
    wait_for(
        &admin,
        Locator::XPath("//ul[@class='ticket-chats']/li[contains(., 'Ended')]"),
    )
    .await;

    // An admin-defined category is set on the ticket, and the ticket is closed.
    click(&admin, Locator::XPath("//button[.='People']")).await;
    wait_for(&admin, Locator::Css("input[aria-label='New category']"))
        .await
        .send_keys("Outcome")
        .await
        .unwrap();
    admin
        .find(Locator::Css("input[aria-label='Its values']"))
        .await
        .unwrap()
        .send_keys("Solved, No reply")
        .await
        .unwrap();
    click(&admin, Locator::XPath("//button[.='Add category']")).await;
    wait_for(
        &admin,
        Locator::XPath("//li[.='Outcome: Solved, No reply']"),
    )
    .await;
    click(&admin, Locator::XPath("//button[.='Tickets']")).await;
    click_when(
        &admin,
        Locator::XPath("//button[starts-with(., 'Chat with Visitor')]"),
    )
    .await;
    wait_for(&admin, Locator::Css("select[aria-label='Outcome']"))
        .await
        .select_by_value("Solved")
        .await
        .unwrap();
    wait_for(
        &admin,
        Locator::XPath("//select[@aria-label='Outcome']/option[@value='Solved' and @selected]"),
    )
    .await;
    click(&admin, Locator::XPath("//button[.='Close ticket']")).await;
    wait_for(&admin, Locator::XPath("//button[.='Reopen ticket']")).await;
    click(
        &admin,
        Locator::XPath("//button[@class='filter' and .='Closed']"),
    )
    .await;
    wait_for(
        &admin,
        Locator::XPath("//tr/td/button[starts-with(., 'Chat with Visitor')]"),
    )
    .await;

    visitor.close().await.unwrap();
    admin.close().await.unwrap();
    harness.stop().await;
}
