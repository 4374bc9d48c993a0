//! Pins the exact JSON of every frame: a change here is a change to the wire.

use super::*;
use serde::Serialize;

use crate::words::Language;

fn message(author: Author) -> ChatMessage {
    ChatMessage {
        conversation_id: 7,
        seq: 3,
        author,
        author_name: Some("Ana".into()),
        body: "Hi <b>there</b>".into(),
        client_msg_id: Some("m-1".into()),
        at: 1_700_000_000_000,
        attachment: None,
        sources: Vec::new(),
    }
}

fn profile_view() -> ProfileView {
    ProfileView {
        title: "Acme".into(),
        greeting: "Hi!".into(),
        colour: "#12355b".into(),
        online: true,
        rating: RatingScale::Stars,
        ..ProfileView::default()
    }
}

fn prompt() -> Prompt {
    Prompt {
        step_id: "topic".into(),
        choices: vec!["Billing".into(), "Other".into()],
        input: None,
    }
}

fn summary() -> ChatSummary {
    ChatSummary {
        conversation_id: 7,
        status: ConversationStatus::Active,
        visitor_id: 12,
        visitor_name: "Visitor 12".into(),
        agent: Some(AgentInfo {
            id: 2,
            name: "Ana".into(),
        }),
        queued_at: 1_700_000_000_000,
        last_seq: 4,
        page_url: Some("https://example.com/pricing".into()),
        referrer: Some("https://search.example/".into()),
        browser: Some("Firefox 128 on Linux".into()),
        teams: vec!["Support".into()],
        visitor_uploads: true,
        uploads_switchable: true,
        ticket_id: Some(31),
        rating: Some(4),
        rating_comment: Some("Quick".into()),
        visitor_language: Some("de-AT".into()),
    }
}

#[track_caller]
fn pins<T>(frame: T, json: &str)
where
    T: Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    assert_eq!(to_text(&frame), json);
    let back: T = serde_json::from_str(json).expect("pinned JSON parses");
    assert_eq!(back, frame);
}

#[test]
fn visitor_requests_have_pinned_json() {
    pins(
        VisitorRequest::Hello {
            v: 1,
            site: "demo".into(),
            token: Some("tok".into()),
            resume: Some(Resume {
                conversation_id: 7,
                last_seq: 3,
            }),
            page: Some(PageInfo {
                url: "https://example.com/".into(),
                referrer: "https://search.example/".into(),
            }),
            start_step: Some("topic".into()),
            preview_profile: Some(3),
            ticket: Some(TicketLink {
                id: 42,
                token: "ab12".into(),
            }),
            languages: vec!["de-AT".into(), "en".into()],
            identity: None,
        },
        r#"{"type":"hello","v":1,"site":"demo","token":"tok","resume":{"conversation_id":7,"last_seq":3},"page":{"url":"https://example.com/","referrer":"https://search.example/"},"start_step":"topic","preview_profile":3,"ticket":{"id":42,"token":"ab12"},"languages":["de-AT","en"]}"#,
    );
    pins(
        VisitorRequest::Hello {
            v: 1,
            site: "demo".into(),
            token: None,
            resume: None,
            page: None,
            start_step: None,
            preview_profile: None,
            ticket: None,
            languages: Vec::new(),
            identity: None,
        },
        r#"{"type":"hello","v":1,"site":"demo"}"#,
    );
    // The relay reads an identity through a `Value`, whose keys are sorted.
    let identity = r#"{"context":{"plan":{"label":"Current plan","value":"Pro"}},"name":"Ana","token":"abc","user_id":"u-7"}"#;
    pins(
        VisitorRequest::Identify {
            identity: crate::IdentityText::from_json(identity.into()).unwrap(),
        },
        &format!(r#"{{"type":"identify","identity":{identity}}}"#),
    );
    let read = crate::IdentityText::from_json(identity.into())
        .unwrap()
        .read()
        .unwrap();
    assert_eq!(read.user_id, "u-7");
    assert_eq!(read.context["plan"].label, "Current plan");
    pins(
        VisitorRequest::Send {
            client_msg_id: "m-1".into(),
            body: "hello".into(),
        },
        r#"{"type":"send","client_msg_id":"m-1","body":"hello"}"#,
    );
    pins(VisitorRequest::EndChat, r#"{"type":"end_chat"}"#);
    pins(VisitorRequest::Typing, r#"{"type":"typing"}"#);
    pins(
        VisitorRequest::Rate {
            score: 4,
            comment: Some("Quick and kind".into()),
        },
        r#"{"type":"rate","score":4,"comment":"Quick and kind"}"#,
    );
    pins(
        VisitorRequest::Rate {
            score: 5,
            comment: None,
        },
        r#"{"type":"rate","score":5}"#,
    );
    pins(
        VisitorRequest::EmailTranscript {
            email: "ana@example.com".into(),
        },
        r#"{"type":"email_transcript","email":"ana@example.com"}"#,
    );
}

#[test]
fn visitor_events_have_pinned_json() {
    pins(
        VisitorEvent::Welcome(Welcome {
            v: 1,
            token: "tok".into(),
            profile: profile_view(),
            conversation: Some(ConversationState {
                id: 7,
                status: ConversationStatus::Bot,
                agent_name: None,
                last_seq: 2,
                uploads: false,
                rating: None,
            }),
            prompt: Some(prompt()),
        }),
        r##"{"type":"welcome","v":1,"token":"tok","profile":{"title":"Acme","greeting":"Hi!","colour":"#12355b","online":true,"rating":"stars"},"conversation":{"id":7,"status":"bot","last_seq":2},"prompt":{"step_id":"topic","choices":["Billing","Other"]}}"##,
    );
    pins(
        VisitorEvent::Welcome(Welcome {
            v: 1,
            token: "tok".into(),
            profile: ProfileView {
                greeting: String::new(),
                online: false,
                rating: RatingScale::Off,
                ..profile_view()
            },
            conversation: None,
            prompt: None,
        }),
        r##"{"type":"welcome","v":1,"token":"tok","profile":{"title":"Acme","colour":"#12355b","online":false}}"##,
    );
    pins(
        VisitorEvent::Prompt(PromptChange {
            conversation_id: 7,
            prompt: Some(Prompt {
                step_id: "email".into(),
                choices: Vec::new(),
                input: Some(InputKind::Email),
            }),
        }),
        r#"{"type":"prompt","conversation_id":7,"prompt":{"step_id":"email","input":"email"}}"#,
    );
    pins(
        VisitorEvent::Prompt(PromptChange {
            conversation_id: 7,
            prompt: None,
        }),
        r#"{"type":"prompt","conversation_id":7}"#,
    );
    pins(
        VisitorEvent::Ack(Ack {
            conversation_id: 7,
            client_msg_id: "m-1".into(),
            seq: 3,
            at: 1700000000000,
        }),
        r#"{"type":"ack","conversation_id":7,"client_msg_id":"m-1","seq":3,"at":1700000000000}"#,
    );
    pins(
        VisitorEvent::Message(message(Author::Agent)),
        r#"{"type":"message","conversation_id":7,"seq":3,"author":"agent","author_name":"Ana","body":"Hi <b>there</b>","client_msg_id":"m-1","at":1700000000000}"#,
    );
    pins(
        VisitorEvent::Status(StatusChange {
            conversation_id: 7,
            status: ConversationStatus::Active,
            agent_name: Some("Ana".into()),
        }),
        r#"{"type":"status","conversation_id":7,"status":"active","agent_name":"Ana"}"#,
    );
    pins(
        VisitorEvent::Queue(QueueInfo {
            conversation_id: 7,
            position: Some(2),
            wait: Some("< 1".into()),
        }),
        r#"{"type":"queue","conversation_id":7,"position":2,"wait":"< 1"}"#,
    );
    pins(
        VisitorEvent::Queue(QueueInfo {
            conversation_id: 7,
            position: None,
            wait: Some("4".into()),
        }),
        r#"{"type":"queue","conversation_id":7,"wait":"4"}"#,
    );
}

#[test]
fn visitor_answers_with_sources_and_streams_have_pinned_json() {
    pins(
        VisitorEvent::Message(ChatMessage {
            author: Author::Bot,
            client_msg_id: None,
            sources: vec![
                Source {
                    title: "Billing › Refunds".into(),
                    url: Some("https://help.test/billing#refunds".into()),
                },
                Source {
                    title: "Opening hours".into(),
                    url: None,
                },
            ],
            ..message(Author::Bot)
        }),
        r#"{"type":"message","conversation_id":7,"seq":3,"author":"bot","author_name":"Ana","body":"Hi <b>there</b>","at":1700000000000,"sources":[{"title":"Billing › Refunds","url":"https://help.test/billing#refunds"},{"title":"Opening hours"}]}"#,
    );
    pins(
        VisitorEvent::Stream(StreamDelta {
            conversation_id: 7,
            id: 3,
            text: "Refunds take".into(),
            done: false,
        }),
        r#"{"type":"stream","conversation_id":7,"id":3,"text":"Refunds take"}"#,
    );
    pins(
        VisitorEvent::Stream(StreamDelta {
            conversation_id: 7,
            id: 3,
            text: String::new(),
            done: true,
        }),
        r#"{"type":"stream","conversation_id":7,"id":3,"done":true}"#,
    );
    pins(
        VisitorEvent::Uploads(UploadsChange {
            conversation_id: 7,
            allowed: true,
        }),
        r#"{"type":"uploads","conversation_id":7,"allowed":true}"#,
    );
    pins(
        VisitorEvent::Message(ChatMessage {
            body: "receipt.pdf".into(),
            attachment: Some(AttachmentInfo {
                name: "receipt.pdf".into(),
                content_type: "application/pdf".into(),
                size: 1234,
                url: "/files/abc".into(),
            }),
            ..message(Author::Visitor)
        }),
        r#"{"type":"message","conversation_id":7,"seq":3,"author":"visitor","author_name":"Ana","body":"receipt.pdf","client_msg_id":"m-1","at":1700000000000,"attachment":{"name":"receipt.pdf","content_type":"application/pdf","size":1234,"url":"/files/abc"}}"#,
    );
    pins(
        VisitorEvent::Rated(Rated {
            conversation_id: 7,
            score: 4,
        }),
        r#"{"type":"rated","conversation_id":7,"score":4}"#,
    );
    pins(
        VisitorEvent::TranscriptQueued(TranscriptQueued {
            conversation_id: 7,
            email: "ana@example.com".into(),
        }),
        r#"{"type":"transcript_queued","conversation_id":7,"email":"ana@example.com"}"#,
    );
    pins(
        VisitorEvent::Welcome(Welcome {
            v: 1,
            token: "tok".into(),
            profile: ProfileView {
                language: Some(Language::Ar),
                lines: vec!["تحدث معنا".into()],
                email_transcript: true,
                ..profile_view()
            },
            conversation: None,
            prompt: None,
        }),
        r##"{"type":"welcome","v":1,"token":"tok","profile":{"title":"Acme","greeting":"Hi!","colour":"#12355b","online":true,"rating":"stars","language":"ar","lines":["تحدث معنا"],"email_transcript":true}}"##,
    );
    pins(
        VisitorEvent::Typing(Typing { conversation_id: 7 }),
        r#"{"type":"typing","conversation_id":7}"#,
    );
    pins(
        VisitorEvent::Error(ProtocolError::new(ErrorCode::BadFrame, "Nope.")),
        r#"{"type":"error","code":"bad_frame","message":"Nope."}"#,
    );
}

#[test]
fn agent_requests_have_pinned_json() {
    pins(AgentRequest::Hello { v: 1 }, r#"{"type":"hello","v":1}"#);
    pins(
        AgentRequest::Open {
            conversation_id: 7,
            last_seq: 2,
        },
        r#"{"type":"open","conversation_id":7,"last_seq":2}"#,
    );
    pins(
        AgentRequest::Join { conversation_id: 7 },
        r#"{"type":"join","conversation_id":7}"#,
    );
    pins(
        AgentRequest::Send {
            conversation_id: 7,
            client_msg_id: "a-1".into(),
            body: "On it".into(),
        },
        r#"{"type":"send","conversation_id":7,"client_msg_id":"a-1","body":"On it"}"#,
    );
    pins(
        AgentRequest::EndChat { conversation_id: 7 },
        r#"{"type":"end_chat","conversation_id":7}"#,
    );
    pins(
        AgentRequest::SetStatus { status_id: 2 },
        r#"{"type":"set_status","status_id":2}"#,
    );
    pins(
        AgentRequest::SetVisitorUploads {
            conversation_id: 7,
            allowed: true,
        },
        r#"{"type":"set_visitor_uploads","conversation_id":7,"allowed":true}"#,
    );
    pins(
        AgentRequest::Transfer {
            conversation_id: 7,
            to_team: Some("Sales".into()),
            to_agent: None,
        },
        r#"{"type":"transfer","conversation_id":7,"to_team":"Sales"}"#,
    );
    pins(
        AgentRequest::Transfer {
            conversation_id: 7,
            to_team: None,
            to_agent: Some(3),
        },
        r#"{"type":"transfer","conversation_id":7,"to_agent":3}"#,
    );
    pins(
        AgentRequest::Note {
            conversation_id: 7,
            client_msg_id: "n-1".into(),
            body: "VIP: be nice".into(),
        },
        r#"{"type":"note","conversation_id":7,"client_msg_id":"n-1","body":"VIP: be nice"}"#,
    );
    pins(
        AgentRequest::Typing { conversation_id: 7 },
        r#"{"type":"typing","conversation_id":7}"#,
    );
}

#[test]
fn agent_events_have_pinned_json() {
    pins(
        AgentEvent::Welcome {
            v: 1,
            agent: AgentInfo {
                id: 2,
                name: "Ana".into(),
            },
            chats: vec![summary()],
            statuses: vec![StatusInfo {
                id: 1,
                name: "Available".into(),
                online: true,
            }],
            status_id: Some(1),
            teams: vec!["Support".into()],
            agents: vec![AgentInfo {
                id: 3,
                name: "Bo".into(),
            }],
            my_teams: vec!["Support".into()],
            can_toggle_uploads: true,
        },
        r#"{"type":"welcome","v":1,"agent":{"id":2,"name":"Ana"},"chats":[{"conversation_id":7,"status":"active","visitor_id":12,"visitor_name":"Visitor 12","agent":{"id":2,"name":"Ana"},"queued_at":1700000000000,"last_seq":4,"page_url":"https://example.com/pricing","referrer":"https://search.example/","browser":"Firefox 128 on Linux","teams":["Support"],"visitor_uploads":true,"uploads_switchable":true,"ticket_id":31,"rating":4,"rating_comment":"Quick","visitor_language":"de-AT"}],"statuses":[{"id":1,"name":"Available","online":true}],"status_id":1,"teams":["Support"],"agents":[{"id":3,"name":"Bo"}],"my_teams":["Support"],"can_toggle_uploads":true}"#,
    );
    pins(
        AgentEvent::Chat(summary()),
        r#"{"type":"chat","conversation_id":7,"status":"active","visitor_id":12,"visitor_name":"Visitor 12","agent":{"id":2,"name":"Ana"},"queued_at":1700000000000,"last_seq":4,"page_url":"https://example.com/pricing","referrer":"https://search.example/","browser":"Firefox 128 on Linux","teams":["Support"],"visitor_uploads":true,"uploads_switchable":true,"ticket_id":31,"rating":4,"rating_comment":"Quick","visitor_language":"de-AT"}"#,
    );
    pins(
        AgentEvent::Ring(ChatSummary {
            status: ConversationStatus::Queued,
            agent: None,
            page_url: None,
            referrer: None,
            browser: None,
            visitor_uploads: false,
            uploads_switchable: false,
            ticket_id: None,
            rating: None,
            rating_comment: None,
            ..summary()
        }),
        r#"{"type":"ring","conversation_id":7,"status":"queued","visitor_id":12,"visitor_name":"Visitor 12","queued_at":1700000000000,"last_seq":4,"teams":["Support"],"visitor_language":"de-AT"}"#,
    );
    pins(
        AgentEvent::RingStop { conversation_id: 7 },
        r#"{"type":"ring_stop","conversation_id":7}"#,
    );
    pins(AgentEvent::TicketsChanged, r#"{"type":"tickets_changed"}"#);
    pins(
        AgentEvent::MyStatus { status_id: 2 },
        r#"{"type":"my_status","status_id":2}"#,
    );
    pins(
        AgentEvent::Joined { conversation_id: 7 },
        r#"{"type":"joined","conversation_id":7}"#,
    );
    pins(
        AgentEvent::Ack(Ack {
            conversation_id: 7,
            client_msg_id: "a-1".into(),
            seq: 5,
            at: 1700000000000,
        }),
        r#"{"type":"ack","conversation_id":7,"client_msg_id":"a-1","seq":5,"at":1700000000000}"#,
    );
    pins(
        AgentEvent::Message(ChatMessage {
            author_name: None,
            client_msg_id: None,
            ..message(Author::System)
        }),
        r#"{"type":"message","conversation_id":7,"seq":3,"author":"system","body":"Hi <b>there</b>","at":1700000000000}"#,
    );
    pins(
        AgentEvent::Note(Note {
            id: 4,
            conversation_id: 7,
            client_msg_id: "n-1".into(),
            author: AgentInfo {
                id: 2,
                name: "Ana".into(),
            },
            body: "VIP: be nice".into(),
            at: 1700000000000,
        }),
        r#"{"type":"note","id":4,"conversation_id":7,"client_msg_id":"n-1","author":{"id":2,"name":"Ana"},"body":"VIP: be nice","at":1700000000000}"#,
    );
    pins(
        AgentEvent::Typing { conversation_id: 7 },
        r#"{"type":"typing","conversation_id":7}"#,
    );
    pins(
        AgentEvent::Error(ProtocolError::new(ErrorCode::AlreadyTaken, "Taken.")),
        r#"{"type":"error","code":"already_taken","message":"Taken."}"#,
    );
}

#[test]
fn every_input_kind_and_status_has_a_stable_name() {
    let kinds: Vec<String> = [
        InputKind::Text,
        InputKind::Email,
        InputKind::Number,
        InputKind::Date,
        InputKind::YesNo,
        InputKind::Choice,
    ]
    .iter()
    .map(to_text)
    .collect();
    assert_eq!(
        kinds.join(","),
        r#""text","email","number","date","yes_no","choice""#
    );
    for status in [
        ConversationStatus::Bot,
        ConversationStatus::Queued,
        ConversationStatus::Active,
        ConversationStatus::Ended,
    ] {
        assert_eq!(to_text(&status), format!("\"{}\"", status.as_str()));
        assert_eq!(ConversationStatus::parse(status.as_str()), Some(status));
    }
}

#[test]
fn every_error_code_has_a_stable_name() {
    let names: Vec<String> = [
        ErrorCode::BadFrame,
        ErrorCode::UnknownType,
        ErrorCode::FrameTooLarge,
        ErrorCode::UnsupportedVersion,
        ErrorCode::HelloRequired,
        ErrorCode::UnknownSite,
        ErrorCode::IdentityRequired,
        ErrorCode::NotFound,
        ErrorCode::AlreadyTaken,
        ErrorCode::NotJoined,
        ErrorCode::AtCapacity,
        ErrorCode::ConversationEnded,
        ErrorCode::StartStepRefused,
        ErrorCode::EmptyMessage,
        ErrorCode::MessageTooLong,
        ErrorCode::RateLimited,
        ErrorCode::Internal,
    ]
    .iter()
    .map(to_text)
    .collect();
    assert_eq!(
        names.join(","),
        r#""bad_frame","unknown_type","frame_too_large","unsupported_version","hello_required","unknown_site","identity_required","not_found","already_taken","not_joined","at_capacity","conversation_ended","start_step_refused","empty_message","message_too_long","rate_limited","internal""#
    );
}

#[test]
fn non_json_is_a_bad_frame() {
    let err = parse_visitor_request("{not json").unwrap_err();
    assert_eq!(err.code, ErrorCode::BadFrame);
    let err = parse_visitor_request("[1,2]").unwrap_err();
    assert_eq!(err.code, ErrorCode::BadFrame);
    let err = parse_agent_request(r#"{"type":5}"#).unwrap_err();
    assert_eq!(err.code, ErrorCode::BadFrame);
}

#[test]
fn unknown_type_is_named_in_the_error() {
    let err = parse_visitor_request(r#"{"type":"join","conversation_id":1}"#).unwrap_err();
    assert_eq!(err.code, ErrorCode::UnknownType);
    assert!(err.message.contains("\"join\""), "{}", err.message);
    let err = parse_agent_request(r#"{"type":"launch_rockets"}"#).unwrap_err();
    assert_eq!(err.code, ErrorCode::UnknownType);
}

#[test]
fn known_type_with_wrong_fields_is_a_bad_frame() {
    let err = parse_visitor_request(r#"{"type":"send","body":"no id"}"#).unwrap_err();
    assert_eq!(err.code, ErrorCode::BadFrame);
    assert!(err.message.contains("client_msg_id"), "{}", err.message);
    let err = parse_agent_request(r#"{"type":"join","conversation_id":"seven"}"#).unwrap_err();
    assert_eq!(err.code, ErrorCode::BadFrame);
}

#[test]
fn oversized_frames_are_refused_before_parsing() {
    let body = "x".repeat(MAX_FRAME_BYTES);
    let frame = format!(r#"{{"type":"send","client_msg_id":"m","body":"{body}"}}"#);
    let err = parse_visitor_request(&frame).unwrap_err();
    assert_eq!(err.code, ErrorCode::FrameTooLarge);
}

#[test]
fn valid_frames_parse() {
    let hello = parse_visitor_request(r#"{"type":"hello","v":1,"site":"demo"}"#).unwrap();
    assert!(matches!(hello, VisitorRequest::Hello { v: 1, .. }));
    let open = parse_agent_request(r#"{"type":"open","conversation_id":3}"#).unwrap();
    assert_eq!(
        open,
        AgentRequest::Open {
            conversation_id: 3,
            last_seq: 0
        }
    );
}

#[test]
fn outgoing_messages_are_validated() {
    assert!(validate_outgoing("m-1", "hello").is_ok());
    assert_eq!(
        validate_outgoing("m-1", "  \n").unwrap_err().code,
        ErrorCode::EmptyMessage
    );
    assert_eq!(
        validate_outgoing("m-1", &"é".repeat(MAX_BODY_CHARS + 1))
            .unwrap_err()
            .code,
        ErrorCode::MessageTooLong
    );
    assert!(validate_outgoing("m-1", &"é".repeat(MAX_BODY_CHARS)).is_ok());
    assert_eq!(
        validate_outgoing("", "hi").unwrap_err().code,
        ErrorCode::BadFrame
    );
    assert_eq!(
        validate_outgoing(&"x".repeat(MAX_CLIENT_MSG_ID_BYTES + 1), "hi")
            .unwrap_err()
            .code,
        ErrorCode::BadFrame
    );
    // PostgreSQL's text holds no NUL: neither an id nor a body may carry one.
    for id in ["\0m-1", "m\n1", "m\u{7f}"] {
        assert_eq!(
            validate_outgoing(id, "hi").unwrap_err().code,
            ErrorCode::BadFrame
        );
    }
    assert_eq!(
        validate_outgoing("m-1", "a\0b").unwrap_err().code,
        ErrorCode::BadFrame
    );
    assert!(validate_outgoing("m-1", "line one\nline two\tend").is_ok());
}

#[test]
fn visitor_events_are_read_only_with_the_type_first() {
    let late: Result<VisitorEvent, _> =
        serde_json::from_str(r#"{"conversation_id":7,"prompt":null,"type":"prompt"}"#);
    let err = late.expect_err("type must come first").to_string();
    assert!(err.contains("first key must be \"type\""), "{err}");
    let unknown: Result<VisitorEvent, _> = serde_json::from_str(r#"{"type":"party"}"#);
    let err = unknown.expect_err("unknown type").to_string();
    assert!(err.contains("unknown variant `party`"), "{err}");
    let ignored: VisitorEvent =
        serde_json::from_str(r#"{"type":"prompt","conversation_id":7,"later":[1.5,{"x":1}]}"#)
            .expect("unknown fields are ignored");
    assert_eq!(
        ignored,
        VisitorEvent::Prompt(PromptChange {
            conversation_id: 7,
            prompt: None
        })
    );
}

#[test]
fn knowledge_bodies_have_pinned_json() {
    use crate::api::knowledge::{CrawlReport, CrawlRequest, PutOutcome, Upload, Uploaded};
    pins(
        Uploaded {
            outcome: PutOutcome::Unchanged,
            chunks: 3,
        },
        r#"{"outcome":"unchanged","chunks":3}"#,
    );
    pins(
        CrawlRequest {
            url: "https://help.test/".into(),
            max_pages: None,
            max_depth: Some(1),
        },
        r#"{"url":"https://help.test/","max_depth":1}"#,
    );
    pins(
        CrawlReport {
            pages: 2,
            added: 1,
            updated: 0,
            unchanged: 1,
            skipped: vec!["https://help.test/x.pdf: not text".into()],
        },
        r#"{"pages":2,"added":1,"updated":0,"unchanged":1,"skipped":["https://help.test/x.pdf: not text"]}"#,
    );
    let extra: Result<Upload, _> = serde_json::from_str(r#"{"name":"a.md","text":"","path":"/"}"#);
    assert!(extra.is_err(), "unknown fields are refused");
}

#[test]
fn a_new_password_is_long_enough_and_new() {
    use crate::api::session::weak_password;
    assert_eq!(
        weak_password("short", "x"),
        Some("Choose a password of at least 10 characters.")
    );
    assert_eq!(
        weak_password("same-password-1", "same-password-1"),
        Some("Choose a password other than the one-time password.")
    );
    assert_eq!(
        weak_password(&"x".repeat(513), "y"),
        Some("Choose a password of at most 512 characters.")
    );
    assert_eq!(weak_password("long-enough-1", "old"), None);
}
