//! Agents on PostgreSQL: so far how an agent's row reads.

use tokio_postgres::Row;

use crate::store::model::{Agent, Role};
use crate::store::settings::AccessLevel;

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
