use super::*;

#[test]
fn every_language_has_a_line_for_each_text_with_the_same_placeholders() {
    for language in Language::ALL {
        for &text in Text::ALL {
            let line = language.lines()[text as usize];
            assert!(!line.trim().is_empty(), "{language:?} {}", text.key());
            let mut own = placeholders(line);
            let mut english = text.placeholders();
            own.sort_unstable();
            english.sort_unstable();
            assert_eq!(own, english, "{language:?} {}", text.key());
        }
    }
    let mut keys: Vec<&str> = Text::ALL.iter().map(|text| text.key()).collect();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(keys.len(), Text::ALL.len(), "keys are unique");
}

#[test]
fn the_profile_picks_the_language_else_the_browser_else_english() {
    let browser = |tags: &[&str]| tags.iter().map(|tag| (*tag).to_owned()).collect::<Vec<_>>();
    assert_eq!(
        Language::pick(Some(Language::Fr), &browser(&["de-DE"])),
        Language::Fr
    );
    assert_eq!(
        Language::pick(None, &browser(&["nl-NL", "de-AT", "en"])),
        Language::De
    );
    assert_eq!(Language::pick(None, &browser(&["AR"])), Language::Ar);
    assert_eq!(
        Language::pick(None, &browser(&["nl", "pt_BR"])),
        Language::En
    );
    assert_eq!(Language::pick(None, &[]), Language::En);
    assert!(Language::Ar.is_rtl() && !Language::De.is_rtl());
    let mut many = vec!["nl".to_owned(); MAX_BROWSER_LANGUAGES];
    many.push("de".to_owned());
    assert_eq!(
        Language::spoken(&many),
        None,
        "only the first ten tags are read"
    );
}

#[test]
fn the_relay_sends_a_table_with_the_profiles_own_lines_and_nothing_for_plain_english() {
    let mut overrides = Overrides::new();
    overrides.insert(
        Language::De,
        BTreeMap::from([("end_chat".to_owned(), "Tschüss".to_owned())]),
    );
    let german = Language::De.table(&overrides);
    assert_eq!(german.len(), Text::ALL.len());
    let words = Words::new(Language::De, &german);
    assert_eq!(words.get(Text::EndChat), "Tschüss");
    assert_eq!(words.get(Text::Send), "Senden");
    let french = Language::Fr.table(&overrides);
    assert_eq!(
        Words::new(Language::Fr, &french).get(Text::EndChat),
        "Terminer le chat"
    );
    assert!(
        Language::En.table(&overrides).is_empty(),
        "English is built in"
    );
    overrides.insert(
        Language::En,
        BTreeMap::from([("title".to_owned(), "Talk to Acme".to_owned())]),
    );
    let english = Language::En.table(&overrides);
    assert_eq!(
        Words::new(Language::En, &english).get(Text::Title),
        "Talk to Acme"
    );
    assert_eq!(Words::english().get(Text::Title), "Chat with us");
    assert_eq!(Text::from_key("end_chat"), Some(Text::EndChat));
    assert_eq!(Text::from_key("end-chat"), None);
}

#[test]
fn placeholders_are_filled_and_unknown_ones_left_as_written() {
    let table = Language::De.table(&Overrides::new());
    let german = Words::new(Language::De, &table);
    assert_eq!(
        german.fill(Text::ChattingWith, &[("name", "Ana")]),
        "Sie chatten mit Ana"
    );
    assert_eq!(fill("{a} and {b}", &[("a", "1")]), "1 and {b}");
    assert_eq!(fill("no brace {", &[]), "no brace {");
}

#[test]
fn the_relays_english_events_come_back_in_the_visitors_language() {
    let english = Words::english();
    let table = Language::Es.table(&Overrides::new());
    let spanish = Words::new(Language::Es, &table);
    let joined = english.fill(Text::Joined, &[("name", "Ana María")]);
    assert_eq!(spanish.event(&joined), "Ana María se ha unido al chat");
    let moved = english.fill(Text::Transferred, &[("name", "Ana"), ("to", "Bo Li")]);
    assert_eq!(spanish.event(&moved), "Ana ha transferido el chat a Bo Li");
    assert_eq!(
        spanish.event("The visitor ended the chat"),
        "El visitante ha finalizado el chat"
    );
    assert_eq!(
        spanish.event("Bo ended the chat"),
        "Bo ha finalizado el chat"
    );
    assert_eq!(spanish.event("Chat ended"), "Chat finalizado");
    assert_eq!(spanish.event("Chat ended early"), "Chat ended early");
    assert_eq!(spanish.event(" joined the chat"), " joined the chat");
    assert_eq!(english.event(&joined), joined);
}
