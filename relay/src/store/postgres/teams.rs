//! Teams and agent statuses on PostgreSQL; `agents.rs`'s `impl AgentStore` runs them.
//! Names are looked up without case where SQLite's are (`COLLATE NOCASE`).

use deadpool_postgres::GenericClient;
use porchlight_protocol::AgentId;
use porchlight_protocol::api::people::{Assignment, TeamAssignment};
use tokio_postgres::Row;

use super::unique_as_duplicate;
use crate::store::model::Status;
use crate::store::{StoreError, now_ms};

fn status_from_row(row: &Row) -> Status {
    Status {
        id: row.get(0),
        name: row.get(1),
        counts_online: row.get::<_, i64>(2) != 0,
    }
}

pub(super) async fn team_names(client: &impl GenericClient) -> Result<Vec<String>, StoreError> {
    let rows = client
        .query("SELECT name FROM teams ORDER BY name COLLATE \"C\"", &[])
        .await?;
    Ok(rows.iter().map(|row| row.get(0)).collect())
}

pub(super) async fn team_assignments(
    client: &impl GenericClient,
) -> Result<Vec<TeamAssignment>, StoreError> {
    let rows = client
        .query(
            "SELECT name, assignment FROM teams ORDER BY name COLLATE \"C\"",
            &[],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|row| TeamAssignment {
            team: row.get(0),
            assignment: Assignment::parse(row.get(1)),
        })
        .collect())
}

pub(super) async fn set_team_assignment(
    client: &impl GenericClient,
    team: &str,
    assignment: Assignment,
) -> Result<(), StoreError> {
    let updated = client
        .execute(
            "UPDATE teams SET assignment = $1 WHERE lower(name) = lower($2)",
            &[&assignment.as_str(), &team],
        )
        .await?;
    if updated == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub(super) async fn create_team(client: &impl GenericClient, name: &str) -> Result<(), StoreError> {
    let inserted = client
        .execute(
            "INSERT INTO teams (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            &[&name, &now_ms()],
        )
        .await?;
    if inserted == 0 {
        return Err(StoreError::Duplicate);
    }
    Ok(())
}

/// Puts the agent in exactly these teams, creating those that are new.
pub(super) async fn set_agent_teams(
    tx: &impl GenericClient,
    agent: AgentId,
    teams: &[String],
) -> Result<(), StoreError> {
    tx.execute("DELETE FROM team_members WHERE agent_id = $1", &[&agent])
        .await?;
    for team in teams {
        tx.execute(
            "INSERT INTO teams (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            &[team, &now_ms()],
        )
        .await?;
        tx.execute(
            "INSERT INTO team_members (team_id, agent_id) \
             SELECT id, $2 FROM teams WHERE name = $1 ON CONFLICT DO NOTHING",
            &[team, &agent],
        )
        .await?;
    }
    Ok(())
}

pub(super) async fn agents_in_teams(
    client: &impl GenericClient,
    teams: &[String],
) -> Result<Vec<AgentId>, StoreError> {
    let lowered: Vec<String> = teams.iter().map(|team| team.to_lowercase()).collect();
    let rows = client
        .query(
            "SELECT DISTINCT m.agent_id FROM team_members m JOIN teams t ON t.id = m.team_id \
             WHERE lower(t.name) = ANY($1) ORDER BY m.agent_id",
            &[&lowered],
        )
        .await?;
    Ok(rows.iter().map(|row| row.get(0)).collect())
}

pub(super) async fn statuses(client: &impl GenericClient) -> Result<Vec<Status>, StoreError> {
    let rows = client
        .query(
            "SELECT id, name, counts_online FROM statuses ORDER BY id",
            &[],
        )
        .await?;
    Ok(rows.iter().map(status_from_row).collect())
}

pub(super) async fn status(
    client: &impl GenericClient,
    id: i64,
) -> Result<Option<Status>, StoreError> {
    let row = client
        .query_opt(
            "SELECT id, name, counts_online FROM statuses WHERE id = $1",
            &[&id],
        )
        .await?;
    Ok(row.as_ref().map(status_from_row))
}

/// Creates (`id` 0) or changes a status; `Duplicate` for a name in use (without case),
/// whichever node took it first.
pub(super) async fn save_status(
    client: &impl GenericClient,
    status: Status,
) -> Result<Status, StoreError> {
    let taken = client
        .query_opt(
            "SELECT 1 FROM statuses WHERE lower(name) = lower($1) AND id <> $2",
            &[&status.name, &status.id],
        )
        .await?;
    if taken.is_some() {
        return Err(StoreError::Duplicate);
    }
    let online = i64::from(status.counts_online);
    if status.id == 0 {
        let row = client
            .query_one(
                "INSERT INTO statuses (name, counts_online) VALUES ($1, $2) RETURNING id",
                &[&status.name, &online],
            )
            .await
            .map_err(unique_as_duplicate)?;
        return Ok(Status {
            id: row.get(0),
            ..status
        });
    }
    let updated = client
        .execute(
            "UPDATE statuses SET name = $1, counts_online = $2 WHERE id = $3",
            &[&status.name, &online, &status.id],
        )
        .await
        .map_err(unique_as_duplicate)?;
    if updated == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(status)
}
