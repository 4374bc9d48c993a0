//! The visitor's own messages show as sent once acknowledged, everywhere.

use super::*;

/// Records, inside the widget, when each of the visitor's bubbles first showed as
/// pending and when it first showed its stored time (by its text), and when the
/// widget last came back online after "Reconnecting…".
const WATCH_BUBBLES: &str = r#"
    window.bubbles = {};
    window.backOnline = null;
    let reconnecting = false;
    const look = () => {
        const now = performance.now();
        for (const line of document.querySelectorAll('li.mine')) {
            const text = line.querySelector('.body')?.textContent;
            const time = line.querySelector('time')?.textContent ?? '';
            const seen = (window.bubbles[text] ??= {});
            if (line.classList.contains('pending')) seen.pending ??= now;
            else if (/^\d\d:\d\d$/.test(time)) seen.stored ??= now;
        }
        const banner = [...document.querySelectorAll('p.banner')]
            .some((p) => p.textContent === 'Reconnecting…');
        if (reconnecting && !banner) window.backOnline = now;
        reconnecting = banner;
    };
    new MutationObserver(look).observe(document.body,
        {subtree: true, childList: true, characterData: true, attributes: true});
    look();
"#;

/// Writes `text` in the widget's composer and sends it.
async fn write(visitor: &Client, text: &str) {
    wait_for(visitor, Locator::Css("[aria-label='Message']"))
        .await
        .send_keys(text)
        .await
        .unwrap();
    click(visitor, Locator::Css("button[aria-label='Send']")).await;
}

/// Waits until the bubble `text` shows as stored with its time, and returns how long
/// after `since` ("pending": when it appeared; "online": when the widget reconnected)
/// that happened, in milliseconds.
async fn settled_after(visitor: &Client, text: &str, since: &str) -> f64 {
    let stored = format!(
        "//li[contains(@class,'mine') and not(contains(@class,'pending'))][.//span[@class='body' and .='{text}']]/time"
    );
    let time = wait_for(visitor, Locator::XPath(&stored))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        time.len() == 5 && time.as_bytes()[2] == b':',
        "the bubble shows its time, not {time:?}"
    );
    let seen = visitor
        .execute(
            "const seen = window.bubbles[arguments[0]] || {};
             const since = arguments[1] === 'online' ? window.backOnline : seen.pending;
             return [since, seen.stored];",
            vec![json!(text), json!(since)],
        )
        .await
        .unwrap();
    let (Some(since), Some(stored)) = (seen[0].as_f64(), seen[1].as_f64()) else {
        panic!("no record of {text:?} ({since}): {seen}");
    };
    stored - since
}

/// Opens the widget on `path` in a fresh browser and watches its bubbles.
async fn fresh_widget(harness: &Harness, profile: &tempfile::TempDir, path: &str) -> Client {
    let visitor = browser(harness.port, profile).await;
    visitor
        .goto(&format!("{}{path}", harness.base))
        .await
        .unwrap();
    click_launcher(&visitor).await;
    enter_widget(&visitor).await;
    wait_for(&visitor, Locator::Css("[aria-label='Message']")).await;
    visitor.execute(WATCH_BUBBLES, vec![]).await.unwrap();
    visitor
}

const AT_ONCE_MS: f64 = 1000.0;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_visitors_messages_show_as_sent_once_acknowledged_everywhere_and_after_a_reconnect() {
    let harness = Harness::start().await;

    // Live chat: the demo page queues the chat with the first message.
    let live_profile = tempfile::tempdir().unwrap();
    let live = fresh_widget(&harness, &live_profile, "/").await;
    for text in ["first message", "second message"] {
        write(&live, text).await;
        let took = settled_after(&live, text, "pending").await;
        assert!(took <= AT_ONCE_MS, "{text:?} in live chat took {took} ms");
    }
    wait_for(
        &live,
        Locator::XPath("//p[@role='status' and starts-with(., \"You're number 1 in the queue\")]"),
    )
    .await;

    // The AI agent's step (no provider: it answers from knowledge, here none).
    let ai_profile = tempfile::tempdir().unwrap();
    let ai = fresh_widget(&harness, &ai_profile, "/ai").await;
    for text in ["where is my parcel", "and my invoice"] {
        write(&ai, text).await;
        let took = settled_after(&ai, text, "pending").await;
        assert!(took <= AT_ONCE_MS, "{text:?} at the AI step took {took} ms");
    }

    // The bot flow: a choice, then a typed answer.
    use_helpdesk(&harness).await;
    let bot_profile = tempfile::tempdir().unwrap();
    let bot = fresh_widget(&harness, &bot_profile, "/").await;
    click_when(
        &bot,
        Locator::XPath("//div[@class='choices']//button[.='Billing']"),
    )
    .await;
    let took = settled_after(&bot, "Billing", "pending").await;
    assert!(
        took <= AT_ONCE_MS,
        "a choice in the bot flow took {took} ms"
    );
    write(&bot, "ana@example.com").await;
    let took = settled_after(&bot, "ana@example.com", "pending").await;
    assert!(
        took <= AT_ONCE_MS,
        "an answer in the bot flow took {took} ms"
    );

    // While the relay is down, the visitor writes two more: they wait in the outbox
    // and show as sent as soon as the widget is back.
    let harness = harness
        .restart(async || {
            wait_for(
                &live,
                Locator::XPath("//p[@class='banner' and .='Reconnecting…']"),
            )
            .await;
            write(&live, "written offline").await;
            write(&live, "also offline").await;
            wait_for(
                &live,
                Locator::XPath("//li[contains(@class,'pending')]//span[.='also offline']"),
            )
            .await;
        })
        .await;
    for text in ["written offline", "also offline"] {
        let took = settled_after(&live, text, "online").await;
        assert!(
            (0.0..=AT_ONCE_MS).contains(&took),
            "{text:?} after the reconnect took {took} ms"
        );
    }

    for client in [live, ai, bot] {
        client.close().await.unwrap();
    }
    harness.stop().await;
}
