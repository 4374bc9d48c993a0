//! A consistent copy of the live database while the relay writes (SQLite's online
//! backup API, in one step: in WAL mode the copy reads one snapshot and writers go on),
//! and the checks a copy passes before it is put back.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use super::schema::SCHEMA_VERSION;
use crate::store::StoreError;

/// What a copy holds, for the operator's report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CopyCounts {
    pub conversations: i64,
    pub messages: i64,
}

/// Copies the database `from` into the new file `to`, then checks the copy.
pub fn snapshot(from: &Path, to: &Path) -> Result<CopyCounts, StoreError> {
    let source = Connection::open_with_flags(from, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    source.busy_timeout(std::time::Duration::from_secs(5))?;
    let mut copy = Connection::open(to)?;
    {
        let backup = rusqlite::backup::Backup::new(&source, &mut copy)?;
        // All pages in one step: one read snapshot, never restarted by a writer.
        backup.step(-1)?;
    }
    drop(copy);
    check_copy(to)
}

/// Whether `file` is a whole Porchlight database this relay can open: SQLite's
/// integrity check passes and its schema is not newer than this build's.
pub fn check_copy(file: &Path) -> Result<CopyCounts, StoreError> {
    let not_a_copy =
        |problem: String| StoreError::Backend(format!("{}: {problem}", file.display()));
    let conn = Connection::open_with_flags(file, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .map_err(|err| not_a_copy(format!("not an SQLite database ({err})")))?;
    if integrity != "ok" {
        return Err(not_a_copy(format!("the integrity check says {integrity}")));
    }
    let version: usize = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if version == 0 {
        return Err(not_a_copy("not a Porchlight database".into()));
    }
    if version > SCHEMA_VERSION {
        return Err(not_a_copy(format!(
            "made by a newer Porchlight (schema {version}; this one knows {SCHEMA_VERSION})"
        )));
    }
    let count = |table: &str| -> Result<i64, StoreError> {
        Ok(
            conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
                row.get(0)
            })?,
        )
    };
    Ok(CopyCounts {
        conversations: count("conversations")?,
        messages: count("messages")?,
    })
}
