//! Reports on the PostgreSQL store: the sums its trigger keeps as chats are queued,
//! joined, answered, rated, transferred, abandoned and erased, and the exports' pages,
//! the same as SQLite's (one check run on both). PostgreSQL now implements the whole
//! store.

mod common;

use std::collections::BTreeMap;

use common::postgres::{on_both_stores, seed};
use porchlight_protocol::{AgentInfo, Author, ConversationStatus};
use porchlight_relay::store::{
    ChatRules, ConversationStore, JoinOutcome, NewConversation, NewMessage, PgStore, ReportStore,
    Store, TransferTarget, WaitMeasure, now_ms,
};

const DAY_MS: i64 = 86_400_000;

fn admin() -> AgentInfo {
    AgentInfo {
        id: 1,
        name: "A".into(),
    }
}

/// A new visitor's chat, started in `status`.
async fn chat(store: &dyn Store, status: ConversationStatus) -> (i64, i64) {
    let site = store.site_by_key("demo").await.unwrap().unwrap().id;
    let visitor = store
        .create_visitor(site, format!("{status:?}{}", now_ms()))
        .await;
    let visitor = visitor.unwrap();
    let (chat, _) = store
        .open_or_start_conversation(NewConversation::of_visitor(site, visitor.id), status)
        .await
        .unwrap();
    (visitor.id, chat.id)
}

async fn join(store: &dyn Store, id: i64) {
    let joined = store.join(id, admin(), ChatRules::default()).await.unwrap();
    assert!(matches!(joined, JoinOutcome::Joined(_)), "{joined:?}");
}

async fn reports_and_exports(store: &impl Store) {
    assert!(store.seed_if_empty(seed()).await.unwrap());
    // Answered and rated 4; abandoned; still with the bot; transferred to Sales and
    // taken again.
    let (_, answered) = chat(store, ConversationStatus::Queued).await;
    join(store, answered).await;
    let hello = NewMessage::text(
        answered,
        None,
        Author::Agent,
        Some(1),
        Some("A".into()),
        "Hi".into(),
    );
    store.append_message(hello).await.unwrap();
    store
        .end(answered, Author::Agent, Some("A".into()))
        .await
        .unwrap();
    store.rate(answered, 4, None).await.unwrap();
    let (left, abandoned) = chat(store, ConversationStatus::Queued).await;
    store
        .abandon(abandoned, false, BTreeMap::new())
        .await
        .unwrap();
    chat(store, ConversationStatus::Bot).await;
    let (_, moved) = chat(store, ConversationStatus::Queued).await;
    join(store, moved).await;
    store
        .transfer(moved, admin(), false, TransferTarget::Team("Sales".into()))
        .await
        .unwrap();
    join(store, moved).await;

    let today = now_ms() / DAY_MS;
    let sums = store.report_sums(today - 100, today + 1).await.unwrap();
    assert_eq!(sums.days.len(), 1);
    let day = sums.days[0];
    assert_eq!(
        (
            day.chats,
            day.queued,
            day.abandoned,
            day.rated,
            day.score_sum
        ),
        (4, 3, 1, 1, 4)
    );
    assert_eq!(sums.hours.iter().sum::<usize>(), 4);
    assert_eq!(sums.agents.len(), 1);
    assert_eq!(
        (
            sums.agents[0].name.as_str(),
            sums.agents[0].chats,
            sums.agents[0].score_sum
        ),
        ("A", 2, 4)
    );
    assert_eq!(sums.teams.len(), 1);
    assert_eq!(
        (sums.teams[0].name.as_str(), sums.teams[0].chats),
        ("Sales", 1)
    );
    let waited = |measure| {
        sums.waits
            .iter()
            .filter(|wait| wait.measure == measure)
            .map(|wait| wait.chats)
            .sum::<usize>()
    };
    assert_eq!(waited(WaitMeasure::Queue), 2);
    assert_eq!(waited(WaitMeasure::FirstResponse), 1);

    // An erased visitor's chat leaves the sums.
    store.erase_visitor(left, "Admin".into()).await.unwrap();
    let day = store.report_sums(today, today + 1).await.unwrap().days[0];
    assert_eq!((day.chats, day.abandoned), (3, 0));
    assert!(
        store
            .report_sums(today + 1, today + 2)
            .await
            .unwrap()
            .days
            .is_empty()
    );

    // The exports: pages of chats in start order, then their messages.
    let first = store.chat_records(0, i64::MAX, None, 2).await.unwrap();
    let rest = store
        .chat_records(0, i64::MAX, Some(first[1].cursor()), 10)
        .await
        .unwrap();
    let ids: Vec<i64> = first.iter().chain(&rest).map(|record| record.id).collect();
    assert_eq!(ids.len(), 3);
    assert!(ids.windows(2).all(|pair| pair[0] < pair[1]), "{ids:?}");
    assert_eq!(first[0].rating, Some(4));
    let said = store.message_records(vec![moved, answered]).await.unwrap();
    assert_eq!(said[0].conversation_id, moved, "in the order asked");
    let seqs: Vec<i64> = said
        .iter()
        .filter(|message| message.conversation_id == answered)
        .map(|message| message.seq)
        .collect();
    assert_eq!(seqs, [1, 2, 3]);
}

#[tokio::test]
async fn reports_and_exports_behave_alike_on_both_stores() {
    on_both_stores!(reports_and_exports);
}

/// PostgreSQL's store is a whole store: what the relay's state holds.
#[test]
fn the_postgresql_store_is_a_whole_store() {
    fn whole<S: Store>() {}
    whole::<PgStore>();
}

/// Chats `count` queued, taken by Ana, and sent to `team` and taken again.
async fn chats_of_team(store: &PgStore, visitors: std::ops::Range<i64>, team: &str) -> Vec<i64> {
    let mut chats = Vec::new();
    for visitor in visitors {
        let (chat, _) = store
            .open_or_start_conversation(
                NewConversation::of_visitor(1, visitor),
                ConversationStatus::Queued,
            )
            .await
            .unwrap();
        join(store, chat.id).await;
        store
            .transfer(chat.id, admin(), false, TransferTarget::Team(team.into()))
            .await
            .unwrap();
        join(store, chat.id).await;
        chats.push(chat.id);
    }
    chats
}

#[tokio::test]
async fn two_nodes_moving_chats_between_teams_in_opposite_directions_keep_the_sums() {
    let server = common::postgres::TestPostgres::start();
    let (a, url) = common::postgres::store_with(&server, &common::postgres::demo_people(40)).await;
    let b = PgStore::connect(&url).await.unwrap();
    let sales = chats_of_team(&a, 1..21, "Sales").await;
    let support = chats_of_team(&a, 21..41, "Support").await;
    // Each pair at once: one chat from Sales to Support on one node, one from Support
    // to Sales on the other, both changing the same two teams' rows of the sums (in
    // key order, so neither can wait on a row the other holds while holding one it
    // wants); every move succeeds and the sums come out right.
    for (to_support, to_sales) in sales.iter().zip(&support) {
        let (moved_a, moved_b) = tokio::join!(
            a.transfer(
                *to_support,
                admin(),
                false,
                TransferTarget::Team("Support".into())
            ),
            b.transfer(
                *to_sales,
                admin(),
                false,
                TransferTarget::Team("Sales".into())
            ),
        );
        moved_a.unwrap();
        moved_b.unwrap();
    }
    let today = now_ms() / DAY_MS;
    let teams = a.report_sums(today, today + 1).await.unwrap().teams;
    let chats: Vec<(&str, usize)> = teams.iter().map(|t| (t.name.as_str(), t.chats)).collect();
    assert_eq!(chats, [("Sales", 20), ("Support", 20)]);
}
