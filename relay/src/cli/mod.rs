//! The `porchlight` command's subcommands, one file each; `main.rs` parses and
//! dispatches.

pub mod kb;
pub mod profiles;
pub mod serve;

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use porchlight_relay::config::{Config, Overrides};
use porchlight_relay::store::SqliteStore;

#[derive(Args, Clone)]
pub struct StoreArgs {
    /// Folder of the SQLite database [default: ./data]
    #[arg(long, env = "PORCHLIGHT_DATA")]
    pub data: Option<PathBuf>,
    /// TOML config file (its `data` is used)
    #[arg(long, env = "PORCHLIGHT_CONFIG")]
    pub config: Option<PathBuf>,
}

/// The configuration a subcommand that only reads or writes the store runs with.
pub fn config_of(args: StoreArgs) -> anyhow::Result<Config> {
    Ok(Config::resolve(Overrides {
        data: args.data,
        config: args.config,
        ..Overrides::default()
    })?)
}

pub fn open_store(args: StoreArgs) -> anyhow::Result<SqliteStore> {
    let config = config_of(args)?;
    SqliteStore::open(&config.data_dir)
        .with_context(|| format!("cannot open the data folder {}", config.data_dir.display()))
}
