//! Agents, their access levels, passwords and load (teams and statuses are in
//! `teams.rs`; this file's `impl AgentStore` covers both). Plain functions over a
//! connection; `mod.rs` runs them on the writer thread or a reader.

use std::sync::LazyLock;

use async_trait::async_trait;
use porchlight_protocol::api::people::{Assignment, TeamAssignment};
use porchlight_protocol::{AgentId, ConversationId};
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::store::model::{Agent, AgentAccount, AgentSnapshot, Role, Status};
use crate::store::settings::AccessLevel;
use crate::store::{AgentStore, StoreError, now_ms};

use super::teams::{
    agents_in_teams, create_team, save_status, set_team_assignment, status_from_row, statuses,
    team_assignments, team_names,
};
use super::{Cached, SqliteStore};

/// The columns [`agent_from_row`] reads, of the agents table as `a`.
pub(super) const AGENT_COLUMNS: &str = "a.id, a.email, a.name, a.role, a.password_hash, \
    a.access_level, a.can_toggle_uploads, a.must_change_password, a.password_expires_at, a.active";

pub(super) fn agent_from_row(row: &Row<'_>) -> rusqlite::Result<Agent> {
    let role: String = row.get(3)?;
    let access: String = row.get(5)?;
    Ok(Agent {
        access: AccessLevel::parse(&access).unwrap_or(AccessLevel::Own),
        id: row.get(0)?,
        email: row.get(1)?,
        name: row.get(2)?,
        role: Role::parse(&role),
        password_hash: row.get(4)?,
        can_toggle_uploads: row.get(6)?,
        must_change_password: row.get(7)?,
        password_expires_at: row.get(8)?,
        active: row.get(9)?,
    })
}

pub(super) fn is_participant(
    conn: &Connection,
    id: ConversationId,
    agent: AgentId,
) -> rusqlite::Result<bool> {
    Ok(conn
        .cached_row(
            "SELECT 1 FROM participants WHERE conversation_id = ?1 AND agent_id = ?2",
            params![id, agent],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// The open chats an agent is in, as the holder or beside them, for `agent` (an SQL
/// expression: a parameter, or a column of an outer query). Both counts walk the
/// agent's own index entries for open chats (`conversations_by_agent`,
/// `participants_open`), so one agent's load costs their open chats, neither every
/// open chat's nor every chat they ever sat in: counting from all open chats cost 3 ms
/// with 10,000 open, on every join and every ring.
fn load_of(agent: &str) -> String {
    format!(
        "((SELECT COUNT(*) FROM conversations WHERE agent_id = {agent} AND status = 'active') \
         + (SELECT COUNT(*) FROM participants p JOIN conversations c ON c.id = p.conversation_id \
            WHERE p.agent_id = {agent} AND p.open = 1 AND c.status = 'active' \
            AND c.agent_id IS NOT {agent}))"
    )
}

static ONE_AGENT_LOAD: LazyLock<String> = LazyLock::new(|| format!("SELECT {}", load_of("?1")));

/// The agent's live chats now ([`load_of`]), and their own limit.
pub(super) fn agent_load(
    conn: &Connection,
    agent: AgentId,
) -> rusqlite::Result<(usize, Option<usize>)> {
    let active: i64 = conn.cached_row(&ONE_AGENT_LOAD, [agent], |row| row.get(0))?;
    let max: Option<i64> = conn
        .cached_row(
            "SELECT max_chats FROM agents WHERE id = ?1",
            [agent],
            |row| row.get(0),
        )
        .optional()?
        .flatten();
    Ok((
        usize::try_from(active).unwrap_or(0),
        max.and_then(|max| usize::try_from(max).ok()),
    ))
}

pub(super) fn agent_accounts(conn: &Connection) -> Result<Vec<AgentAccount>, StoreError> {
    let mut statement = conn.prepare_cached(
        "SELECT a.id, a.email, a.name, a.role, a.access_level, a.max_chats, a.can_toggle_uploads, \
         a.default_team, \
         (SELECT json_group_array(t.name) FROM team_members m \
          JOIN teams t ON t.id = m.team_id WHERE m.agent_id = a.id), a.active \
         FROM agents a ORDER BY a.name COLLATE NOCASE, a.id",
    )?;
    let rows = statement.query_map([], |row| {
        let role: String = row.get(3)?;
        let access: String = row.get(4)?;
        let max_chats: Option<i64> = row.get(5)?;
        let teams: String = row.get(8)?;
        let mut teams: Vec<String> = serde_json::from_str(&teams).unwrap_or_default();
        teams.sort();
        Ok(AgentAccount {
            id: row.get(0)?,
            email: row.get(1)?,
            name: row.get(2)?,
            role: Role::parse(&role),
            teams,
            access: AccessLevel::parse(&access).unwrap_or(AccessLevel::All),
            max_chats: max_chats.and_then(|max| usize::try_from(max).ok()),
            can_toggle_uploads: row.get(6)?,
            default_team: row.get(7)?,
            active: row.get(9)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Saves an admin's changes to an account. A changed role or a deactivation ends
/// every session of the agent (they log in again, with their new rights or not at
/// all); the last active admin can be neither demoted nor deactivated.
pub(super) fn update_agent(conn: &Connection, account: AgentAccount) -> Result<(), StoreError> {
    let (role, active): (String, bool) = conn
        .cached_row(
            "SELECT role, active FROM agents WHERE id = ?1",
            [account.id],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?
        .ok_or(StoreError::NotFound)?;
    let max = account.max_chats.and_then(|max| i64::try_from(max).ok());
    conn.cached_execute(
        "UPDATE agents SET name = ?1, role = ?2, access_level = ?3, max_chats = ?4, \
         can_toggle_uploads = ?5, default_team = ?6, active = ?7 WHERE id = ?8",
        params![
            account.name,
            account.role.as_str(),
            account.access.as_str(),
            max,
            account.can_toggle_uploads,
            account.default_team,
            account.active,
            account.id
        ],
    )?;
    let admins: i64 = conn.cached_row(
        "SELECT count(*) FROM agents WHERE role = 'admin' AND active = 1",
        [],
        |row| row.get(0),
    )?;
    if admins == 0 {
        return Err(StoreError::LastAdmin);
    }
    if role != account.role.as_str() || (active && !account.active) {
        end_sessions(conn, account.id)?;
    }
    conn.cached_execute("DELETE FROM team_members WHERE agent_id = ?1", [account.id])?;
    for team in &account.teams {
        let added = conn.cached_execute(
            "INSERT OR IGNORE INTO team_members (team_id, agent_id) \
             SELECT id, ?2 FROM teams WHERE name = ?1",
            params![team, account.id],
        )?;
        let exists = conn
            .cached_row("SELECT 1 FROM teams WHERE name = ?1", [team], |_| Ok(()))
            .optional()?;
        if added == 0 && exists.is_none() {
            return Err(StoreError::NotFound);
        }
    }
    Ok(())
}

pub(super) fn create_agent(
    conn: &Connection,
    email: &str,
    name: &str,
    role: Role,
    password_hash: String,
) -> Result<Agent, StoreError> {
    let inserted = conn.cached_execute(
        "INSERT INTO agents (email, name, role, password_hash, status_id, created_at) \
         VALUES (?1, ?2, ?3, ?4, (SELECT MIN(id) FROM statuses WHERE counts_online = 1), ?5) \
         ON CONFLICT (email) DO NOTHING",
        params![email, name, role.as_str(), password_hash, now_ms()],
    )?;
    if inserted == 0 {
        return Err(StoreError::Duplicate);
    }
    Ok(Agent::created(
        conn.last_insert_rowid(),
        email,
        name,
        role,
        password_hash,
    ))
}

pub(super) fn agent_by_email(conn: &Connection, email: &str) -> Result<Option<Agent>, StoreError> {
    Ok(conn
        .cached_row(
            &format!("SELECT {AGENT_COLUMNS} FROM agents a WHERE a.email = ?1"),
            [email],
            agent_from_row,
        )
        .optional()?)
}

/// Every session of the agent ends.
pub(super) fn end_sessions(conn: &Connection, agent: AgentId) -> Result<(), StoreError> {
    conn.cached_execute("DELETE FROM agent_sessions WHERE agent_id = ?1", [agent])?;
    Ok(())
}

/// A new password: the agent's own (`one_time_until` None), or a one-time one that
/// must be changed at first login and is refused after `one_time_until`. Every
/// session of the agent ends.
pub(super) fn set_password(
    conn: &Connection,
    agent: AgentId,
    hash: &str,
    one_time_until: Option<i64>,
) -> Result<(), StoreError> {
    let updated = conn.cached_execute(
        "UPDATE agents SET password_hash = ?1, must_change_password = ?2, \
         password_expires_at = ?3 WHERE id = ?4",
        params![hash, one_time_until.is_some(), one_time_until, agent],
    )?;
    if updated == 0 {
        return Err(StoreError::NotFound);
    }
    end_sessions(conn, agent)
}

pub(super) fn set_agent_access(
    conn: &Connection,
    agent: AgentId,
    access: AccessLevel,
) -> Result<(), StoreError> {
    let updated = conn.cached_execute(
        "UPDATE agents SET access_level = ?1 WHERE id = ?2",
        params![access.as_str(), agent],
    )?;
    if updated == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub(super) fn set_agent_teams(
    conn: &Connection,
    agent: AgentId,
    teams: Vec<String>,
) -> Result<(), StoreError> {
    conn.cached_execute("DELETE FROM team_members WHERE agent_id = ?1", [agent])?;
    for team in &teams {
        conn.cached_execute(
            "INSERT INTO teams (name, created_at) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
            params![team, now_ms()],
        )?;
        conn.cached_execute(
            "INSERT OR IGNORE INTO team_members (team_id, agent_id) \
             SELECT id, ?2 FROM teams WHERE name = ?1",
            params![team, agent],
        )?;
    }
    Ok(())
}

pub(super) fn set_agent_capacity(
    conn: &Connection,
    agent: AgentId,
    max_chats: Option<usize>,
) -> Result<(), StoreError> {
    let max = max_chats.and_then(|max| i64::try_from(max).ok());
    if conn.cached_execute(
        "UPDATE agents SET max_chats = ?1 WHERE id = ?2",
        params![max, agent],
    )? == 0
    {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub(super) fn set_agent_status(
    conn: &Connection,
    agent: AgentId,
    status: i64,
) -> Result<Status, StoreError> {
    let found = conn
        .cached_row(
            "SELECT id, name, counts_online FROM statuses WHERE id = ?1",
            [status],
            status_from_row,
        )
        .optional()?
        .ok_or(StoreError::NotFound)?;
    conn.cached_execute(
        "UPDATE agents SET status_id = ?1 WHERE id = ?2",
        params![status, agent],
    )?;
    Ok(found)
}

static SNAPSHOTS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT a.id, a.name, a.status_id, COALESCE(s.counts_online, 1), a.max_chats, {}, \
         (SELECT json_group_array(t.name) FROM team_members m JOIN teams t ON t.id = m.team_id \
            WHERE m.agent_id = a.id) \
         FROM agents a LEFT JOIN statuses s ON s.id = a.status_id ORDER BY a.id",
        load_of("a.id")
    )
});

pub(super) fn agent_snapshots(conn: &Connection) -> Result<Vec<AgentSnapshot>, StoreError> {
    let mut statement = conn.prepare_cached(&SNAPSHOTS)?;
    let rows = statement.query_map([], |row| {
        let teams: String = row.get(6)?;
        Ok(AgentSnapshot {
            id: row.get(0)?,
            name: row.get(1)?,
            status_id: row.get(2)?,
            status_online: row.get(3)?,
            max_chats: row
                .get::<_, Option<i64>>(4)?
                .and_then(|max| usize::try_from(max).ok()),
            active_chats: usize::try_from(row.get::<_, i64>(5)?).unwrap_or(0),
            teams: serde_json::from_str(&teams).unwrap_or_default(),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

#[async_trait]
impl AgentStore for SqliteStore {
    async fn agent_accounts(&self) -> Result<Vec<AgentAccount>, StoreError> {
        self.read(agent_accounts).await
    }

    async fn set_password(
        &self,
        agent: AgentId,
        hash: String,
        one_time_until: Option<i64>,
    ) -> Result<(), StoreError> {
        self.write(move |conn| set_password(conn, agent, &hash, one_time_until))
            .await
    }

    async fn agent(&self, id: AgentId) -> Result<Option<Agent>, StoreError> {
        self.read(move |conn| {
            Ok(conn
                .cached_row(
                    &format!("SELECT {AGENT_COLUMNS} FROM agents a WHERE a.id = ?1"),
                    [id],
                    agent_from_row,
                )
                .optional()?)
        })
        .await
    }

    async fn update_agent(&self, account: AgentAccount) -> Result<(), StoreError> {
        self.write(move |conn| update_agent(conn, account)).await
    }

    async fn create_agent(
        &self,
        email: &str,
        name: &str,
        role: Role,
        password_hash: String,
    ) -> Result<Agent, StoreError> {
        let (email, name) = (email.to_owned(), name.to_owned());
        self.write(move |conn| create_agent(conn, &email, &name, role, password_hash))
            .await
    }

    async fn agent_by_email(&self, email: &str) -> Result<Option<Agent>, StoreError> {
        let email = email.to_owned();
        self.read(move |conn| agent_by_email(conn, &email)).await
    }

    async fn team_names(&self) -> Result<Vec<String>, StoreError> {
        self.read(team_names).await
    }

    async fn create_team(&self, name: String) -> Result<(), StoreError> {
        self.write(move |conn| create_team(conn, name)).await
    }

    async fn team_assignments(&self) -> Result<Vec<TeamAssignment>, StoreError> {
        self.read(team_assignments).await
    }

    async fn set_team_assignment(
        &self,
        team: String,
        assignment: Assignment,
    ) -> Result<(), StoreError> {
        self.write(move |conn| set_team_assignment(conn, &team, assignment))
            .await
    }

    async fn agents_in_teams(&self, teams: Vec<String>) -> Result<Vec<AgentId>, StoreError> {
        self.read(move |conn| agents_in_teams(conn, teams)).await
    }

    async fn statuses(&self) -> Result<Vec<Status>, StoreError> {
        self.read(statuses).await
    }

    async fn save_status(&self, status: Status) -> Result<Status, StoreError> {
        self.write(move |conn| save_status(conn, status)).await
    }

    async fn set_agent_access(
        &self,
        agent: AgentId,
        access: AccessLevel,
    ) -> Result<(), StoreError> {
        self.write(move |conn| set_agent_access(conn, agent, access))
            .await
    }

    async fn set_agent_teams(&self, agent: AgentId, teams: Vec<String>) -> Result<(), StoreError> {
        self.write(move |conn| set_agent_teams(conn, agent, teams))
            .await
    }

    async fn set_agent_capacity(
        &self,
        agent: AgentId,
        max_chats: Option<usize>,
    ) -> Result<(), StoreError> {
        self.write(move |conn| set_agent_capacity(conn, agent, max_chats))
            .await
    }

    async fn set_agent_status(&self, agent: AgentId, status: i64) -> Result<Status, StoreError> {
        self.write(move |conn| set_agent_status(conn, agent, status))
            .await
    }

    async fn agent_snapshots(&self) -> Result<Vec<AgentSnapshot>, StoreError> {
        self.read(agent_snapshots).await
    }
}
