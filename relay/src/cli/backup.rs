//! `porchlight backup PATH` (while the relay runs) and `porchlight restore PATH`
//! (while it is stopped).

use std::path::PathBuf;

use clap::Args;
use porchlight_relay::backup::{self, Copied};

use super::{StoreArgs, config_of};

#[derive(Args)]
pub(crate) struct BackupArgs {
    /// A new (or empty) folder for the copy
    path: PathBuf,
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Args)]
pub(crate) struct RestoreArgs {
    /// A folder made by `porchlight backup`
    path: PathBuf,
    /// Replace a data folder that already holds a database (it is moved aside, not
    /// deleted)
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    store: StoreArgs,
}

fn report(verb: &str, copied: Copied) {
    println!(
        "{verb} {} conversations, {} messages and {} files",
        copied.counts.conversations, copied.counts.messages, copied.files
    );
}

pub(crate) async fn backup(args: BackupArgs) -> anyhow::Result<()> {
    let data = config_of(args.store)?.data_dir;
    let to = args.path;
    let copied = tokio::task::spawn_blocking(move || backup::backup(&data, &to)).await??;
    report("backed up", copied);
    Ok(())
}

pub(crate) async fn restore(args: RestoreArgs) -> anyhow::Result<()> {
    let data = config_of(args.store)?.data_dir;
    let (from, force) = (args.path, args.force);
    let copied =
        tokio::task::spawn_blocking(move || backup::restore(&from, &data, force)).await??;
    report("restored", copied);
    Ok(())
}
