//! The email outbox on PostgreSQL: so far the emails a new ticket queues, in the
//! ticket's own transaction so neither is lost.

use deadpool_postgres::GenericClient;

use crate::store::StoreError;

/// Queues the email that tells the team about a new ticket (composed when it is sent).
pub(super) async fn queue_ticket_email(
    tx: &impl GenericClient,
    ticket: i64,
    now: i64,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO emails (kind, ticket_id, next_at, created_at) \
         VALUES ('new_ticket', $1, $2, $2)",
        &[&ticket, &now],
    )
    .await?;
    Ok(())
}

/// Queues a ticket's acknowledgement to the visitor, written now.
pub(super) async fn queue_acknowledgement(
    tx: &impl GenericClient,
    ticket: i64,
    to: &str,
    body: &str,
    now: i64,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO emails (kind, ticket_id, to_addr, body, next_at, created_at) \
         VALUES ('acknowledgement', $1, $2, $3, $4, $4)",
        &[&ticket, &to, &body, &now],
    )
    .await?;
    Ok(())
}
