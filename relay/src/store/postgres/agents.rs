//! Agents on PostgreSQL: their accounts, access levels, passwords and load (teams and
//! statuses are in `teams.rs`; this file's `impl AgentStore` covers both). An admin's
//! change to an account locks every active admin's row first, so two admins demoting
//! each other from two nodes at once cannot leave the site with none.

use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use porchlight_protocol::AgentId;
use porchlight_protocol::api::people::{Assignment, TeamAssignment};
use tokio_postgres::Row;

use super::PgStore;
use super::teams;
use crate::store::model::{Agent, AgentAccount, AgentSnapshot, Role, Status};
use crate::store::settings::AccessLevel;
use crate::store::{AgentStore, StoreError, now_ms};

pub(super) const AGENT_COLUMNS: &str = "a.id, a.email, a.name, a.role, a.password_hash, \
    a.access_level, a.can_toggle_uploads, a.must_change_password, a.password_expires_at, a.active";

pub(super) fn agent_from_row(row: &Row) -> Agent {
    Agent {
        id: row.get(0),
        email: row.get(1),
        name: row.get(2),
        role: Role::parse(row.get(3)),
        password_hash: row.get(4),
        access: AccessLevel::parse(row.get(5)).unwrap_or(AccessLevel::Own),
        can_toggle_uploads: row.get::<_, i64>(6) != 0,
        must_change_password: row.get::<_, i64>(7) != 0,
        password_expires_at: row.get(8),
        active: row.get::<_, i64>(9) != 0,
    }
}

/// The live chats of `agent` (an SQL expression: a parameter, or a column of an outer
/// query), as the holder or beside them.
pub(super) fn load_of(agent: &str) -> String {
    format!(
        "((SELECT COUNT(*) FROM conversations WHERE agent_id = {agent} AND status = 'active') \
         + (SELECT COUNT(*) FROM participants p JOIN conversations c ON c.id = p.conversation_id \
            WHERE p.agent_id = {agent} AND p.open = 1 AND c.status = 'active' \
            AND c.agent_id IS DISTINCT FROM {agent}))"
    )
}

/// The agent's teams' names, in order, for the agents table as `a`.
const TEAMS_OF_A: &str = "ARRAY(SELECT t.name FROM team_members m JOIN teams t ON t.id = m.team_id \
     WHERE m.agent_id = a.id ORDER BY t.name COLLATE \"C\")";

fn limit(max_chats: Option<usize>) -> Option<i64> {
    max_chats.and_then(|max| i64::try_from(max).ok())
}

fn chats(max: Option<i64>) -> Option<usize> {
    max.and_then(|max| usize::try_from(max).ok())
}

async fn one_agent(
    client: &impl GenericClient,
    filter: &str,
    value: &(dyn tokio_postgres::types::ToSql + Sync),
) -> Result<Option<Agent>, StoreError> {
    let row = client
        .query_opt(
            &format!("SELECT {AGENT_COLUMNS} FROM agents a WHERE {filter}"),
            &[value],
        )
        .await?;
    Ok(row.as_ref().map(agent_from_row))
}

async fn end_sessions(client: &impl GenericClient, agent: AgentId) -> Result<(), StoreError> {
    client
        .execute("DELETE FROM agent_sessions WHERE agent_id = $1", &[&agent])
        .await?;
    Ok(())
}

/// Saves an admin's changes to an account (see `AgentStore::update_agent`).
async fn update_agent(tx: &impl GenericClient, account: &AgentAccount) -> Result<(), StoreError> {
    tx.query(
        "SELECT id FROM agents WHERE role = 'admin' AND active = 1 ORDER BY id FOR UPDATE",
        &[],
    )
    .await?;
    let before = tx
        .query_opt(
            "SELECT role, active FROM agents WHERE id = $1 FOR UPDATE",
            &[&account.id],
        )
        .await?
        .ok_or(StoreError::NotFound)?;
    let (role, active): (String, bool) = (before.get(0), before.get::<_, i64>(1) != 0);
    tx.execute(
        "UPDATE agents SET name = $1, role = $2, access_level = $3, max_chats = $4, \
         can_toggle_uploads = $5, default_team = $6, active = $7 WHERE id = $8",
        &[
            &account.name,
            &account.role.as_str(),
            &account.access.as_str(),
            &limit(account.max_chats),
            &i64::from(account.can_toggle_uploads),
            &account.default_team,
            &i64::from(account.active),
            &account.id,
        ],
    )
    .await?;
    let admins: i64 = tx
        .query_one(
            "SELECT count(*) FROM agents WHERE role = 'admin' AND active = 1",
            &[],
        )
        .await?
        .get(0);
    if admins == 0 {
        return Err(StoreError::LastAdmin);
    }
    if role != account.role.as_str() || (active && !account.active) {
        end_sessions(tx, account.id).await?;
    }
    tx.execute(
        "DELETE FROM team_members WHERE agent_id = $1",
        &[&account.id],
    )
    .await?;
    for team in &account.teams {
        let found = tx
            .query_opt("SELECT id FROM teams WHERE name = $1", &[team])
            .await?
            .ok_or(StoreError::NotFound)?;
        tx.execute(
            "INSERT INTO team_members (team_id, agent_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&found.get::<_, i64>(0), &account.id],
        )
        .await?;
    }
    Ok(())
}

/// Runs one `UPDATE agents … WHERE id = $1` with `value` as `$2`; `NotFound` for no
/// such agent.
async fn update_one(
    store: &PgStore,
    sql: &str,
    agent: AgentId,
    value: &(dyn tokio_postgres::types::ToSql + Sync),
) -> Result<(), StoreError> {
    let updated = store.client().await?.execute(sql, &[&agent, value]).await?;
    if updated == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

#[async_trait]
impl AgentStore for PgStore {
    async fn agent_accounts(&self) -> Result<Vec<AgentAccount>, StoreError> {
        let rows = self
            .client()
            .await?
            .query(
                &format!(
                    "SELECT a.id, a.email, a.name, a.role, a.access_level, a.max_chats, \
                     a.can_toggle_uploads, a.default_team, {TEAMS_OF_A}, a.active \
                     FROM agents a ORDER BY lower(a.name), a.id"
                ),
                &[],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|row| AgentAccount {
                id: row.get(0),
                email: row.get(1),
                name: row.get(2),
                role: Role::parse(row.get(3)),
                access: AccessLevel::parse(row.get(4)).unwrap_or(AccessLevel::All),
                max_chats: chats(row.get(5)),
                can_toggle_uploads: row.get::<_, i64>(6) != 0,
                default_team: row.get(7),
                teams: row.get(8),
                active: row.get::<_, i64>(9) != 0,
            })
            .collect())
    }

    async fn agent(&self, id: AgentId) -> Result<Option<Agent>, StoreError> {
        one_agent(&self.client().await?, "a.id = $1", &id).await
    }

    async fn set_password(
        &self,
        agent: AgentId,
        hash: String,
        one_time_until: Option<i64>,
    ) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let updated = tx
            .execute(
                "UPDATE agents SET password_hash = $1, must_change_password = $2, \
                 password_expires_at = $3 WHERE id = $4",
                &[
                    &hash,
                    &i64::from(one_time_until.is_some()),
                    &one_time_until,
                    &agent,
                ],
            )
            .await?;
        if updated == 0 {
            return Err(StoreError::NotFound);
        }
        end_sessions(&tx, agent).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn update_agent(&self, account: AgentAccount) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        update_agent(&tx, &account).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn create_agent(
        &self,
        email: &str,
        name: &str,
        role: Role,
        password_hash: String,
    ) -> Result<Agent, StoreError> {
        let inserted = self
            .client()
            .await?
            .query_opt(
                "INSERT INTO agents (email, name, role, password_hash, status_id, created_at) \
                 VALUES ($1, $2, $3, $4, \
                 (SELECT MIN(id) FROM statuses WHERE counts_online = 1), $5) \
                 ON CONFLICT DO NOTHING RETURNING id",
                &[&email, &name, &role.as_str(), &password_hash, &now_ms()],
            )
            .await?
            .ok_or(StoreError::Duplicate)?;
        Ok(Agent::created(
            inserted.get(0),
            email,
            name,
            role,
            password_hash,
        ))
    }

    async fn agent_by_email(&self, email: &str) -> Result<Option<Agent>, StoreError> {
        one_agent(&self.client().await?, "lower(a.email) = lower($1)", &email).await
    }

    async fn team_names(&self) -> Result<Vec<String>, StoreError> {
        teams::team_names(&self.client().await?).await
    }

    async fn create_team(&self, name: String) -> Result<(), StoreError> {
        teams::create_team(&self.client().await?, &name).await
    }

    async fn team_assignments(&self) -> Result<Vec<TeamAssignment>, StoreError> {
        teams::team_assignments(&self.client().await?).await
    }

    async fn set_team_assignment(
        &self,
        team: String,
        assignment: Assignment,
    ) -> Result<(), StoreError> {
        teams::set_team_assignment(&self.client().await?, &team, assignment).await
    }

    async fn agents_in_teams(&self, teams: Vec<String>) -> Result<Vec<AgentId>, StoreError> {
        teams::agents_in_teams(&self.client().await?, &teams).await
    }

    async fn statuses(&self) -> Result<Vec<Status>, StoreError> {
        teams::statuses(&self.client().await?).await
    }

    async fn save_status(&self, status: Status) -> Result<Status, StoreError> {
        teams::save_status(&self.client().await?, status).await
    }

    async fn set_agent_access(
        &self,
        agent: AgentId,
        access: AccessLevel,
    ) -> Result<(), StoreError> {
        let sql = "UPDATE agents SET access_level = $2 WHERE id = $1";
        update_one(self, sql, agent, &access.as_str()).await
    }

    async fn set_agent_teams(&self, agent: AgentId, teams: Vec<String>) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        teams::set_agent_teams(&tx, agent, &teams).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn set_agent_capacity(
        &self,
        agent: AgentId,
        max_chats: Option<usize>,
    ) -> Result<(), StoreError> {
        let sql = "UPDATE agents SET max_chats = $2 WHERE id = $1";
        update_one(self, sql, agent, &limit(max_chats)).await
    }

    async fn set_agent_status(&self, agent: AgentId, status: i64) -> Result<Status, StoreError> {
        let client = self.client().await?;
        let found = teams::status(&client, status)
            .await?
            .ok_or(StoreError::NotFound)?;
        client
            .execute(
                "UPDATE agents SET status_id = $1 WHERE id = $2",
                &[&status, &agent],
            )
            .await?;
        Ok(found)
    }

    async fn agent_snapshots(&self) -> Result<Vec<AgentSnapshot>, StoreError> {
        let rows = self
            .client()
            .await?
            .query(
                &format!(
                    "SELECT a.id, a.name, a.status_id, COALESCE(s.counts_online, 1), \
                     a.max_chats, {}, {TEAMS_OF_A} \
                     FROM agents a LEFT JOIN statuses s ON s.id = a.status_id ORDER BY a.id",
                    load_of("a.id")
                ),
                &[],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|row| AgentSnapshot {
                id: row.get(0),
                name: row.get(1),
                status_id: row.get(2),
                status_online: row.get::<_, i64>(3) != 0,
                max_chats: chats(row.get(4)),
                active_chats: usize::try_from(row.get::<_, i64>(5)).unwrap_or(0),
                teams: row.get(6),
            })
            .collect())
    }
}
