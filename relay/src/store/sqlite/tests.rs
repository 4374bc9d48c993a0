use std::sync::Arc;

use porchlight_protocol::{AgentId, AgentInfo, Author, ConversationId, ConversationStatus};

use super::*;
use crate::store::visitors::VisitorStore;
use crate::store::*;

fn seed() -> Seed {
    Seed {
        site_key: "demo".into(),
        site_name: "Demo".into(),
        profile_name: "Default".into(),
        profile_definition: "{}".into(),
        team_name: "Support".into(),
        admin_email: "admin@example.com".into(),
        admin_name: "Admin".into(),
        admin_password_hash: "x".into(),
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    store: Arc<SqliteStore>,
    site: Site,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
    assert!(store.seed_if_empty(seed()).await.unwrap());
    let site = store.site_by_key("demo").await.unwrap().unwrap();
    Fixture {
        _dir: dir,
        store,
        site,
    }
}

async fn conversation(fx: &Fixture, token: &str) -> Conversation {
    let visitor = fx
        .store
        .create_visitor(fx.site.id, token.into())
        .await
        .unwrap();
    let (conversation, started) = fx
        .store
        .open_or_start_conversation(
            NewConversation {
                site_id: fx.site.id,
                visitor_id: visitor.id,
                profile_id: fx.site.default_profile_id,
                page_url: None,
                referrer: None,
                user_agent: None,
                ticket_id: None,
            },
            ConversationStatus::Queued,
        )
        .await
        .unwrap();
    assert!(started);
    conversation
}

fn visitor_text(conversation_id: ConversationId, client_msg_id: &str, body: &str) -> NewMessage {
    NewMessage::text(
        conversation_id,
        Some(client_msg_id.into()),
        Author::Visitor,
        None,
        None,
        body.into(),
    )
}

#[tokio::test]
async fn migrates_an_empty_directory_and_reopens_without_change() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = SqliteStore::open(dir.path()).unwrap();
        assert!(store.seed_if_empty(seed()).await.unwrap());
        store.flush().await.unwrap();
    }
    let store = SqliteStore::open(dir.path()).unwrap();
    assert!(
        !store.seed_if_empty(seed()).await.unwrap(),
        "a second start must not seed again"
    );
    let conn = Connection::open(store.path()).unwrap();
    let version: usize = conn
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap();
    assert_eq!(version, schema::SCHEMA_VERSION);
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |row| row.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    for table in [
        "sites",
        "visitors",
        "agents",
        "teams",
        "profiles",
        "conversations",
        "messages",
    ] {
        let count: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
                [table],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(count, 1, "table {table} exists");
    }
    let site = store.site_by_key("demo").await.unwrap().unwrap();
    assert!(site.default_profile_id.is_some());
    assert!(
        store
            .agent_by_email("ADMIN@example.com")
            .await
            .unwrap()
            .is_some(),
        "emails match without regard to case"
    );
}

#[tokio::test]
async fn a_duplicate_client_msg_id_is_stored_once_and_answered_with_the_original() {
    let fx = fixture().await;
    let conv = conversation(&fx, "t1").await;
    let first = fx
        .store
        .append_message(visitor_text(conv.id, "m-1", "hello"))
        .await
        .unwrap();
    assert!(!first.duplicate);
    assert_eq!(first.message.seq, 1);
    let again = fx
        .store
        .append_message(visitor_text(conv.id, "m-1", "hello (resent)"))
        .await
        .unwrap();
    assert!(again.duplicate);
    assert_eq!(again.message, first.message);
    let stored = fx.store.messages_after(conv.id, 0, 100).await.unwrap();
    assert_eq!(stored, vec![first.message]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seqs_have_no_gaps_under_concurrent_senders() {
    let fx = fixture().await;
    let conv = conversation(&fx, "t1").await;
    let mut senders = Vec::new();
    for sender in 0..8 {
        let store = Arc::clone(&fx.store);
        senders.push(tokio::spawn(async move {
            let mut seqs = Vec::new();
            for n in 0..50 {
                let appended = store
                    .append_message(visitor_text(conv.id, &format!("s{sender}-{n}"), "x"))
                    .await
                    .unwrap();
                seqs.push(appended.message.seq);
            }
            seqs
        }));
    }
    let mut acked = Vec::new();
    for sender in senders {
        acked.extend(sender.await.unwrap());
    }
    acked.sort_unstable();
    assert_eq!(acked, (1..=400).collect::<Vec<u64>>());
    let stored: Vec<u64> = fx
        .store
        .messages_after(conv.id, 0, 1000)
        .await
        .unwrap()
        .iter()
        .map(|message| message.seq)
        .collect();
    assert_eq!(stored, (1..=400).collect::<Vec<u64>>());
    let after = fx.store.messages_after(conv.id, 390, 1000).await.unwrap();
    assert_eq!(after.first().map(|m| m.seq), Some(391));
    assert_eq!(after.len(), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exactly_one_of_two_racing_agents_joins() {
    let fx = fixture().await;
    let conv = conversation(&fx, "t1").await;
    let ana = AgentInfo {
        id: 1,
        name: "Ana".into(),
    };
    let bo = fx
        .store
        .create_agent("bo@example.com", "Bo", Role::Agent, "x".into())
        .await
        .unwrap()
        .info();
    let (a, b) = tokio::join!(
        fx.store.join(conv.id, ana.clone(), ChatRules::default()),
        fx.store.join(conv.id, bo.clone(), ChatRules::default())
    );
    let outcomes = [a.unwrap(), b.unwrap()];
    let winners: Vec<&Conversation> = outcomes
        .iter()
        .filter_map(|outcome| match outcome {
            JoinOutcome::Joined(joined) => Some(&joined.0),
            _ => None,
        })
        .collect();
    assert_eq!(winners.len(), 1, "{outcomes:?}");
    assert!(outcomes.contains(&JoinOutcome::Taken));
    let winner = winners[0].agent.clone().unwrap();
    let stored = fx.store.conversation(conv.id).await.unwrap().unwrap();
    assert_eq!(stored.status, ConversationStatus::Active);
    assert_eq!(stored.agent, Some(winner.clone()));
    assert!(stored.queue_ms.unwrap() >= 0);
    let events = fx.store.messages_after(conv.id, 0, 10).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].body, format!("{} joined the chat", winner.name));

    let loser = if winner == ana { bo } else { ana };
    let refused = fx
        .store
        .append_message(NewMessage {
            author: Author::Agent,
            author_id: Some(loser.id),
            ..visitor_text(conv.id, "a-1", "me too")
        })
        .await;
    assert!(matches!(refused, Err(StoreError::NotJoined)), "{refused:?}");
    let accepted = fx
        .store
        .append_message(NewMessage {
            author: Author::Agent,
            author_id: Some(winner.id),
            author_name: Some(winner.name.clone()),
            ..visitor_text(conv.id, "a-2", "hi")
        })
        .await
        .unwrap();
    assert_eq!(accepted.message.seq, 2);
}

#[tokio::test]
async fn an_ended_conversation_takes_no_more_text_and_a_new_one_can_start() {
    let fx = fixture().await;
    let conv = conversation(&fx, "t1").await;
    let (ended, event) = fx
        .store
        .end(conv.id, Author::Visitor, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ended.status, ConversationStatus::Ended);
    assert!(ended.ended_at.is_some());
    assert_eq!(event.author, Author::System);
    assert!(
        fx.store
            .end(conv.id, Author::Visitor, None)
            .await
            .unwrap()
            .is_none(),
        "ending twice changes nothing"
    );
    let refused = fx
        .store
        .append_message(visitor_text(conv.id, "m-9", "late"))
        .await;
    assert!(matches!(refused, Err(StoreError::ConversationEnded)));
    let (next, started) = fx
        .store
        .open_or_start_conversation(
            NewConversation {
                site_id: fx.site.id,
                visitor_id: conv.visitor_id,
                profile_id: None,
                page_url: None,
                referrer: None,
                user_agent: None,
                ticket_id: None,
            },
            ConversationStatus::Queued,
        )
        .await
        .unwrap();
    assert!(started);
    assert_ne!(next.id, conv.id);
    assert_eq!(
        fx.store
            .latest_conversation(conv.visitor_id)
            .await
            .unwrap()
            .map(|c| c.id),
        Some(next.id)
    );
}

#[tokio::test]
async fn a_failed_job_does_not_undo_the_others_in_its_batch() {
    let fx = fixture().await;
    let conv = conversation(&fx, "t1").await;
    let (good, bad) = tokio::join!(
        fx.store
            .append_message(visitor_text(conv.id, "m-1", "kept")),
        fx.store.append_message(visitor_text(999, "m-2", "nowhere"))
    );
    assert!(matches!(bad, Err(StoreError::NotFound)));
    assert_eq!(good.unwrap().message.seq, 1);
    assert_eq!(
        fx.store.messages_after(conv.id, 0, 10).await.unwrap().len(),
        1
    );
}

#[tokio::test]
async fn sessions_expire_and_can_be_deleted() {
    let fx = fixture().await;
    let admin = fx
        .store
        .agent_by_email("admin@example.com")
        .await
        .unwrap()
        .unwrap();
    fx.store
        .create_session(admin.id, "h1".into(), 2_000)
        .await
        .unwrap();
    assert_eq!(
        fx.store.agent_by_session("h1", 1_000).await.unwrap(),
        Some(admin.clone())
    );
    assert_eq!(fx.store.agent_by_session("h1", 2_001).await.unwrap(), None);
    fx.store
        .create_session(admin.id, "h2".into(), i64::MAX)
        .await
        .unwrap();
    fx.store.delete_session("h2").await.unwrap();
    assert_eq!(fx.store.agent_by_session("h2", 0).await.unwrap(), None);
}

#[tokio::test]
async fn capacity_and_the_one_chat_rule_are_enforced_when_joining() {
    let fx = fixture().await;
    let ana = fx
        .store
        .create_agent("ana@example.com", "Ana", Role::Agent, "x".into())
        .await
        .unwrap();
    fx.store.set_agent_capacity(ana.id, Some(1)).await.unwrap();
    let first = conversation(&fx, "t1").await;
    let second = conversation(&fx, "t2").await;
    let rules = ChatRules::default();
    assert!(matches!(
        fx.store.join(first.id, ana.info(), rules).await.unwrap(),
        JoinOutcome::Joined(..)
    ));
    assert_eq!(
        fx.store.join(second.id, ana.info(), rules).await.unwrap(),
        JoinOutcome::AtCapacity
    );
    fx.store.set_agent_capacity(ana.id, None).await.unwrap();
    let one_chat = ChatRules {
        one_chat_per_agent: true,
        ..rules
    };
    assert_eq!(
        fx.store
            .join(second.id, ana.info(), one_chat)
            .await
            .unwrap(),
        JoinOutcome::AtCapacity
    );
    assert!(matches!(
        fx.store.join(second.id, ana.info(), rules).await.unwrap(),
        JoinOutcome::Joined(..)
    ));
    let snapshot = fx
        .store
        .agent_snapshots()
        .await
        .unwrap()
        .into_iter()
        .find(|snapshot| snapshot.id == ana.id)
        .unwrap();
    assert_eq!(snapshot.active_chats, 2);
    assert!(
        snapshot.status_online,
        "new agents start in an online status"
    );
}

#[tokio::test]
async fn with_multiple_agents_allowed_a_second_agent_joins_beside_the_first() {
    let fx = fixture().await;
    let ana = fx
        .store
        .create_agent("ana@example.com", "Ana", Role::Agent, "x".into())
        .await
        .unwrap();
    let bo = fx
        .store
        .create_agent("bo@example.com", "Bo", Role::Agent, "x".into())
        .await
        .unwrap();
    let conv = conversation(&fx, "t1").await;
    let open_door = ChatRules {
        prevent_multiple_agents: false,
        ..ChatRules::default()
    };
    fx.store.join(conv.id, ana.info(), open_door).await.unwrap();
    assert_eq!(
        fx.store
            .join(conv.id, bo.info(), ChatRules::default())
            .await
            .unwrap(),
        JoinOutcome::Taken,
        "prevented by default"
    );
    assert!(matches!(
        fx.store.join(conv.id, bo.info(), open_door).await.unwrap(),
        JoinOutcome::Joined(..)
    ));
    assert_eq!(
        fx.store.join(conv.id, bo.info(), open_door).await.unwrap(),
        JoinOutcome::Taken,
        "not twice"
    );
    let reply = fx
        .store
        .append_message(NewMessage::text(
            conv.id,
            Some("b-1".into()),
            Author::Agent,
            Some(bo.id),
            Some("Bo".into()),
            "I'm here too".into(),
        ))
        .await;
    assert!(reply.is_ok(), "a participant may write: {reply:?}");

    // Each counts the chat once toward their load, and a chat beside someone fills a
    // one-chat agent as much as one of their own.
    let loads: Vec<(AgentId, usize)> = fx
        .store
        .agent_snapshots()
        .await
        .unwrap()
        .iter()
        .filter(|snapshot| [ana.id, bo.id].contains(&snapshot.id))
        .map(|snapshot| (snapshot.id, snapshot.active_chats))
        .collect();
    assert_eq!(loads, [(ana.id, 1), (bo.id, 1)]);
    let other = conversation(&fx, "t2").await;
    let one_chat = ChatRules {
        one_chat_per_agent: true,
        ..open_door
    };
    assert_eq!(
        fx.store.join(other.id, bo.info(), one_chat).await.unwrap(),
        JoinOutcome::AtCapacity
    );
}

#[tokio::test]
async fn statuses_settings_and_teams_are_stored() {
    let fx = fixture().await;
    let statuses = fx.store.statuses().await.unwrap();
    let names: Vec<(&str, bool)> = statuses
        .iter()
        .map(|status| (status.name.as_str(), status.counts_online))
        .collect();
    assert_eq!(
        names,
        [("Available", true), ("Busy", false), ("Away", false)]
    );
    let admin = fx
        .store
        .agent_by_email("admin@example.com")
        .await
        .unwrap()
        .unwrap();
    let away = statuses
        .iter()
        .find(|status| status.name == "Away")
        .unwrap();
    fx.store.set_agent_status(admin.id, away.id).await.unwrap();
    let snapshot = &fx.store.agent_snapshots().await.unwrap()[0];
    assert_eq!(snapshot.teams, ["Support"]);
    assert!(!snapshot.status_online);
    assert!(matches!(
        fx.store.set_agent_status(admin.id, 999).await,
        Err(StoreError::NotFound)
    ));

    assert_eq!(fx.store.chat_rules().await.unwrap(), ChatRules::default());
    let rules = ChatRules {
        prevent_multiple_agents: false,
        one_chat_per_agent: true,
        through_tickets: true,
        ticket_agent_only: true,
    };
    fx.store.set_chat_rules(rules).await.unwrap();
    assert_eq!(fx.store.chat_rules().await.unwrap(), rules);
}

#[tokio::test]
async fn a_visitors_client_msg_id_is_stored_once_across_their_chats() {
    let fx = fixture().await;
    let first = conversation(&fx, "t1").await;
    let original = fx
        .store
        .append_message(visitor_text(first.id, "m-1", "hello"))
        .await
        .unwrap();
    fx.store.end(first.id, Author::Visitor, None).await.unwrap();
    let (second, _) = fx
        .store
        .open_or_start_conversation(
            NewConversation {
                site_id: fx.site.id,
                visitor_id: first.visitor_id,
                profile_id: None,
                page_url: None,
                referrer: None,
                user_agent: None,
                ticket_id: None,
            },
            ConversationStatus::Queued,
        )
        .await
        .unwrap();
    let resent = fx
        .store
        .append_message(visitor_text(second.id, "m-1", "hello"))
        .await
        .unwrap();
    assert!(resent.duplicate);
    assert_eq!(resent.message, original.message);
    assert!(
        fx.store
            .messages_after(second.id, 0, 10)
            .await
            .unwrap()
            .is_empty()
    );

    // Another visitor may use the same id: ids are per visitor.
    let other = conversation(&fx, "t2").await;
    let theirs = fx
        .store
        .append_message(visitor_text(other.id, "m-1", "hi"))
        .await
        .unwrap();
    assert!(!theirs.duplicate);
}

#[tokio::test]
async fn a_data_folder_from_a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    drop(SqliteStore::open(dir.path()).unwrap());
    let conn = rusqlite::Connection::open(dir.path().join("porchlight.sqlite3")).unwrap();
    conn.pragma_update(None, "user_version", schema::SCHEMA_VERSION + 1)
        .unwrap();
    drop(conn);
    let Err(err) = SqliteStore::open(dir.path()) else {
        panic!("a newer schema was opened");
    };
    assert!(err.to_string().contains("newer Porchlight"), "{err}");
}

#[tokio::test]
async fn exports_read_the_chats_a_page_at_a_time_in_start_order() {
    let fx = fixture().await;
    let mut started = Vec::new();
    for number in 0..7 {
        let chat = conversation(&fx, &format!("t{number}")).await;
        let body = format!("message of chat {number}");
        fx.store
            .append_message(visitor_text(chat.id, "m-1", &body))
            .await
            .unwrap();
        started.push(chat.id);
    }
    // Chats started within the same millisecond are told apart by id.
    let (from, to) = (0, now_ms() + 1);
    let mut paged = Vec::new();
    let mut after = None;
    loop {
        let page = fx.store.chat_records(from, to, after, 3).await.unwrap();
        assert!(page.len() <= 3);
        let Some(last) = page.last() else { break };
        after = Some(last.cursor());
        paged.extend(page);
    }
    let ids: Vec<ConversationId> = paged.iter().map(|chat| chat.id).collect();
    assert_eq!(ids, started, "every chat once, oldest first");
    let later = fx
        .store
        .chat_records(from, to, Some(paged[4].cursor()), 10)
        .await
        .unwrap();
    assert_eq!(
        later.iter().map(|chat| chat.id).collect::<Vec<_>>(),
        started[5..]
    );
    let none_before = fx
        .store
        .chat_records(paged[6].created_at + 1, to, None, 10)
        .await
        .unwrap();
    assert!(none_before.is_empty(), "the range bounds the pages");

    let messages = fx
        .store
        .message_records(vec![started[2], started[0]])
        .await
        .unwrap();
    let bodies: Vec<&str> = messages
        .iter()
        .map(|message| message.body.as_str())
        .collect();
    assert_eq!(bodies, ["message of chat 2", "message of chat 0"]);
}
