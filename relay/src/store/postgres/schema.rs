//! The PostgreSQL schema, one migration after another, each applied once: the first
//! node to start takes a lock that the others wait on, then finds the work done.

use deadpool_postgres::GenericClient;

use crate::store::StoreError;

/// Each migration's statements, in order; the schema's version is how many ran.
const MIGRATIONS: &[&str] = &[
    include_str!("schema/01_chats.sql"),
    include_str!("schema/02_tickets_and_accounts.sql"),
    include_str!("schema/03_webhooks.sql"),
    include_str!("schema/04_knowledge.sql"),
    include_str!("schema/05_chat_search.sql"),
    include_str!("schema/06_report_sums.sql"),
];

/// The advisory lock every node takes to migrate: any number, the same for all.
const MIGRATION_LOCK: i64 = 0x0070_6f72_6368;

/// Applies the migrations the database has not had, in one transaction under the lock.
pub(super) async fn migrate(client: &mut deadpool_postgres::Client) -> Result<(), StoreError> {
    let transaction = client.transaction().await?;
    transaction
        .execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    transaction
        .batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")
        .await?;
    let current = version(&transaction).await?;
    if current > MIGRATIONS.len() {
        return Err(StoreError::Backend(format!(
            "the database's schema (version {current}) is newer than this relay's ({}): \
             run the newer relay",
            MIGRATIONS.len()
        )));
    }
    if current == MIGRATIONS.len() {
        return Ok(());
    }
    tracing::info!(
        current,
        latest = MIGRATIONS.len(),
        "updating the PostgreSQL schema"
    );
    for migration in &MIGRATIONS[current..] {
        transaction.batch_execute(migration).await?;
    }
    let latest = i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX);
    transaction
        .execute("DELETE FROM schema_version", &[])
        .await?;
    transaction
        .execute(
            "INSERT INTO schema_version (version) VALUES ($1)",
            &[&latest],
        )
        .await?;
    transaction.commit().await?;
    Ok(())
}

/// The version recorded, 0 before the first migration.
pub(super) async fn version(client: &impl GenericClient) -> Result<usize, StoreError> {
    let row = client
        .query_opt("SELECT version FROM schema_version", &[])
        .await?;
    Ok(row
        .map(|row| row.get::<_, i64>(0))
        .and_then(|version| usize::try_from(version).ok())
        .unwrap_or(0))
}
