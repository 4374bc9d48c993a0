//! The console state's rules, frame by frame.

use super::*;
use porchlight_protocol::sync::TYPING_PULSE_MS;
use porchlight_protocol::{Ack, ChatMessage, ErrorCode, ProtocolError};

fn chat(id: ConversationId, status: ConversationStatus, queued_at: i64) -> ChatSummary {
    ChatSummary {
        conversation_id: id,
        status,
        visitor_id: id,
        visitor_name: format!("Visitor {id}"),
        agent: (status == ConversationStatus::Active).then(|| AgentInfo {
            id: 1,
            name: "Ana".into(),
        }),
        queued_at,
        last_seq: 0,
        page_url: None,
        referrer: None,
        browser: None,
        teams: Vec::new(),
        visitor_uploads: false,
        uploads_switchable: false,
        ticket_id: None,
        rating: None,
        rating_comment: None,
        visitor_language: None,
    }
}

fn welcome(chats: Vec<ChatSummary>) -> AgentEvent {
    AgentEvent::Welcome {
        v: PROTOCOL_VERSION,
        agent: AgentInfo {
            id: 1,
            name: "Ana".into(),
        },
        chats,
        statuses: vec![
            StatusInfo {
                id: 1,
                name: "Available".into(),
                online: true,
            },
            StatusInfo {
                id: 2,
                name: "Away".into(),
                online: false,
            },
        ],
        status_id: Some(1),
        my_teams: vec!["Support".into()],
        teams: vec!["Support".into(), "Sales".into()],
        agents: vec![
            AgentInfo {
                id: 1,
                name: "Ana".into(),
            },
            AgentInfo {
                id: 2,
                name: "Bo".into(),
            },
        ],
        can_toggle_uploads: true,
    }
}

fn visitor_says(id: ConversationId, seq: u64) -> AgentEvent {
    AgentEvent::Message(ChatMessage {
        conversation_id: id,
        seq,
        author: Author::Visitor,
        author_name: None,
        body: "help".into(),
        client_msg_id: Some(format!("v{seq}")),
        attachment: None,
        sources: Vec::new(),
        at: 1,
    })
}

#[test]
fn waiting_chats_come_first_oldest_first() {
    let mut state = ConsoleState::default();
    state.apply(welcome(vec![
        chat(1, ConversationStatus::Active, 10),
        chat(2, ConversationStatus::Queued, 30),
        chat(3, ConversationStatus::Queued, 20),
    ]));
    let order: Vec<i64> = state
        .chat_list()
        .iter()
        .map(|c| c.conversation_id)
        .collect();
    assert_eq!(order, vec![3, 2, 1]);
    state.apply(AgentEvent::Chat(chat(3, ConversationStatus::Active, 20)));
    let order: Vec<i64> = state
        .chat_list()
        .iter()
        .map(|c| c.conversation_id)
        .collect();
    assert_eq!(order, vec![2, 1, 3]);
}

#[test]
fn the_uploads_switch_needs_the_chat_the_permission_and_the_profile() {
    let switchable = |id, uploads| ChatSummary {
        uploads_switchable: true,
        ticket_id: None,
        visitor_uploads: uploads,
        ..chat(id, ConversationStatus::Active, id)
    };
    let mut state = ConsoleState::default();
    state.apply(welcome(vec![
        switchable(1, false),
        chat(2, ConversationStatus::Active, 2),
        switchable(3, true),
    ]));
    state.select(1);
    assert_eq!(state.uploads_switch(), Some(false));
    state.select(3);
    assert_eq!(state.uploads_switch(), Some(true));
    state.select(2);
    assert_eq!(
        state.uploads_switch(),
        None,
        "the profile does not allow it"
    );
    state.apply(AgentEvent::Chat(ChatSummary {
        agent: Some(AgentInfo {
            id: 2,
            name: "Bo".into(),
        }),
        ..switchable(1, false)
    }));
    state.select(1);
    assert_eq!(state.uploads_switch(), None, "someone else's chat");
    state.can_toggle_uploads = false;
    state.select(3);
    assert_eq!(state.uploads_switch(), None, "no permission");
}

#[test]
fn unread_counts_visitor_messages_in_chats_not_on_screen() {
    let mut state = ConsoleState::default();
    state.apply(welcome(vec![chat(1, ConversationStatus::Active, 1)]));
    state.apply(visitor_says(1, 1));
    state.apply(visitor_says(1, 1));
    assert_eq!(state.unread.get(&1), Some(&1));
    assert_eq!(
        state.select(1),
        AgentRequest::Open {
            conversation_id: 1,
            last_seq: 1
        }
    );
    assert!(!state.unread.contains_key(&1));
    assert!(state.holds_selected());
}

#[test]
fn a_reconnect_reopens_chats_and_resends_unacked_replies() {
    let mut state = ConsoleState::default();
    state.apply(welcome(vec![chat(1, ConversationStatus::Active, 1)]));
    state.select(1);
    state.apply(visitor_says(1, 1));
    let reply = state.write(1, "a1".into(), "On it".into());
    state.disconnected();
    let frames = state.apply(welcome(vec![chat(1, ConversationStatus::Active, 1)]));
    assert_eq!(
        frames,
        vec![
            AgentRequest::Open {
                conversation_id: 1,
                last_seq: 1
            },
            reply
        ]
    );
    state.apply(AgentEvent::Ack(Ack {
        conversation_id: 1,
        client_msg_id: "a1".into(),
        seq: 2,
        at: 1_700_000_000_000,
    }));
    assert!(state.outbox.is_empty());
    assert_eq!(state.transcripts[&1].last_seq(1), 2);
}

#[test]
fn joining_a_chat_shows_it_with_its_history() {
    let mut state = ConsoleState::default();
    state.apply(welcome(vec![chat(3, ConversationStatus::Queued, 1)]));
    let frames = state.apply(AgentEvent::Joined { conversation_id: 3 });
    assert_eq!(
        frames,
        vec![AgentRequest::Open {
            conversation_id: 3,
            last_seq: 0
        }]
    );
    assert_eq!(state.selected, Some(3));
}

#[test]
fn rings_start_and_stop_and_a_taken_chat_stops_ringing() {
    let mut state = ConsoleState::default();
    state.apply(welcome(Vec::new()));
    assert!(state.available());
    state.apply(AgentEvent::Ring(chat(4, ConversationStatus::Queued, 1)));
    state.apply(AgentEvent::Ring(chat(5, ConversationStatus::Queued, 2)));
    assert!(state.is_ringing(4) && state.is_ringing(5));
    assert_eq!(state.chat_list().len(), 2, "a ringing chat is listed");
    state.apply(AgentEvent::RingStop { conversation_id: 4 });
    assert!(!state.is_ringing(4));
    state.apply(AgentEvent::Chat(chat(5, ConversationStatus::Active, 2)));
    assert!(!state.is_ringing(5), "someone took it");
    state.apply(AgentEvent::Ring(chat(6, ConversationStatus::Queued, 3)));
    state.disconnected();
    assert!(
        state.ringing.is_empty(),
        "rings come again after a reconnect"
    );
}

#[test]
fn filters_pick_active_mine_my_teams_all_and_closed() {
    let mut state = ConsoleState::default();
    let with_teams = |id, status, teams: &[&str]| ChatSummary {
        teams: teams.iter().map(|team| (*team).to_owned()).collect(),
        ..chat(id, status, id)
    };
    state.apply(welcome(vec![
        with_teams(1, ConversationStatus::Active, &["Sales"]),
        with_teams(2, ConversationStatus::Queued, &["support"]),
        with_teams(3, ConversationStatus::Ended, &["Support"]),
    ]));
    let ids = |state: &ConsoleState| -> Vec<i64> {
        state
            .chat_list()
            .iter()
            .map(|chat| chat.conversation_id)
            .collect()
    };
    assert_eq!(ids(&state), [2, 1], "active: waiting first");
    state.filter = Filter::Mine;
    assert_eq!(ids(&state), [1], "chat 1 is held by Ana (me)");
    state.filter = Filter::MyTeams;
    assert_eq!(ids(&state), [2, 3]);
    state.filter = Filter::All;
    assert_eq!(ids(&state), [2, 1, 3]);
    state.filter = Filter::Closed;
    assert_eq!(ids(&state), [3]);
}

#[test]
fn the_keyboard_walks_the_list_and_joins_what_rings() {
    let mut state = ConsoleState::default();
    state.apply(welcome(vec![
        chat(1, ConversationStatus::Active, 1),
        chat(2, ConversationStatus::Queued, 2),
    ]));
    assert_eq!(
        state.neighbour(1),
        Some(2),
        "nothing selected: the first (waiting) chat"
    );
    state.select(2);
    assert_eq!(state.neighbour(1), Some(1));
    assert_eq!(state.neighbour(-1), None, "already at the top");
    assert_eq!(state.to_join(), Some(2), "the selected chat waits");
    state.select(1);
    assert_eq!(state.to_join(), None, "nothing rings");
    state.apply(AgentEvent::Ring(chat(2, ConversationStatus::Queued, 2)));
    assert_eq!(state.to_join(), Some(2));
}

#[test]
fn transfers_go_to_a_team_or_another_agent() {
    let mut state = ConsoleState::default();
    state.apply(welcome(vec![chat(1, ConversationStatus::Active, 1)]));
    state.select(1);
    let labels: Vec<String> = state
        .transfer_choices()
        .into_iter()
        .map(|(_, label)| label)
        .collect();
    assert_eq!(
        labels,
        ["Team Support", "Team Sales", "Bo"],
        "not to oneself"
    );
    assert_eq!(
        state.transfer("team:Sales"),
        Some(AgentRequest::Transfer {
            conversation_id: 1,
            to_team: Some("Sales".into()),
            to_agent: None
        })
    );
    assert_eq!(
        state.transfer("agent:2"),
        Some(AgentRequest::Transfer {
            conversation_id: 1,
            to_team: None,
            to_agent: Some(2)
        })
    );
    assert_eq!(state.transfer("agent:x"), None);
}

#[test]
fn the_status_is_known_and_changes() {
    let mut state = ConsoleState::default();
    state.apply(welcome(Vec::new()));
    state.apply(AgentEvent::MyStatus { status_id: 2 });
    assert_eq!(state.status_id, Some(2));
    assert!(!state.available());
}

#[test]
fn errors_are_shown() {
    let mut state = ConsoleState::default();
    state.apply(AgentEvent::Error(ProtocolError::new(
        ErrorCode::AlreadyTaken,
        "Another agent has already joined this chat.",
    )));
    assert_eq!(
        state.notice.as_deref(),
        Some("Another agent has already joined this chat.")
    );
}

#[test]
fn a_chat_from_the_bot_or_ai_is_worth_a_summary_once_people_have_it() {
    let mut state = ConsoleState::default();
    state.apply(welcome(vec![chat(4, ConversationStatus::Queued, 1)]));
    state.selected = Some(4);
    state.apply(visitor_says(4, 1));
    assert_eq!(state.selected_was_handed_over(), None, "no bot in it");
    state.apply(AgentEvent::Message(ChatMessage {
        conversation_id: 4,
        seq: 2,
        author: Author::Bot,
        author_name: Some("Helper".into()),
        body: "Refunds take 5 days.".into(),
        client_msg_id: None,
        attachment: None,
        sources: Vec::new(),
        at: 2,
    }));
    assert_eq!(state.selected_was_handed_over(), Some(4));
    state.chats.get_mut(&4).unwrap().status = ConversationStatus::Bot;
    assert_eq!(state.selected_was_handed_over(), None, "still with the bot");
}

#[test]
fn each_tickets_changed_frame_is_counted_for_the_tickets_page_to_reload() {
    let mut state = ConsoleState::default();
    state.apply(welcome(Vec::new()));
    let before = state.tickets_changed;
    assert!(state.apply(AgentEvent::TicketsChanged).is_empty());
    state.apply(AgentEvent::TicketsChanged);
    assert_eq!(state.tickets_changed, before + 2);
}

fn note(id: i64, chat: ConversationId, client_msg_id: &str, at: i64) -> Note {
    Note {
        id,
        conversation_id: chat,
        client_msg_id: client_msg_id.into(),
        author: AgentInfo {
            id: 1,
            name: "Ana".into(),
        },
        body: format!("note {id}"),
        at,
    }
}

fn said_at(id: ConversationId, seq: u64, at: i64) -> AgentEvent {
    let AgentEvent::Message(message) = visitor_says(id, seq) else {
        unreachable!()
    };
    AgentEvent::Message(ChatMessage { at, ..message })
}

/// What the rows of chat `id` are, in order: `m:SEQ`, `n:ID` or `p:CLIENT_MSG_ID`.
fn row_names(state: &ConsoleState, id: ConversationId) -> Vec<String> {
    state
        .rows(id)
        .iter()
        .map(|row| match row {
            Row::Message(entry) => match entry.seq {
                Some(seq) => format!("m:{seq}"),
                None => format!("m:{}", entry.client_msg_id.clone().unwrap_or_default()),
            },
            Row::Note {
                note,
                pending: false,
            } => format!("n:{}", note.id),
            Row::Note {
                note,
                pending: true,
            } => format!("p:{}", note.client_msg_id),
        })
        .collect()
}

#[test]
fn notes_sit_between_messages_by_time_and_pending_ones_last() {
    let mut state = ConsoleState::default();
    state.apply(welcome(vec![chat(7, ConversationStatus::Active, 1)]));
    state.select(7);
    state.apply(said_at(7, 1, 100));
    state.apply(said_at(7, 2, 300));
    // Out of order, and one twice (a colleague's, then again on opening the chat).
    state.apply(AgentEvent::Note(note(5, 7, "n-5", 400)));
    state.apply(AgentEvent::Note(note(4, 7, "n-4", 200)));
    state.apply(AgentEvent::Note(note(4, 7, "n-4", 200)));
    state.apply(AgentEvent::Note(note(9, 8, "n-9", 200)));
    state.write(7, "a-1".into(), "reply".into());
    state.write_note(7, "n-new".into(), "mine".into());
    assert_eq!(
        row_names(&state, 7),
        ["m:1", "n:4", "m:2", "n:5", "m:a-1", "p:n-new"]
    );

    // After a reconnect the unsent note goes again, and once stored it is no longer pending.
    let frames = state.apply(welcome(vec![chat(7, ConversationStatus::Active, 1)]));
    assert!(frames.contains(&AgentRequest::Note {
        conversation_id: 7,
        client_msg_id: "n-new".into(),
        body: "mine".into(),
    }));
    let pending_key = state.rows(7).last().map(Row::key);
    state.apply(AgentEvent::Note(note(6, 7, "n-new", 500)));
    assert!(state.note_outbox.is_empty());
    let stored_key = state
        .rows(7)
        .iter()
        .find(|row| matches!(row, Row::Note { note, .. } if note.id == 6))
        .map(Row::key);
    assert_ne!(stored_key, pending_key, "the stored note is drawn afresh");
    assert_eq!(
        row_names(&state, 7).last().map(String::as_str),
        Some("m:a-1")
    );
    assert!(row_names(&state, 7).contains(&"n:6".to_owned()));
}

#[test]
fn the_visitors_typing_shows_until_a_newer_pulse_expires_or_they_send() {
    let mut state = ConsoleState::default();
    state.apply(welcome(vec![chat(7, ConversationStatus::Active, 1)]));
    state.select(7);
    state.apply(AgentEvent::Typing { conversation_id: 7 });
    assert!(state.selected_is_typing());
    let first = state.typing[&7];
    state.apply(AgentEvent::Typing { conversation_id: 7 });
    state.typing_expired(7, first);
    assert!(state.selected_is_typing(), "a newer pulse keeps it");
    state.typing_expired(7, state.typing[&7]);
    assert!(!state.selected_is_typing());
    state.apply(AgentEvent::Typing { conversation_id: 7 });
    state.apply(visitor_says(7, 1));
    assert!(!state.selected_is_typing(), "their message arrived");
}

#[test]
fn the_agent_pulses_typing_only_in_a_chat_they_hold_and_not_too_often() {
    let mut state = ConsoleState::default();
    state.apply(welcome(vec![
        chat(7, ConversationStatus::Active, 1),
        chat(8, ConversationStatus::Queued, 2),
    ]));
    state.select(8);
    assert_eq!(state.typing_pulse(8, 0.0), None, "a waiting chat");
    state.select(7);
    let pulse = Some(AgentRequest::Typing { conversation_id: 7 });
    assert_eq!(state.typing_pulse(7, 1_000.0), pulse);
    assert_eq!(state.typing_pulse(7, 1_000.0 + TYPING_PULSE_MS - 1.0), None);
    assert_eq!(state.typing_pulse(7, 1_000.0 + TYPING_PULSE_MS), pulse);
    state.disconnected();
    assert_eq!(state.typing_pulse(7, 60_000.0), None, "offline");
}

#[test]
fn a_hidden_console_is_alerted_only_for_new_recent_visitor_messages_in_held_chats() {
    let mut state = ConsoleState::default();
    state.apply(welcome(vec![
        chat(7, ConversationStatus::Active, 1),
        chat(8, ConversationStatus::Queued, 2),
    ]));
    let at = |id, seq, at: i64| {
        let AgentEvent::Message(message) = said_at(id, seq, at) else {
            unreachable!()
        };
        message
    };
    let now = 100_000;
    assert_eq!(
        state.message_alert(&at(7, 1, now - 1_000), now),
        Some(("Visitor 7".to_owned(), "help".to_owned()))
    );
    assert_eq!(state.message_alert(&at(8, 1, now), now), None, "not held");
    assert_eq!(
        state.message_alert(&at(7, 1, now - 120_000), now),
        None,
        "a replay of an old message"
    );
    state.apply(said_at(7, 1, now));
    assert_eq!(
        state.message_alert(&at(7, 1, now), now),
        None,
        "already shown"
    );
    let long = ChatMessage {
        body: "x".repeat(100),
        ..at(7, 2, now)
    };
    let (_, body) = state.message_alert(&long, now).unwrap();
    assert_eq!(body.chars().count(), 81, "cut to a line with an ellipsis");
}

#[test]
fn an_erased_visitors_chats_leave_the_console_and_only_theirs() {
    let mut state = ConsoleState::default();
    let of_visitor = |id, visitor, status| ChatSummary {
        visitor_id: visitor,
        ..chat(id, status, id)
    };
    state.apply(welcome(vec![
        of_visitor(1, 7, ConversationStatus::Ended),
        of_visitor(2, 7, ConversationStatus::Ended),
        of_visitor(3, 8, ConversationStatus::Ended),
        of_visitor(4, 7, ConversationStatus::Active),
    ]));
    state.select(4);
    assert_eq!(
        state.erasable_visitor(),
        None,
        "an open chat cannot be erased"
    );
    state.select(2);
    assert_eq!(state.erasable_visitor(), Some(7));
    state.forget_visitor(7);
    assert_eq!(state.chats.keys().copied().collect::<Vec<_>>(), [3]);
    assert_eq!(state.selected, None);
    assert_eq!(state.erasable_visitor(), None);
}

#[test]
fn an_assigned_chat_opens_only_when_the_agent_has_none_open() {
    let mut state = ConsoleState::default();
    state.apply(welcome(vec![
        chat(1, ConversationStatus::Active, 1),
        chat(2, ConversationStatus::Active, 2),
    ]));
    let opened = state.apply(AgentEvent::Assigned { conversation_id: 1 });
    assert_eq!(
        opened,
        [AgentRequest::Open {
            conversation_id: 1,
            last_seq: 0
        }]
    );
    assert_eq!(state.selected, Some(1));
    assert!(
        state
            .apply(AgentEvent::Assigned { conversation_id: 2 })
            .is_empty()
    );
    assert_eq!(
        state.selected,
        Some(1),
        "the agent stays in the chat they are in"
    );
    assert_eq!(state.unread.get(&2), Some(&1));
}
