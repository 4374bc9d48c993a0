//! The welcome carries the widget's lines in the visitor's language: the profile's
//! language, else the first of the browser's the widget speaks, else English (built
//! into the widget, so nothing is sent).

mod common;

use common::{Ws, start};
use porchlight_protocol::words::{Language, Text};
use porchlight_relay::flow::{Format, Profile};
use serde_json::{Value, json};

async fn welcome_for(visitor: &mut Ws, languages: &[&str]) -> Value {
    visitor
        .send(json!({"type": "hello", "v": 1, "site": "demo", "languages": languages}))
        .await;
    visitor.next_of_type("welcome").await["profile"].clone()
}

fn line(profile: &Value, text: Text) -> &str {
    profile["lines"][text as usize].as_str().unwrap()
}

#[tokio::test]
async fn the_welcome_speaks_the_profiles_language_else_the_browsers() {
    let relay = start().await;
    let english = welcome_for(&mut relay.visitor().await, &["nl-NL", "en-GB"]).await;
    assert!(english.get("language").is_none(), "{english}");
    assert!(
        english.get("lines").is_none(),
        "English is built into the widget"
    );

    let french = welcome_for(&mut relay.visitor().await, &["nl-NL", "fr-CA", "de"]).await;
    assert_eq!(french["language"], "fr");
    assert_eq!(french["lines"].as_array().unwrap().len(), Text::ALL.len());
    assert_eq!(line(&french, Text::EndChat), "Terminer le chat");

    let text = r#"
name = "Deutsch"
start = "a"
[appearance]
language = "de"
[appearance.strings.de]
title = "Fragen Sie Acme"
[[steps]]
id = "a"
type = "action"
action = "start_live_chat"
"#;
    relay
        .use_profile(&Profile::parse(text, Format::Toml).unwrap(), true)
        .await;
    let german = welcome_for(&mut relay.visitor().await, &["fr-CA"]).await;
    assert_eq!(german["language"], Language::De.code());
    assert_eq!(
        line(&german, Text::Title),
        "Fragen Sie Acme",
        "the profile's own line"
    );
    assert_eq!(line(&german, Text::Send), "Senden");
    relay.stop().await;
}
