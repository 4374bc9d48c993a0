//! The `porchlight` command's subcommands, one file each; `main.rs` parses and
//! dispatches.

pub(crate) mod agents;
pub(crate) mod backup;
pub(crate) mod kb;
pub(crate) mod migrate;
pub(crate) mod profiles;
pub(crate) mod serve;

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use porchlight_relay::config::{Config, Overrides};
use porchlight_relay::store::{SqliteStore, Store};

#[derive(Args, Clone)]
pub(crate) struct StoreArgs {
    /// Folder of the SQLite database [default: ./data]
    #[arg(long, env = "PORCHLIGHT_DATA")]
    pub(crate) data: Option<PathBuf>,
    /// TOML config file (its `data` is used)
    #[arg(long, env = "PORCHLIGHT_CONFIG")]
    pub(crate) config: Option<PathBuf>,
}

/// The configuration a subcommand that only reads or writes the store runs with.
pub(crate) fn config_of(args: StoreArgs) -> anyhow::Result<Config> {
    Ok(Config::resolve(Overrides {
        data: args.data,
        config: args.config,
        ..Overrides::default()
    })?)
}

pub(crate) fn open_store(args: StoreArgs) -> anyhow::Result<Arc<dyn Store>> {
    let config = config_of(args)?;
    let store = SqliteStore::open(&config.data_dir)
        .with_context(|| format!("cannot open the data folder {}", config.data_dir.display()))?;
    Ok(Arc::new(store))
}
