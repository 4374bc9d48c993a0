//! Visitors rate a chat once it ended, as the profile asks; agents see the rating and
//! the reports count it per agent and team.

mod common;

use common::{TestRelay, json_call, start};
use serde_json::{Value, json};

/// A profile that hands every chat to the Support team and asks for `rating`.
async fn rated_profile(relay: &TestRelay, rating: &str) {
    let profile = format!(
        r#"{{"name":"Rated {rating}","start":"a","rating":"{rating}","steps":[{{"id":"a","type":"action","action":"start_live_chat","teams":["Support"]}}]}}"#
    );
    relay
        .save_profile(&format!("Rated {rating}"), profile, true)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_rates_an_ended_chat_and_agents_and_reports_see_it() {
    let relay = start().await;
    rated_profile(&relay, "stars").await;
    let mut visitor = relay.visitor().await;
    let welcome = visitor.hello(None, None).await;
    assert_eq!(welcome["profile"]["rating"], "stars");
    let token = welcome["token"].as_str().unwrap().to_owned();
    let chat = visitor.say("v-1", "Hi").await["conversation_id"]
        .as_i64()
        .unwrap();
    let (mut ana, _) = relay.agent(&relay.admin().email, "Admin").await;
    ana.send(json!({"type": "join", "conversation_id": chat}))
        .await;
    ana.next_of_type("joined").await;

    // Not before it ended.
    let early = visitor
        .answer(json!({"type": "rate", "score": 5}), "rated")
        .await;
    assert_eq!(
        (early["code"].as_str(), early["message"].as_str()),
        (
            Some("not_allowed"),
            Some("Rate the chat once it has ended.")
        )
    );
    ana.send(json!({"type": "end_chat", "conversation_id": chat}))
        .await;
    visitor.next_status("ended").await;

    // Out-of-scale scores and long comments are refused.
    for (frame, code) in [
        (json!({"type": "rate", "score": 0}), "bad_frame"),
        (json!({"type": "rate", "score": 6}), "bad_frame"),
        (
            json!({"type": "rate", "score": 4, "comment": "x".repeat(1001)}),
            "message_too_long",
        ),
    ] {
        assert_eq!(visitor.answer(frame, "rated").await["code"], code);
    }
    let rated = visitor
        .answer(
            json!({"type": "rate", "score": 4, "comment": "  Quick and kind  "}),
            "rated",
        )
        .await;
    assert_eq!(
        rated,
        json!({"type": "rated", "conversation_id": chat, "score": 4})
    );
    let line = loop {
        let line = ana.next_of_type("chat").await;
        if line.get("rating").is_some() {
            break line;
        }
    };
    assert_eq!(
        (line["rating"].as_u64(), line["rating_comment"].as_str()),
        (Some(4), Some("Quick and kind"))
    );

    // The returning visitor is not asked again; the report counts it for Ana and Support.
    let mut again = relay.visitor().await;
    let welcome = again.hello(Some(&token), None).await;
    assert_eq!(welcome["conversation"]["rating"], 4);
    let admin = relay
        .agent_cookie(&relay.admin().email.clone(), "Admin")
        .await;
    let (status, report) = json_call(relay.addr, "GET", "/api/reports", &admin, Value::Null).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        report["per_agent"],
        json!([{"agent": "Admin", "chats": 1, "rated": 1, "score_sum": 4}])
    );
    assert_eq!(
        report["per_team"],
        json!([{"team": "Support", "chats": 1, "rated": 1, "score_sum": 4}])
    );
    assert_eq!(
        (report["rated"].as_u64(), report["score_sum"].as_u64()),
        (Some(1), Some(4))
    );
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thumbs_take_only_up_or_down_and_an_unrated_profile_takes_none() {
    let relay = start().await;
    rated_profile(&relay, "thumbs").await;
    let mut visitor = relay.visitor().await;
    visitor.hello(None, None).await;
    visitor.say("v-1", "Hi").await;
    visitor.send(json!({"type": "end_chat"})).await;
    visitor.next_status("ended").await;
    let refused = visitor
        .answer(json!({"type": "rate", "score": 3}), "rated")
        .await;
    assert_eq!(
        refused["message"],
        "Rate with 1 (thumbs down) or 5 (thumbs up)."
    );
    let rated = visitor
        .answer(json!({"type": "rate", "score": 1}), "rated")
        .await;
    assert_eq!(rated["score"], 1);

    rated_profile(&relay, "off").await;
    let mut other = relay.visitor().await;
    let welcome = other.hello(None, None).await;
    assert!(welcome["profile"].get("rating").is_none());
    other.say("o-1", "Hi").await;
    other.send(json!({"type": "end_chat"})).await;
    other.next_status("ended").await;
    let refused = other
        .answer(json!({"type": "rate", "score": 5}), "rated")
        .await;
    assert_eq!(
        (refused["code"].as_str(), refused["message"].as_str()),
        (Some("not_allowed"), Some("This chat is not rated."))
    );
    relay.stop().await;
}
