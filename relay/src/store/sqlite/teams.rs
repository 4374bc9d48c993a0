//! Teams and agent statuses. Plain functions over a connection; `agents.rs`'s
//! `impl AgentStore` runs them.

use porchlight_protocol::AgentId;
use porchlight_protocol::api::people::{Assignment, TeamAssignment};
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::store::model::Status;
use crate::store::{StoreError, now_ms};

use super::Cached;

pub(super) fn status_from_row(row: &Row<'_>) -> rusqlite::Result<Status> {
    Ok(Status {
        id: row.get(0)?,
        name: row.get(1)?,
        counts_online: row.get(2)?,
    })
}

pub(super) fn team_names(conn: &Connection) -> Result<Vec<String>, StoreError> {
    let mut statement = conn.prepare_cached("SELECT name FROM teams ORDER BY name")?;
    let rows = statement.query_map([], |row| row.get(0))?;
    Ok(rows.collect::<rusqlite::Result<Vec<String>>>()?)
}

pub(super) fn team_assignments(conn: &Connection) -> Result<Vec<TeamAssignment>, StoreError> {
    let mut statement = conn.prepare_cached("SELECT name, assignment FROM teams ORDER BY name")?;
    let rows = statement.query_map([], |row| {
        let assignment: String = row.get(1)?;
        Ok(TeamAssignment {
            team: row.get(0)?,
            assignment: Assignment::parse(&assignment),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub(super) fn set_team_assignment(
    conn: &Connection,
    team: &str,
    assignment: Assignment,
) -> Result<(), StoreError> {
    let updated = conn.cached_execute(
        "UPDATE teams SET assignment = ?1 WHERE name = ?2 COLLATE NOCASE",
        params![assignment.as_str(), team],
    )?;
    if updated == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub(super) fn create_team(conn: &Connection, name: String) -> Result<(), StoreError> {
    let inserted = conn.cached_execute(
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
    let mut statement =
        conn.prepare_cached("SELECT id, name, counts_online FROM statuses ORDER BY id")?;
    let rows = statement.query_map([], status_from_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub(super) fn save_status(conn: &Connection, status: Status) -> Result<Status, StoreError> {
    let taken = conn
        .cached_row(
            "SELECT 1 FROM statuses WHERE name = ?1 COLLATE NOCASE AND id <> ?2",
            params![status.name, status.id],
            |_| Ok(()),
        )
        .optional()?;
    if taken.is_some() {
        return Err(StoreError::Duplicate);
    }
    if status.id == 0 {
        conn.cached_execute(
            "INSERT INTO statuses (name, counts_online) VALUES (?1, ?2)",
            params![status.name, status.counts_online],
        )?;
        return Ok(Status {
            id: conn.last_insert_rowid(),
            ..status
        });
    }
    let updated = conn.cached_execute(
        "UPDATE statuses SET name = ?1, counts_online = ?2 WHERE id = ?3",
        params![status.name, status.counts_online, status.id],
    )?;
    if updated == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(status)
}
