//! Agents, teams and statuses on the PostgreSQL store: the same behaviour as SQLite's
//! (one check run on both), and the last admin kept when two admins demote each other
//! from two nodes at once.

mod common;

use common::postgres::{TestPostgres, on_both_stores, seed, store_with};
use porchlight_protocol::api::people::Assignment;
use porchlight_relay::store::settings::AccessLevel;
use porchlight_relay::store::{
    AgentAccount, AgentStore, PgStore, Role, SessionStore, SiteStore, Status, StoreError,
};

const FAR_AWAY: i64 = i64::MAX / 2;

async fn agents_teams_and_statuses(store: &(impl SiteStore + AgentStore + SessionStore)) {
    assert!(store.seed_if_empty(seed()).await.unwrap());
    let ben = store
        .create_agent("ben@example.com", "Ben", Role::Agent, "h".into())
        .await
        .unwrap();
    assert!(matches!(
        store
            .create_agent("BEN@example.com", "Other", Role::Agent, "h".into())
            .await,
        Err(StoreError::Duplicate)
    ));
    let found = store.agent_by_email("Ben@Example.com").await.unwrap();
    assert_eq!(found, Some(ben.clone()));
    assert_eq!(store.agent(ben.id).await.unwrap(), Some(ben.clone()));

    // Teams: made by name, joined by name, looked up without case.
    store.create_team("Sales".into()).await.unwrap();
    assert!(matches!(
        store.create_team("Sales".into()).await,
        Err(StoreError::Duplicate)
    ));
    store
        .set_agent_teams(ben.id, vec!["Sales".into(), "Billing".into()])
        .await
        .unwrap();
    assert_eq!(
        store.team_names().await.unwrap(),
        ["Billing", "Sales", "Support"]
    );
    assert_eq!(
        store.agents_in_teams(vec!["sales".into()]).await.unwrap(),
        [ben.id]
    );
    store
        .set_team_assignment("sales".into(), Assignment::RoundRobin)
        .await
        .unwrap();
    assert!(matches!(
        store
            .set_team_assignment("Nobody".into(), Assignment::Ring)
            .await,
        Err(StoreError::NotFound)
    ));
    let sales = store.team_assignments().await.unwrap();
    assert_eq!(sales[1].team, "Sales");
    assert_eq!(sales[1].assignment, Assignment::RoundRobin);

    // Statuses: the seed's three, a new one, a name taken without case.
    let statuses = store.statuses().await.unwrap();
    assert_eq!(statuses.len(), 3);
    let lunch = store
        .save_status(Status {
            id: 0,
            name: "Lunch".into(),
            counts_online: false,
        })
        .await
        .unwrap();
    assert!(lunch.id > 0);
    assert!(matches!(
        store
            .save_status(Status {
                id: 0,
                name: "lunch".into(),
                counts_online: true,
            })
            .await,
        Err(StoreError::Duplicate)
    ));
    assert_eq!(
        store.set_agent_status(ben.id, lunch.id).await.unwrap(),
        lunch
    );
    assert!(matches!(
        store.set_agent_status(ben.id, 999).await,
        Err(StoreError::NotFound)
    ));
    store.set_agent_capacity(ben.id, Some(2)).await.unwrap();
    store
        .set_agent_access(ben.id, AccessLevel::Team)
        .await
        .unwrap();
    assert!(matches!(
        store.set_agent_capacity(999, None).await,
        Err(StoreError::NotFound)
    ));
    let snapshot = store.agent_snapshots().await.unwrap();
    assert_eq!(snapshot[1].name, "Ben");
    let mut teams = snapshot[1].teams.clone();
    teams.sort();
    assert_eq!(teams, ["Billing", "Sales"]);
    assert!(!snapshot[1].status_online);
    assert_eq!(snapshot[1].max_chats, Some(2));
    assert_eq!(snapshot[1].active_chats, 0);
    accounts(store, ben.id).await;
}

/// The admin pages' accounts: changes saved whole, the last admin kept, and sessions
/// ended by a new role or a new password.
async fn accounts(store: &(impl AgentStore + SessionStore), ben: i64) {
    let listed = store.agent_accounts().await.unwrap();
    let names: Vec<&str> = listed.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["A", "Ben"]);
    assert_eq!(listed[1].access, AccessLevel::Team);
    let admin = listed[0].clone();
    assert!(matches!(
        store
            .update_agent(AgentAccount {
                role: Role::Agent,
                ..admin.clone()
            })
            .await,
        Err(StoreError::LastAdmin)
    ));
    assert_eq!(store.agent_accounts().await.unwrap()[0].role, Role::Admin);
    let ben_account = listed[1].clone();
    assert!(matches!(
        store
            .update_agent(AgentAccount {
                teams: vec!["Nowhere".into()],
                ..ben_account.clone()
            })
            .await,
        Err(StoreError::NotFound)
    ));
    store
        .create_session(ben, "session".into(), FAR_AWAY)
        .await
        .unwrap();
    store
        .update_agent(AgentAccount {
            role: Role::Admin,
            teams: vec!["Support".into()],
            max_chats: None,
            ..ben_account
        })
        .await
        .unwrap();
    assert_eq!(
        store.agent_by_session("session", 0).await.unwrap(),
        None,
        "a new role ends the sessions"
    );
    let ben_now = &store.agent_accounts().await.unwrap()[1];
    assert_eq!((ben_now.role, ben_now.max_chats), (Role::Admin, None));
    assert_eq!(ben_now.teams, ["Support"]);
    store
        .create_session(ben, "again".into(), FAR_AWAY)
        .await
        .unwrap();
    store
        .set_password(ben, "new".into(), Some(FAR_AWAY))
        .await
        .unwrap();
    assert_eq!(store.agent_by_session("again", 0).await.unwrap(), None);
    let ben_now = store.agent(ben).await.unwrap().unwrap();
    assert!(ben_now.must_change_password);
    assert_eq!(ben_now.password_hash, "new");
}

#[tokio::test]
async fn agents_teams_and_statuses_behave_alike_on_both_stores() {
    on_both_stores!(agents_teams_and_statuses);
}

#[tokio::test]
async fn two_admins_demoting_each_other_on_two_nodes_at_once_leave_one() {
    let server = TestPostgres::start();
    let (a, url) = store_with(
        &server,
        "INSERT INTO agents (id, email, name, role, password_hash, created_at) VALUES \
             (1, 'ana@example.com', 'Ana', 'admin', 'x', 0), \
             (2, 'ben@example.com', 'Ben', 'admin', 'x', 0);",
    )
    .await;
    let b = PgStore::connect(&url).await.unwrap();
    let accounts = a.agent_accounts().await.unwrap();
    let demoted = |account: &AgentAccount| AgentAccount {
        role: Role::Agent,
        ..account.clone()
    };
    for _ in 0..20 {
        let (ana, ben) = tokio::join!(
            a.update_agent(demoted(&accounts[0])),
            b.update_agent(demoted(&accounts[1])),
        );
        let refused = [&ana, &ben]
            .iter()
            .filter(|outcome| matches!(outcome, Err(StoreError::LastAdmin)))
            .count();
        assert_eq!(refused, 1, "{ana:?} {ben:?}");
        let admins = a
            .agent_accounts()
            .await
            .unwrap()
            .into_iter()
            .filter(|account| account.role == Role::Admin)
            .count();
        assert_eq!(admins, 1);
        // Both admins again for the next trial.
        a.update_agent(accounts[0].clone()).await.unwrap();
        a.update_agent(accounts[1].clone()).await.unwrap();
    }
}
