//! `porchlight migrate --from sqlite:DIR --to postgres:URL`: a single-node install's
//! data folder copied into an empty PostgreSQL database, for cluster mode. Stop the
//! relay first: what it writes after the copy began is not copied.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use porchlight_relay::store::{DB_FILE, PgStore, SqliteStore};

#[derive(Args)]
pub(crate) struct MigrateArgs {
    /// The data folder to copy, as sqlite:DIR
    #[arg(long)]
    from: String,
    /// The empty PostgreSQL database to copy into, as postgres:URL
    #[arg(long)]
    to: String,
}

pub(crate) async fn migrate(args: MigrateArgs) -> anyhow::Result<()> {
    let Some(dir) = args.from.strip_prefix("sqlite:").map(PathBuf::from) else {
        bail!("--from takes sqlite:DIR (a data folder), not {}", args.from);
    };
    let Some(url) = args.to.strip_prefix("postgres:") else {
        bail!("--to takes postgres:URL, as in postgres:postgres://user@host/database");
    };
    if !dir.join(DB_FILE).exists() {
        bail!("{} holds no Porchlight database ({DB_FILE})", dir.display());
    }
    // Opening the folder brings its schema up to date, as the relay would.
    drop(
        SqliteStore::open(&dir)
            .with_context(|| format!("cannot open the data folder {}", dir.display()))?,
    );
    let target = PgStore::connect(url)
        .await
        .context("cannot reach the PostgreSQL database")?;
    let copied = target
        .copy_from_sqlite(&dir.join(DB_FILE))
        .await
        .context("nothing was copied")?;
    for (table, rows) in copied.iter().filter(|(_, rows)| *rows > 0) {
        println!("{table:<24} {rows:>10} rows");
    }
    let files = target
        .keep_files_from(&dir.join("attachments"))
        .await
        .context("the tables were copied, but not every uploaded file")?;
    println!(
        "copied {} tables and {} uploaded files into the database{}",
        copied.len(),
        files.kept,
        match files.missing {
            0 => String::new(),
            missing => format!(" ({missing} files were missing from the data folder)"),
        }
    );
    Ok(())
}
