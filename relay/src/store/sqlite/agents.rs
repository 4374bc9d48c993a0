//! Agents, their teams, statuses, access levels and load. Plain functions over a connection;
//! `mod.rs` runs them on the writer thread or a reader.

use async_trait::async_trait;
use porchlight_protocol::{AgentId, ConversationId};
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::store::model::{Agent, AgentAccount, AgentSnapshot, Role, Status};
use crate::store::settings::AccessLevel;
use crate::store::{AgentStore, StoreError, now_ms};

use super::SqliteStore;

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
    })
}

pub(super) fn status_from_row(row: &Row<'_>) -> rusqlite::Result<Status> {
    Ok(Status {
        id: row.get(0)?,
        name: row.get(1)?,
        counts_online: row.get(2)?,
    })
}

pub(super) fn is_participant(
    conn: &Connection,
    id: ConversationId,
    agent: AgentId,
) -> rusqlite::Result<bool> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM participants WHERE conversation_id = ?1 AND agent_id = ?2",
            params![id, agent],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// The agent's live chats now, and their own limit.
pub(super) fn agent_load(
    conn: &Connection,
    agent: AgentId,
) -> rusqlite::Result<(usize, Option<usize>)> {
    let active: i64 = conn.query_row(
        "SELECT COUNT(*) FROM conversations c WHERE c.status = 'active' AND (c.agent_id = ?1 \
         OR EXISTS (SELECT 1 FROM participants p WHERE p.conversation_id = c.id AND p.agent_id = ?1))",
        [agent],
        |row| row.get(0),
    )?;
    let max: Option<i64> = conn
        .query_row(
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
    let mut statement = conn.prepare(
        "SELECT a.id, a.email, a.name, a.role, a.access_level, a.max_chats, a.can_toggle_uploads, \
         a.default_team, \
         (SELECT json_group_array(t.name) FROM team_members m \
          JOIN teams t ON t.id = m.team_id WHERE m.agent_id = a.id) \
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
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub(super) fn update_agent(conn: &Connection, account: AgentAccount) -> Result<(), StoreError> {
    let max = account.max_chats.and_then(|max| i64::try_from(max).ok());
    let updated = conn.execute(
        "UPDATE agents SET name = ?1, role = ?2, access_level = ?3, max_chats = ?4, \
         can_toggle_uploads = ?5, default_team = ?6 WHERE id = ?7",
        params![
            account.name,
            account.role.as_str(),
            account.access.as_str(),
            max,
            account.can_toggle_uploads,
            account.default_team,
            account.id
        ],
    )?;
    if updated == 0 {
        return Err(StoreError::NotFound);
    }
    let admins: i64 = conn.query_row(
        "SELECT count(*) FROM agents WHERE role = 'admin'",
        [],
        |row| row.get(0),
    )?;
    if admins == 0 {
        return Err(StoreError::LastAdmin);
    }
    conn.execute("DELETE FROM team_members WHERE agent_id = ?1", [account.id])?;
    for team in &account.teams {
        let added = conn.execute(
            "INSERT OR IGNORE INTO team_members (team_id, agent_id) \
             SELECT id, ?2 FROM teams WHERE name = ?1",
            params![team, account.id],
        )?;
        let exists = conn
            .query_row("SELECT 1 FROM teams WHERE name = ?1", [team], |_| Ok(()))
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
    let inserted = conn.execute(
        "INSERT INTO agents (email, name, role, password_hash, status_id, created_at) \
         VALUES (?1, ?2, ?3, ?4, (SELECT MIN(id) FROM statuses WHERE counts_online = 1), ?5) \
         ON CONFLICT (email) DO NOTHING",
        params![email, name, role.as_str(), password_hash, now_ms()],
    )?;
    if inserted == 0 {
        return Err(StoreError::Duplicate);
    }
    Ok(Agent {
        access: AccessLevel::All,
        id: conn.last_insert_rowid(),
        email: email.to_owned(),
        name: name.to_owned(),
        role,
        password_hash,
        can_toggle_uploads: false,
    })
}

pub(super) fn agent_by_email(conn: &Connection, email: &str) -> Result<Option<Agent>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT id, email, name, role, password_hash, access_level, can_toggle_uploads \
             FROM agents WHERE email = ?1",
            [email],
            agent_from_row,
        )
        .optional()?)
}

pub(super) fn team_names(conn: &Connection) -> Result<Vec<String>, StoreError> {
    let mut statement = conn.prepare("SELECT name FROM teams ORDER BY name")?;
    let rows = statement.query_map([], |row| row.get(0))?;
    Ok(rows.collect::<rusqlite::Result<Vec<String>>>()?)
}

pub(super) fn create_team(conn: &Connection, name: String) -> Result<(), StoreError> {
    let inserted = conn.execute(
        "INSERT INTO teams (name, created_at) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
        params![name, now_ms()],
    )?;
    if inserted == 0 {
        return Err(StoreError::Duplicate);
    }
    Ok(())
}

pub(super) fn agents_in_teams(
    conn: &Connection,
    teams: Vec<String>,
) -> Result<Vec<AgentId>, StoreError> {
    let mut statement = conn.prepare_cached(
        "SELECT DISTINCT m.agent_id FROM team_members m JOIN teams t ON t.id = m.team_id \
         WHERE t.name = ?1 COLLATE NOCASE",
    )?;
    let mut agents = Vec::new();
    for team in &teams {
        let rows = statement.query_map([team], |row| row.get::<_, AgentId>(0))?;
        for agent in rows {
            agents.push(agent?);
        }
    }
    agents.sort_unstable();
    agents.dedup();
    Ok(agents)
}

pub(super) fn statuses(conn: &Connection) -> Result<Vec<Status>, StoreError> {
    let mut statement = conn.prepare("SELECT id, name, counts_online FROM statuses ORDER BY id")?;
    let rows = statement.query_map([], status_from_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub(super) fn save_status(conn: &Connection, status: Status) -> Result<Status, StoreError> {
    let taken = conn
        .query_row(
            "SELECT 1 FROM statuses WHERE name = ?1 COLLATE NOCASE AND id <> ?2",
            params![status.name, status.id],
            |_| Ok(()),
        )
        .optional()?;
    if taken.is_some() {
        return Err(StoreError::Duplicate);
    }
    if status.id == 0 {
        conn.execute(
            "INSERT INTO statuses (name, counts_online) VALUES (?1, ?2)",
            params![status.name, status.counts_online],
        )?;
        return Ok(Status {
            id: conn.last_insert_rowid(),
            ..status
        });
    }
    let updated = conn.execute(
        "UPDATE statuses SET name = ?1, counts_online = ?2 WHERE id = ?3",
        params![status.name, status.counts_online, status.id],
    )?;
    if updated == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(status)
}

pub(super) fn set_agent_access(
    conn: &Connection,
    agent: AgentId,
    access: AccessLevel,
) -> Result<(), StoreError> {
    let updated = conn.execute(
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
    conn.execute("DELETE FROM team_members WHERE agent_id = ?1", [agent])?;
    for team in &teams {
        conn.execute(
            "INSERT INTO teams (name, created_at) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
            params![team, now_ms()],
        )?;
        conn.execute(
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
    if conn.execute(
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
        .query_row(
            "SELECT id, name, counts_online FROM statuses WHERE id = ?1",
            [status],
            status_from_row,
        )
        .optional()?
        .ok_or(StoreError::NotFound)?;
    conn.execute(
        "UPDATE agents SET status_id = ?1 WHERE id = ?2",
        params![status, agent],
    )?;
    Ok(found)
}

pub(super) fn agent_snapshots(conn: &Connection) -> Result<Vec<AgentSnapshot>, StoreError> {
    let mut statement = conn.prepare(
        "SELECT a.id, a.name, a.status_id, COALESCE(s.counts_online, 1), a.max_chats, \
         (SELECT COUNT(*) FROM conversations c WHERE c.status = 'active' AND \
            (c.agent_id = a.id OR EXISTS (SELECT 1 FROM participants p \
             WHERE p.conversation_id = c.id AND p.agent_id = a.id))), \
         (SELECT json_group_array(t.name) FROM team_members m JOIN teams t ON t.id = m.team_id \
            WHERE m.agent_id = a.id) \
         FROM agents a LEFT JOIN statuses s ON s.id = a.status_id ORDER BY a.id",
    )?;
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
