//! Copying a single-node install's SQLite database into an empty PostgreSQL one
//! (`porchlight migrate`): every table PostgreSQL's schema has, in the order its
//! migrations made them (so a row's references are there before it), by `COPY`, in one
//! transaction (a failure leaves the database as it was). The report sums are not
//! copied: PostgreSQL's trigger adds each chat as it arrives. Identity counters then
//! start after the highest id copied.

use std::path::Path;
use std::sync::{Arc, Mutex};

use deadpool_postgres::GenericClient;
use rusqlite::types::Value;
use rusqlite::{Connection, OpenFlags};
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};

use super::PgStore;
use crate::store::StoreError;

/// Rows read from SQLite at a time, so a large table never sits in memory whole.
const CHUNK: i64 = 5000;

/// Tables not copied: the schema's own record, and the sums the trigger rebuilds.
fn copied(table: &str) -> bool {
    table != "schema_version" && !table.starts_with("report_")
}

type Field = Box<dyn ToSql + Sync + Send>;

/// A value of SQLite's as the PostgreSQL column's type (`int8`, `text` or `bytea`).
/// A NUL, which PostgreSQL's text cannot hold, becomes U+FFFD.
/// `column` is (table, column), named only when the value does not fit.
fn field(value: Value, kind: &Type, column: (&str, &str)) -> Result<Field, StoreError> {
    let wrong = |value: &Value| {
        let (table, name) = column;
        StoreError::Backend(format!("{table}.{name}: {value:?} does not fit {kind}"))
    };
    if *kind == Type::INT8 {
        return match value {
            Value::Null => Ok(Box::new(None::<i64>)),
            Value::Integer(number) => Ok(Box::new(Some(number))),
            other => Err(wrong(&other)),
        };
    }
    if *kind == Type::TEXT {
        return match value {
            Value::Null => Ok(Box::new(None::<String>)),
            Value::Text(text) => Ok(Box::new(Some(text.replace('\0', "\u{fffd}")))),
            Value::Integer(number) => Ok(Box::new(Some(number.to_string()))),
            Value::Real(number) => Ok(Box::new(Some(number.to_string()))),
            other => Err(wrong(&other)),
        };
    }
    match value {
        Value::Null => Ok(Box::new(None::<Vec<u8>>)),
        Value::Blob(bytes) => Ok(Box::new(Some(bytes))),
        Value::Text(text) => Ok(Box::new(Some(text.into_bytes()))),
        other => Err(wrong(&other)),
    }
}

/// The columns SQLite's `table` has (none when there is no such table).
fn sqlite_columns(sqlite: &Mutex<Connection>, table: &str) -> Result<Vec<String>, StoreError> {
    let sqlite = sqlite
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut statement = sqlite.prepare("SELECT name FROM pragma_table_info(?1)")?;
    let names = statement
        .query_map([table], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(names)
}

/// The columns of `table` both databases have, with PostgreSQL's types.
async fn shared_columns(
    tx: &impl GenericClient,
    sqlite_columns: &[String],
    table: &str,
) -> Result<Vec<(String, Type)>, StoreError> {
    let rows = tx
        .query(
            "SELECT column_name::TEXT, data_type::TEXT FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 \
             AND is_generated = 'NEVER' ORDER BY ordinal_position",
            &[&table],
        )
        .await?;
    let mut columns = Vec::new();
    for row in rows {
        let name: String = row.get(0);
        let kind = match row.get::<_, &str>(1) {
            "bigint" => Type::INT8,
            "text" => Type::TEXT,
            "bytea" => Type::BYTEA,
            other => {
                return Err(StoreError::Backend(format!(
                    "{table}.{name}: PostgreSQL's {other} has no copy from SQLite"
                )));
            }
        };
        if sqlite_columns.contains(&name) {
            columns.push((name, kind));
        }
    }
    Ok(columns)
}

/// The rows `cursor` gives, each's values from column `first` on (`width` of them),
/// and the last rowid when column 0 holds it.
fn collect_rows(
    mut cursor: rusqlite::Rows<'_>,
    first: usize,
    width: usize,
) -> Result<(Option<i64>, Vec<Vec<Value>>), StoreError> {
    let mut last = None;
    let mut rows = Vec::new();
    while let Some(row) = cursor.next()? {
        if first == 1 {
            last = Some(row.get(0)?);
        }
        let values = (first..first + width)
            .map(|at| row.get::<_, Value>(at))
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.push(values);
    }
    Ok((last, rows))
}

/// Reads the rows of `table` after `after` (SQLite's rowid), at most [`CHUNK`]: where
/// the next chunk starts, and the rows. A table without rowids (a few small ones)
/// comes whole, as its one chunk.
fn read_chunk(
    sqlite: &Connection,
    table: &str,
    columns: &[(String, Type)],
    after: i64,
) -> Result<(i64, Vec<Vec<Value>>), StoreError> {
    let names = columns
        .iter()
        .map(|(name, _)| name.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let by_rowid = sqlite.prepare_cached(&format!(
        "SELECT rowid, {names} FROM {table} WHERE rowid > ?1 ORDER BY rowid LIMIT ?2"
    ));
    match by_rowid {
        Ok(mut statement) => {
            let (last, rows) = collect_rows(statement.query([after, CHUNK])?, 1, columns.len())?;
            Ok((last.unwrap_or(after), rows))
        }
        Err(_) if after == 0 => {
            let mut statement = sqlite.prepare(&format!("SELECT {names} FROM {table}"))?;
            let (_, rows) = collect_rows(statement.query([])?, 0, columns.len())?;
            Ok((1, rows))
        }
        Err(_) => Ok((after, Vec::new())),
    }
}

async fn copy_table(
    tx: &deadpool_postgres::Transaction<'_>,
    sqlite: &Arc<Mutex<Connection>>,
    table: &str,
    columns: &[(String, Type)],
) -> Result<u64, StoreError> {
    let names: Vec<&str> = columns.iter().map(|(name, _)| name.as_str()).collect();
    let sink = tx
        .copy_in(&format!(
            "COPY {table} ({}) FROM STDIN (FORMAT binary)",
            names.join(", ")
        ))
        .await?;
    let kinds: Vec<Type> = columns.iter().map(|(_, kind)| kind.clone()).collect();
    let writer = BinaryCopyInWriter::new(sink, &kinds);
    futures_util::pin_mut!(writer);
    let mut after = 0;
    loop {
        let (source, owned) = (Arc::clone(sqlite), columns.to_vec());
        let name = table.to_owned();
        let (last, rows) = tokio::task::spawn_blocking(move || {
            let sqlite = source
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            read_chunk(&sqlite, &name, &owned, after)
        })
        .await
        .map_err(|err| StoreError::Backend(err.to_string()))??;
        if rows.is_empty() {
            break;
        }
        for row in rows {
            let fields = row
                .into_iter()
                .zip(columns)
                .map(|(value, (name, kind))| field(value, kind, (table, name)))
                .collect::<Result<Vec<Field>, _>>()?;
            writer.as_mut().write_raw(fields).await?;
        }
        after = last;
    }
    Ok(writer.as_mut().finish().await?)
}

impl PgStore {
    /// Copies the SQLite database `file` (brought up to date by the relay first) into
    /// this store, which must hold no site yet: each table copied (its name) with how
    /// many rows.
    pub async fn copy_from_sqlite(&self, file: &Path) -> Result<Vec<(String, u64)>, StoreError> {
        let sqlite = Connection::open_with_flags(file, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        // One read transaction: every table as of the same moment.
        sqlite.execute_batch("BEGIN")?;
        let sqlite = Arc::new(Mutex::new(sqlite));
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        if tx
            .query_opt("SELECT 1 FROM sites LIMIT 1", &[])
            .await?
            .is_some()
        {
            return Err(StoreError::Backend(
                "the PostgreSQL database already holds a site: copy into an empty one".into(),
            ));
        }
        let tables: Vec<String> = tx
            .query(
                "SELECT c.relname::TEXT FROM pg_class c \
                 JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE c.relkind = 'r' AND n.nspname = current_schema() ORDER BY c.oid",
                &[],
            )
            .await?
            .iter()
            .map(|row| row.get(0))
            .filter(|table: &String| copied(table))
            .collect();
        let mut done = Vec::new();
        for table in tables {
            let in_sqlite = sqlite_columns(&sqlite, &table)?;
            let columns = shared_columns(&tx, &in_sqlite, &table).await?;
            if columns.is_empty() {
                continue;
            }
            let rows = copy_table(&tx, &sqlite, &table, &columns).await?;
            if columns.iter().any(|(name, _)| name == "id") {
                tx.execute(
                    &format!(
                        "SELECT setval(pg_get_serial_sequence($1, 'id'), \
                         GREATEST(MAX(id), 1), MAX(id) IS NOT NULL) FROM {table} \
                         WHERE pg_get_serial_sequence($1, 'id') IS NOT NULL"
                    ),
                    &[&table],
                )
                .await?;
            }
            done.push((table, rows));
        }
        tx.commit().await?;
        Ok(done)
    }
}

/// What [`PgStore::keep_files_from`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct FilesKept {
    pub kept: u64,
    /// Rows whose file the folder did not have.
    pub missing: u64,
}

impl PgStore {
    /// Puts each file whose row has no bytes yet into its row, read from `folder` (a
    /// data folder's `attachments/`), one at a time: after a copy, every node serves
    /// the single node's files.
    pub async fn keep_files_from(&self, folder: &Path) -> Result<FilesKept, StoreError> {
        let client = self.client().await?;
        let keys: Vec<String> = client
            .query(
                "SELECT storage_key FROM attachments WHERE content IS NULL ORDER BY id",
                &[],
            )
            .await?
            .iter()
            .map(|row| row.get(0))
            .collect();
        let mut done = FilesKept::default();
        for key in keys {
            match tokio::fs::read(folder.join(&key)).await {
                Ok(bytes) => {
                    client
                        .execute(
                            "UPDATE attachments SET content = $1 WHERE storage_key = $2",
                            &[&bytes, &key],
                        )
                        .await?;
                    done.kept += 1;
                }
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => done.missing += 1,
                Err(err) => return Err(StoreError::Backend(err.to_string())),
            }
        }
        Ok(done)
    }
}
