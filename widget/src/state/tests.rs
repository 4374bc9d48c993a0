//! The widget state's rules, frame by frame.

use super::lines::looks_like_number;
use super::*;
use porchlight_protocol::RatingScale;
use porchlight_protocol::sync::TYPING_PULSE_MS;
use porchlight_protocol::words::{Language, Overrides};
use porchlight_protocol::{Ack, ChatMessage, ErrorCode, ProtocolError, TranscriptQueued};

fn agent_message(seq: u64) -> VisitorEvent {
    VisitorEvent::Message(ChatMessage {
        conversation_id: 4,
        seq,
        author: Author::Agent,
        author_name: Some("Ana".into()),
        body: "Hello!".into(),
        client_msg_id: None,
        at: 1,
        attachment: None,
        sources: Vec::new(),
    })
}

fn profile(online: bool) -> ProfileView {
    ProfileView {
        title: "Acme".into(),
        greeting: String::new(),
        colour: "#12355b".into(),
        online,
        ..ProfileView::default()
    }
}

fn welcome(conversation: Option<ConversationState>) -> VisitorEvent {
    VisitorEvent::Welcome(Welcome {
        v: PROTOCOL_VERSION,
        token: "tok".into(),
        profile: profile(true),
        conversation,
        prompt: None,
    })
}

fn prompt(input: Option<InputKind>, choices: &[&str]) -> VisitorEvent {
    VisitorEvent::Prompt(PromptChange {
        conversation_id: 4,
        prompt: Some(Prompt {
            step_id: "s".into(),
            choices: choices.iter().map(|c| (*c).to_owned()).collect(),
            input,
        }),
    })
}

#[test]
fn unacknowledged_messages_are_resent_after_welcome_until_acked() {
    let mut state = ChatState::new("demo".into(), None, Vec::new());
    let sent = state.write("m1".into(), "hi".into());
    assert!(matches!(sent, VisitorRequest::Send { .. }));
    state.disconnected();
    assert_eq!(state.status_line(), "Reconnecting…");
    let resend = state.apply(welcome(None));
    assert_eq!(resend, vec![sent]);
    assert_eq!(state.token.as_deref(), Some("tok"));
    state.apply(VisitorEvent::Ack(Ack {
        conversation_id: 4,
        client_msg_id: "m1".into(),
        seq: 1,
        at: 1_700_000_000_000,
    }));
    assert!(state.outbox.is_empty());
    assert_eq!(state.conversation.as_ref().map(|c| c.id), Some(4));
    assert!(state.apply(welcome(None)).is_empty());
}

#[test]
fn a_reloaded_outbox_shows_and_resends_its_messages() {
    let outbox = vec![Outgoing {
        client_msg_id: "m1".into(),
        body: "typed before reload".into(),
    }];
    let mut state = ChatState::new("demo".into(), Some("tok".into()), outbox);
    assert_eq!(state.transcript.entries().len(), 1);
    assert_eq!(state.apply(welcome(None)).len(), 1);
}

#[test]
fn hello_resumes_from_the_last_seq_seen() {
    let mut state = ChatState::new("demo".into(), Some("tok".into()), Vec::new());
    state.apply(welcome(Some(ConversationState {
        id: 4,
        status: ConversationStatus::Active,
        agent_name: Some("Ana".into()),
        last_seq: 2,
        uploads: false,
        rating: None,
    })));
    state.apply(agent_message(1));
    state.apply(agent_message(2));
    let VisitorRequest::Hello { resume, token, .. } = state.hello(None) else {
        panic!("not a hello");
    };
    assert_eq!(token.as_deref(), Some("tok"));
    assert_eq!(
        resume,
        Some(Resume {
            conversation_id: 4,
            last_seq: 2
        })
    );
    assert_eq!(state.status_line(), "You are chatting with Ana");
}

#[test]
fn unread_counts_only_new_messages_from_others_while_closed() {
    let mut state = ChatState::new("demo".into(), None, Vec::new());
    state.apply(agent_message(1));
    state.apply(agent_message(1));
    state.apply(agent_message(2));
    assert_eq!(state.unread, 2);
    state.set_visible(true);
    assert_eq!(state.unread, 0);
    state.apply(agent_message(3));
    assert_eq!(state.unread, 0);
}

#[test]
fn a_question_shows_buttons_and_locks_the_composer_until_answered() {
    let mut state = ChatState::new("demo".into(), None, Vec::new());
    state.apply(welcome(None));
    state.apply(prompt(None, &["Billing", "Other"]));
    assert_eq!(state.buttons(), ["Billing", "Other"]);
    assert_eq!(
        state.composer_lock(),
        Some("Choose one of the options above.")
    );
    state.apply(VisitorEvent::Prompt(PromptChange {
        conversation_id: 4,
        prompt: None,
    }));
    assert!(state.buttons().is_empty());
    assert_eq!(state.composer_lock(), None);
    state.apply(prompt(Some(InputKind::YesNo), &[]));
    assert_eq!(state.buttons(), ["Yes", "No"]);
    state.apply(VisitorEvent::Status(StatusChange {
        conversation_id: 4,
        status: ConversationStatus::Queued,
        agent_name: None,
    }));
    assert!(state.prompt.is_none(), "a hand-over clears the prompt");
}

#[test]
fn the_ai_agent_offers_a_person_without_locking_the_composer() {
    let mut state = ChatState::new("demo".into(), None, Vec::new());
    state.apply(welcome(None));
    state.apply(prompt(Some(InputKind::Text), &["Talk to a person"]));
    assert_eq!(state.buttons(), ["Talk to a person"]);
    assert_eq!(state.composer_lock(), None);
}

#[test]
fn a_streamed_answer_grows_and_gives_way_to_the_stored_one() {
    let mut state = ChatState::new("demo".into(), None, Vec::new());
    state.apply(welcome(None));
    let delta = |id, text: &str, done| {
        VisitorEvent::Stream(StreamDelta {
            conversation_id: 4,
            id,
            text: text.into(),
            done,
        })
    };
    state.apply(delta(1, "Refunds ", false));
    state.apply(delta(1, "take 5 days.", false));
    assert_eq!(state.streaming, Some((1, "Refunds take 5 days.".into())));
    state.apply(delta(2, "New", false));
    assert_eq!(
        state.streaming,
        Some((2, "New".into())),
        "a new answer starts over"
    );
    let mut answer = agent_message(1);
    if let VisitorEvent::Message(message) = &mut answer {
        message.author = Author::Bot;
    }
    state.apply(answer);
    assert_eq!(state.streaming, None);
    state.apply(delta(3, "Half", false));
    state.apply(delta(3, "", true));
    assert_eq!(state.streaming, None);
}

#[test]
fn typed_inputs_pick_the_input_type_and_hint_before_sending() {
    let mut state = ChatState::new("demo".into(), None, Vec::new());
    state.apply(welcome(None));
    state.apply(prompt(Some(InputKind::Email), &[]));
    assert_eq!(state.input_type(), Some("email"));
    assert_eq!(state.composer_lock(), None);
    assert!(state.draft_problem("ana").is_some());
    assert_eq!(state.draft_problem("ana@example.com"), None);
    state.apply(prompt(Some(InputKind::Number), &[]));
    assert_eq!(state.input_type(), Some("number"));
    assert!(state.draft_problem("ten").is_some());
    assert_eq!(state.draft_problem("10,5"), None);
    state.apply(prompt(Some(InputKind::Date), &[]));
    assert_eq!(state.input_type(), Some("date"));
    assert_eq!(state.draft_problem("2026-12-24"), None);
    assert!(state.draft_problem("soon").is_some());
    state.apply(prompt(Some(InputKind::Text), &[]));
    assert_eq!(state.input_type(), None);
    assert_eq!(state.draft_problem("anything"), None);
}

#[test]
fn the_profile_sets_title_and_offline_text_and_hello_carries_the_start_step() {
    let mut state = ChatState::new("demo".into(), None, Vec::new());
    state.start_step = Some("topic".into());
    let VisitorRequest::Hello { start_step, .. } = state.hello(None) else {
        panic!("not a hello");
    };
    assert_eq!(start_step.as_deref(), Some("topic"));
    assert_eq!(state.title(), "Chat with us");
    state.apply(VisitorEvent::Welcome(Welcome {
        v: PROTOCOL_VERSION,
        token: "tok".into(),
        profile: profile(false),
        conversation: None,
        prompt: None,
    }));
    assert_eq!(state.title(), "Acme");
    assert!(state.status_line().starts_with("We're offline"));
}

#[test]
fn only_messages_after_the_welcome_history_are_fresh() {
    let mut state = ChatState::new("demo".into(), None, Vec::new());
    state.apply(welcome(Some(ConversationState {
        id: 4,
        status: ConversationStatus::Bot,
        agent_name: None,
        last_seq: 1,
        uploads: false,
        rating: None,
    })));
    state.apply(agent_message(1));
    state.apply(agent_message(2));
    let fresh: Vec<bool> = state
        .transcript
        .entries()
        .iter()
        .map(|entry| state.is_fresh(entry))
        .collect();
    assert_eq!(fresh, [false, true]);
}

#[test]
fn the_paperclip_follows_the_relay_live() {
    let mut state = ChatState::new("demo".into(), None, Vec::new());
    state.apply(welcome(Some(ConversationState {
        id: 4,
        status: ConversationStatus::Queued,
        agent_name: None,
        last_seq: 0,
        uploads: true,
        rating: None,
    })));
    assert!(state.can_upload());
    let uploads = |allowed| {
        VisitorEvent::Uploads(UploadsChange {
            conversation_id: 4,
            allowed,
        })
    };
    state.apply(uploads(false));
    assert!(!state.can_upload(), "an agent switched uploads off");
    state.apply(uploads(true));
    state.apply(VisitorEvent::Status(StatusChange {
        conversation_id: 4,
        status: ConversationStatus::Active,
        agent_name: Some("Ana".into()),
    }));
    assert!(
        state.can_upload(),
        "a status change keeps the uploads setting"
    );
    state.disconnected();
    assert!(!state.can_upload(), "not while reconnecting");
    state.apply(welcome(None));
    state.apply(VisitorEvent::Status(StatusChange {
        conversation_id: 4,
        status: ConversationStatus::Ended,
        agent_name: None,
    }));
    assert!(!state.can_upload(), "not once the chat ended");
}

#[test]
fn the_queue_banner_shows_place_and_wait_until_an_agent_joins() {
    let mut state = ChatState::new("demo".into(), None, Vec::new());
    state.apply(welcome(Some(ConversationState {
        id: 4,
        status: ConversationStatus::Queued,
        agent_name: None,
        last_seq: 0,
        uploads: false,
        rating: None,
    })));
    let queue = |position, wait: Option<&str>| {
        VisitorEvent::Queue(QueueInfo {
            conversation_id: 4,
            position,
            wait: wait.map(str::to_owned),
        })
    };
    assert_eq!(state.queue_line(), None);
    state.apply(queue(Some(3), Some("4")));
    assert_eq!(
        state.queue_line().as_deref(),
        Some("You're number 3 in the queue · wait about 4 minutes")
    );
    state.apply(queue(Some(1), Some("< 1")));
    assert_eq!(
        state.queue_line().as_deref(),
        Some("You're number 1 in the queue · wait under a minute")
    );
    state.apply(queue(None, Some("1")));
    assert_eq!(
        state.queue_line().as_deref(),
        Some("Estimated wait: about 1 minute")
    );
    state.apply(VisitorEvent::Status(StatusChange {
        conversation_id: 4,
        status: ConversationStatus::Active,
        agent_name: Some("Ana".into()),
    }));
    assert_eq!(state.queue_line(), None, "an agent joined");
}

#[test]
fn numbers_are_checked_by_shape() {
    for good in ["42", "-3", "+0.5", "3,75", ".5", "5.", "1e3", "2.5E-4"] {
        assert!(looks_like_number(good), "{good}");
    }
    for bad in [
        "", "-", ".", "1.2.3", "12a", "1e", "e5", "inf", "NaN", "1 000", "--1",
    ] {
        assert!(!looks_like_number(bad), "{bad}");
    }
}

#[test]
fn status_and_errors_reach_the_visitor() {
    let mut state = ChatState::new("demo".into(), None, Vec::new());
    state.apply(VisitorEvent::Status(StatusChange {
        conversation_id: 4,
        status: ConversationStatus::Ended,
        agent_name: None,
    }));
    assert!(!state.has_open_conversation());
    assert!(state.status_line().starts_with("Chat ended"));
    state.apply(VisitorEvent::Error(ProtocolError::new(
        ErrorCode::MessageTooLong,
        "Too long.",
    )));
    assert_eq!(
        state.notice.as_deref(),
        Some("That message is too long."),
        "the widget's own words for what the visitor caused"
    );
    assert!(!state.stopped, "a passing error does not stop reconnecting");
    state.apply(VisitorEvent::Error(ProtocolError::new(
        ErrorCode::IdentityRequired,
        "Sign in first.",
    )));
    assert!(state.stopped);
    assert_eq!(state.notice.as_deref(), Some("Sign in first."));
}

#[test]
fn the_widget_speaks_the_language_the_relay_picked_with_the_profiles_own_lines() {
    let mut state = ChatState::new("demo".into(), None, Vec::new());
    state.languages = vec!["de-AT".into(), "en".into()];
    assert!(
        matches!(state.hello(None), VisitorRequest::Hello { languages, .. } if languages == ["de-AT", "en"]),
        "the hello says which languages the browser prefers"
    );
    assert_eq!(state.title(), "Chat with us", "English until the welcome");
    let mut strings = Overrides::new();
    strings.insert(
        Language::De,
        [(
            "chatting_with".to_owned(),
            "Hallo, hier ist {name}".to_owned(),
        )]
        .into(),
    );
    state.apply(VisitorEvent::Welcome(Welcome {
        v: PROTOCOL_VERSION,
        token: "tok".into(),
        profile: ProfileView {
            title: "Chat with us".into(),
            language: Some(Language::De),
            lines: Language::De.table(&strings),
            ..profile(true)
        },
        conversation: Some(ConversationState {
            id: 4,
            status: ConversationStatus::Queued,
            agent_name: None,
            last_seq: 0,
            uploads: false,
            rating: None,
        }),
        prompt: Some(Prompt {
            step_id: "ok".into(),
            choices: Vec::new(),
            input: Some(InputKind::YesNo),
        }),
    }));
    assert_eq!(
        state.title(),
        "Chatten Sie mit uns",
        "the default title is translated"
    );
    assert_eq!(state.status_line(), "Warten auf einen Mitarbeiter…");
    assert_eq!(state.buttons(), ["Ja", "Nein"]);
    state.apply(VisitorEvent::Queue(QueueInfo {
        conversation_id: 4,
        position: Some(2),
        wait: Some("< 1".into()),
    }));
    assert_eq!(
        state.queue_line().as_deref(),
        Some("Sie sind Nummer 2 in der Warteschlange · Wartezeit unter einer Minute")
    );
    state.apply(VisitorEvent::Status(StatusChange {
        conversation_id: 4,
        status: ConversationStatus::Active,
        agent_name: Some("Ana".into()),
    }));
    assert_eq!(
        state.status_line(),
        "Hallo, hier ist Ana",
        "the profile's own line"
    );
    assert_eq!(
        state.words().event("Ana joined the chat"),
        "Ana ist dem Chat beigetreten"
    );
    let profile = state.profile.as_mut().unwrap();
    profile.language = Some(Language::Ar);
    profile.lines = Language::Ar.table(&strings);
    assert!(state.words().language.is_rtl());
    assert_eq!(
        state.status_line(),
        "أنت تتحدث مع Ana",
        "overrides are per language"
    );
}

#[test]
fn the_agents_typing_shows_until_their_message_or_the_pulse_expires() {
    let mut state = ChatState::new("demo".into(), None, Vec::new());
    state.apply(welcome(Some(ConversationState {
        id: 4,
        status: ConversationStatus::Active,
        agent_name: Some("Ana".into()),
        last_seq: 0,
        uploads: false,
        rating: None,
    })));
    let typing = |id| {
        VisitorEvent::Typing(porchlight_protocol::Typing {
            conversation_id: id,
        })
    };
    state.apply(typing(9));
    assert_eq!(state.typing_line(), None, "another chat's pulse");
    state.apply(typing(4));
    assert_eq!(state.typing_line().as_deref(), Some("Ana is typing…"));
    let first = state.agent_typing.unwrap();
    state.apply(typing(4));
    state.typing_expired(first);
    assert!(state.typing_line().is_some(), "a newer pulse keeps it");
    state.typing_expired(state.agent_typing.unwrap());
    assert_eq!(state.typing_line(), None, "the last pulse expired");
    state.apply(typing(4));
    state.apply(agent_message(1));
    assert_eq!(state.typing_line(), None, "the message arrived");
}

#[test]
fn the_visitors_typing_pulses_only_in_a_live_chat_and_not_too_often() {
    let mut state = ChatState::new("demo".into(), None, Vec::new());
    state.apply(welcome(None));
    assert_eq!(state.typing_pulse(0.0), None, "no chat yet");
    state.apply(VisitorEvent::Status(StatusChange {
        conversation_id: 4,
        status: ConversationStatus::Queued,
        agent_name: None,
    }));
    assert_eq!(state.typing_pulse(10_000.0), Some(VisitorRequest::Typing));
    assert_eq!(state.typing_pulse(10_000.0 + TYPING_PULSE_MS - 1.0), None);
    assert_eq!(
        state.typing_pulse(10_000.0 + TYPING_PULSE_MS),
        Some(VisitorRequest::Typing)
    );
    state.disconnected();
    assert_eq!(state.typing_pulse(60_000.0), None, "not while offline");
    state.apply(welcome(None));
    state.apply(VisitorEvent::Status(StatusChange {
        conversation_id: 4,
        status: ConversationStatus::Ended,
        agent_name: None,
    }));
    assert_eq!(state.typing_pulse(90_000.0), None, "not once it ended");
}

#[test]
fn a_rating_is_asked_once_the_chat_ends_and_only_once() {
    let mut state = ChatState::new("demo".into(), None, Vec::new());
    state.apply(VisitorEvent::Welcome(Welcome {
        v: PROTOCOL_VERSION,
        token: "tok".into(),
        profile: ProfileView {
            rating: RatingScale::Stars,
            ..profile(true)
        },
        conversation: Some(ConversationState {
            id: 4,
            status: ConversationStatus::Active,
            agent_name: Some("Ana".into()),
            last_seq: 0,
            uploads: false,
            rating: None,
        }),
        prompt: None,
    }));
    assert_eq!(state.rating_asked(), None, "not while the chat is open");
    assert_eq!(state.rate(5, ""), None);
    state.apply(VisitorEvent::Status(StatusChange {
        conversation_id: 4,
        status: ConversationStatus::Ended,
        agent_name: None,
    }));
    assert_eq!(state.rating_asked(), Some(RatingScale::Stars));
    assert_eq!(state.rate(6, ""), None, "off the scale");
    assert_eq!(
        state.rate(4, "  Kind  "),
        Some(VisitorRequest::Rate {
            score: 4,
            comment: Some("Kind".into())
        })
    );
    assert_eq!(
        state.rate(2, "   "),
        Some(VisitorRequest::Rate {
            score: 2,
            comment: None
        })
    );
    state.apply(VisitorEvent::Rated(porchlight_protocol::Rated {
        conversation_id: 4,
        score: 4,
    }));
    assert!(state.has_rated());
    assert_eq!(state.rating_asked(), None, "asked once");
    // A status frame for the same chat keeps the rating; a new chat asks afresh later.
    state.apply(VisitorEvent::Status(StatusChange {
        conversation_id: 4,
        status: ConversationStatus::Ended,
        agent_name: None,
    }));
    assert!(state.has_rated());
    state.apply(agent_message_in(5));
    assert!(!state.has_rated());
    assert_eq!(state.rating_asked(), None);
}

fn agent_message_in(conversation_id: i64) -> VisitorEvent {
    let VisitorEvent::Message(message) = agent_message(1) else {
        unreachable!()
    };
    VisitorEvent::Message(ChatMessage {
        conversation_id,
        ..message
    })
}

#[test]
fn the_transcript_is_offered_with_the_address_the_visitor_gave_and_confirmed_for_that_chat() {
    let mut state = ChatState::new("demo".into(), None, Vec::new());
    state.apply(welcome(Some(ConversationState {
        id: 4,
        status: ConversationStatus::Bot,
        agent_name: None,
        last_seq: 0,
        uploads: false,
        rating: None,
    })));
    assert!(!state.can_email_transcript(), "the site sends no email");
    state.profile.as_mut().unwrap().email_transcript = true;
    assert!(state.can_email_transcript());
    state.prompt = Some(Prompt {
        step_id: "email".into(),
        choices: Vec::new(),
        input: Some(InputKind::Email),
    });
    state.write("v-1".into(), " ana@example.com ".into());
    assert_eq!(state.known_email.as_deref(), Some("ana@example.com"));
    assert_eq!(
        state.email_transcript(" ana@example.com"),
        VisitorRequest::EmailTranscript {
            email: "ana@example.com".into()
        }
    );
    state.apply(VisitorEvent::TranscriptQueued(TranscriptQueued {
        conversation_id: 4,
        email: "ana@example.com".into(),
    }));
    assert_eq!(state.emailed.as_deref(), Some("ana@example.com"));
    state.apply(VisitorEvent::Status(StatusChange {
        conversation_id: 5,
        status: ConversationStatus::Bot,
        agent_name: None,
    }));
    assert_eq!(state.emailed, None, "a new chat starts without it");
}

#[test]
fn the_pages_identity_goes_with_every_hello_and_at_once_when_online() {
    let mut state = ChatState::new("demo".into(), None, Vec::new());
    let ana = IdentityText::from_json(r#"{"user_id":"42","token":"jwt"}"#.into()).unwrap();
    assert_eq!(
        state.identify(ana.clone(), Some("jwt".into())),
        None,
        "not online: the hello carries it"
    );
    assert!(
        matches!(state.hello(None), VisitorRequest::Hello { identity: Some(sent), .. } if sent == ana)
    );
    state.apply(welcome(None));
    let renewed = IdentityText::from_json(r#"{"user_id":"42","token":"fresh"}"#.into()).unwrap();
    assert_eq!(
        state.identify(renewed.clone(), Some("fresh".into())),
        Some(VisitorRequest::Identify {
            identity: renewed.clone()
        })
    );
    assert_eq!(state.proof.as_deref(), Some("fresh"));
    assert!(
        matches!(state.hello(None), VisitorRequest::Hello { identity: Some(sent), .. } if sent == renewed)
    );
    assert!(
        IdentityText::from_json("[1]".into()).is_none()
            && IdentityText::from_json("{nope".into()).is_none(),
        "only a JSON object passes"
    );
}

#[test]
fn the_page_hears_live_messages_and_the_end_but_not_the_history() {
    let mut state = ChatState::new("demo".into(), Some("tok".into()), Vec::new());
    state.apply(welcome(Some(ConversationState {
        id: 4,
        status: ConversationStatus::Active,
        agent_name: Some("Ana".into()),
        last_seq: 2,
        uploads: false,
        rating: None,
    })));
    state.apply(agent_message(1));
    state.apply(agent_message(2));
    assert!(state.take_page_events().is_empty(), "history is not news");
    state.apply(agent_message(3));
    state.apply(agent_message(3));
    assert_eq!(
        state.take_page_events(),
        vec![PageEvent::Message {
            author: Author::Agent,
            text: "Hello!".into()
        }],
        "once, even when it arrives twice"
    );
    let ended = StatusChange {
        conversation_id: 4,
        status: ConversationStatus::Ended,
        agent_name: None,
    };
    state.apply(VisitorEvent::Status(ended.clone()));
    state.apply(VisitorEvent::Status(ended));
    assert_eq!(state.take_page_events(), vec![PageEvent::ChatEnded]);
}

#[test]
fn an_identity_refused_at_hello_stops_the_retries_until_the_page_gives_another() {
    let mut state = ChatState::new("demo".into(), None, Vec::new());
    state.apply(VisitorEvent::Error(ProtocolError::new(
        ErrorCode::IdentityExpired,
        "The identity token has expired.",
    )));
    assert!(
        state.stopped,
        "refused at hello: retrying the same token cannot help"
    );
    let fresh = IdentityText::from_json(r#"{"token":"fresh"}"#.into()).unwrap();
    assert!(state.retry_with_new_identity());
    assert_eq!(
        state.identify(fresh, Some("fresh".into())),
        None,
        "the next hello carries it"
    );
    assert!(!state.stopped && state.notice.is_none());
    assert!(
        !state.retry_with_new_identity(),
        "not stopped: nothing to restart"
    );

    state.apply(welcome(None));
    state.apply(VisitorEvent::Error(ProtocolError::new(
        ErrorCode::IdentityRefused,
        "The identity token was made for another user.",
    )));
    assert!(
        !state.stopped,
        "refused mid-session: the socket goes on as it was"
    );
}
