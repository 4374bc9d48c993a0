//! Settings: built-in defaults, overridden by a TOML file, overridden by environment
//! variables and flags (which clap merges before they reach here).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::ai::AiSettings;
use crate::metrics::MetricsSettings;
use crate::outbound::Network;
use crate::store::Durability;
use crate::throttle::Limits;

pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";
pub const DEFAULT_CLUSTER: &str = "porchlight";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Where the relay listens.
    pub addr: SocketAddr,
    /// Holds the SQLite database.
    pub data_dir: PathBuf,
    /// Holds the built widget (`widget/`) and console (`console/`).
    pub assets_dir: PathBuf,
    /// When an acknowledged message is safe (default: survives power loss).
    pub durability: Durability,
    /// The PostgreSQL store's URL (`postgres://user:password@host/database`): the
    /// store is PostgreSQL's instead of the data folder's SQLite. It may hold a
    /// password, so it is never logged.
    pub postgres: Option<String>,
    /// Cluster mode: the NATS server (`nats://host:4222`) the relays sharing the
    /// PostgreSQL store talk through. Needs `postgres`.
    pub nats: Option<String>,
    /// The cluster's name on that NATS server (its subjects' prefix), so clusters can
    /// share one.
    pub cluster: String,
    /// Tests only (never in the file): in cluster mode, every this-many-th op is not
    /// sent to the other nodes, as NATS may drop what a slow subscriber does not
    /// read. 0: none.
    pub lose_every_nth_op: u32,
    /// The largest file a chat accepts.
    pub max_upload_bytes: u64,
    /// The AI provider (the console's saved settings win over these).
    pub ai: AiSettings,
    /// How sockets keep alive and give up (not in the file: the defaults are the
    /// product's; tests shorten them).
    pub sockets: SocketTiming,
    /// Networks that webhooks and the crawler may reach although not public.
    pub outbound_allow: Vec<Network>,
    /// Proxies in front of the relay whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<Network>,
    /// Where browsers reach the relay (`https://chat.example.com`): with https, the
    /// session cookie is `Secure`.
    pub public_url: Option<String>,
    /// How many new chats and files one visitor or address may send.
    pub limits: Limits,
    /// Whether and where `/metrics` is served.
    pub metrics: MetricsSettings,
}

/// Socket keep-alive and give-up times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SocketTiming {
    /// A ping goes out this often, so proxies keep the socket and dead peers show.
    pub ping_every: Duration,
    /// A socket that sends nothing (not even a pong) this long is closed.
    pub idle_timeout: Duration,
    /// One write may wait this long for a peer that does not read; then the socket is
    /// cut (the client resumes from its last `seq`).
    pub send_timeout: Duration,
    /// At shutdown, sockets get this long to close before they are cut; every write
    /// they acknowledged is committed already.
    pub shutdown_grace: Duration,
}

impl Default for SocketTiming {
    fn default() -> Self {
        Self {
            ping_every: Duration::from_secs(25),
            idle_timeout: Duration::from_secs(60),
            send_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(5),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            addr: DEFAULT_ADDR
                .parse()
                .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 8080))),
            data_dir: PathBuf::from("data"),
            assets_dir: PathBuf::from("dist"),
            durability: Durability::Full,
            postgres: None,
            nats: None,
            cluster: DEFAULT_CLUSTER.into(),
            lose_every_nth_op: 0,
            max_upload_bytes: 10 * 1024 * 1024,
            ai: AiSettings::default(),
            sockets: SocketTiming::default(),
            outbound_allow: Vec::new(),
            trusted_proxies: Vec::new(),
            public_url: None,
            limits: Limits::default(),
            metrics: MetricsSettings::default(),
        }
    }
}

/// The TOML file's shape; every key is optional. See `examples/porchlight.toml`.
#[derive(Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub addr: Option<SocketAddr>,
    pub data: Option<PathBuf>,
    pub assets: Option<PathBuf>,
    pub durability: Option<Durability>,
    /// The PostgreSQL store's URL, for cluster mode.
    pub postgres: Option<String>,
    /// The NATS server's URL, for cluster mode.
    pub nats: Option<String>,
    /// The cluster's name on the NATS server (default "porchlight").
    pub cluster: Option<String>,
    /// The largest file a chat accepts, in MB (default 10).
    pub max_upload_mb: Option<u64>,
    /// `[ai]`: the AI provider.
    pub ai: Option<AiSettings>,
    /// Private networks webhooks and the crawler may reach (`["10.0.0.0/8"]`).
    pub outbound_allow: Option<Vec<Network>>,
    /// Proxies whose `X-Forwarded-For` is believed (`["127.0.0.1"]` behind nginx).
    pub trusted_proxies: Option<Vec<Network>>,
    /// Where browsers reach the relay (`https://chat.example.com`).
    pub public_url: Option<String>,
    /// `[limits]`: new chats and files per visitor and address.
    pub limits: Option<Limits>,
    /// `[metrics]`: Prometheus scraping.
    pub metrics: Option<MetricsSettings>,
}

/// Values given on the command line or in `PORCHLIGHT_*` variables.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub addr: Option<SocketAddr>,
    pub data: Option<PathBuf>,
    pub assets: Option<PathBuf>,
    pub durability: Option<Durability>,
    pub postgres: Option<String>,
    pub nats: Option<String>,
    pub cluster: Option<String>,
    pub config: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("the config file {path} is not valid: {message}")]
    Parse { path: String, message: String },
    #[error("the config file {path} is not valid: {problems}")]
    Ai { path: String, problems: String },
    #[error(
        "cluster mode needs the PostgreSQL store as well as NATS: give --postgres (or postgres = \"…\") with --nats"
    )]
    NatsWithoutPostgres,
    #[error(
        "the cluster name \"{0}\" is not one: use letters, digits, '-' and '_' (it prefixes NATS subjects)"
    )]
    ClusterName(String),
}

impl ConfigFile {
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let file: Self = toml::from_str(&text).map_err(|err| ConfigError::Parse {
            path: path.display().to_string(),
            message: err.to_string(),
        })?;
        if let Some(url) = &file.public_url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            return Err(ConfigError::Parse {
                path: path.display().to_string(),
                message: format!("public_url \"{url}\" must start with https:// or http://"),
            });
        }
        let problems = file
            .ai
            .as_ref()
            .map(AiSettings::problems)
            .unwrap_or_default();
        if !problems.is_empty() {
            return Err(ConfigError::Ai {
                path: path.display().to_string(),
                problems: problems.join("; "),
            });
        }
        Ok(file)
    }
}

impl Config {
    /// Defaults, then the config file (if named), then the overrides.
    pub fn resolve(overrides: Overrides) -> Result<Self, ConfigError> {
        let file = match &overrides.config {
            Some(path) => ConfigFile::load(path)?,
            None => ConfigFile::default(),
        };
        let defaults = Self::default();
        let postgres = overrides.postgres.or(file.postgres);
        let nats = overrides.nats.or(file.nats);
        if nats.is_some() && postgres.is_none() {
            return Err(ConfigError::NatsWithoutPostgres);
        }
        let cluster = overrides
            .cluster
            .or(file.cluster)
            .unwrap_or(defaults.cluster);
        if cluster.is_empty()
            || !cluster
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(ConfigError::ClusterName(cluster));
        }
        Ok(Self {
            addr: overrides.addr.or(file.addr).unwrap_or(defaults.addr),
            data_dir: overrides.data.or(file.data).unwrap_or(defaults.data_dir),
            assets_dir: overrides
                .assets
                .or(file.assets)
                .unwrap_or(defaults.assets_dir),
            durability: overrides
                .durability
                .or(file.durability)
                .unwrap_or(defaults.durability),
            postgres,
            nats,
            cluster,
            lose_every_nth_op: defaults.lose_every_nth_op,
            max_upload_bytes: file.max_upload_mb.map_or(defaults.max_upload_bytes, |mb| {
                mb.saturating_mul(1024 * 1024)
            }),
            ai: file.ai.unwrap_or(defaults.ai),
            sockets: defaults.sockets,
            outbound_allow: file.outbound_allow.unwrap_or(defaults.outbound_allow),
            trusted_proxies: file.trusted_proxies.unwrap_or(defaults.trusted_proxies),
            public_url: file.public_url.or(defaults.public_url),
            limits: file.limits.unwrap_or(defaults.limits),
            metrics: file.metrics.unwrap_or(defaults.metrics),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_beat_the_file_and_the_file_beats_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("porchlight.toml");
        std::fs::write(
            &path,
            "addr = \"0.0.0.0:9000\"\ndata = \"/srv/chat\"\ndurability = \"normal\"\nmax_upload_mb = 2\noutbound_allow = [\"10.0.0.0/8\"]\n",
        )
        .unwrap();
        let config = Config::resolve(Overrides {
            data: Some("/tmp/flag".into()),
            config: Some(path),
            ..Overrides::default()
        })
        .unwrap();
        assert_eq!(config.addr, "0.0.0.0:9000".parse().unwrap());
        assert_eq!(config.data_dir, PathBuf::from("/tmp/flag"));
        assert_eq!(config.assets_dir, PathBuf::from("dist"));
        assert_eq!(config.durability, Durability::Normal);
        assert_eq!(config.max_upload_bytes, 2 * 1024 * 1024);
        assert_eq!(config.outbound_allow, vec!["10.0.0.0/8".parse().unwrap()]);
        assert_eq!(config.postgres, None, "SQLite unless PostgreSQL is named");
    }

    #[test]
    fn the_postgresql_url_comes_from_the_flag_or_else_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("porchlight.toml");
        std::fs::write(&path, "postgres = \"postgres://file@db/chat\"\n").unwrap();
        let from_file = Config::resolve(Overrides {
            config: Some(path.clone()),
            ..Overrides::default()
        })
        .unwrap();
        assert_eq!(
            from_file.postgres.as_deref(),
            Some("postgres://file@db/chat")
        );
        let from_flag = Config::resolve(Overrides {
            postgres: Some("postgres://flag@db/chat".into()),
            config: Some(path),
            ..Overrides::default()
        })
        .unwrap();
        assert_eq!(
            from_flag.postgres.as_deref(),
            Some("postgres://flag@db/chat")
        );
    }

    #[test]
    fn cluster_mode_needs_postgresql_and_a_plain_cluster_name() {
        let nats = Some("nats://127.0.0.1:4222".to_owned());
        let alone = Config::resolve(Overrides {
            nats: nats.clone(),
            ..Overrides::default()
        })
        .unwrap_err();
        assert!(alone.to_string().contains("--postgres"), "{alone}");
        let postgres = Some("postgres://db/chat".to_owned());
        let bad_name = Config::resolve(Overrides {
            nats: nats.clone(),
            postgres: postgres.clone(),
            cluster: Some("a.b".into()),
            ..Overrides::default()
        })
        .unwrap_err();
        assert!(bad_name.to_string().contains("\"a.b\""), "{bad_name}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("porchlight.toml");
        std::fs::write(&path, "nats = \"nats://file:4222\"\ncluster = \"eu-1\"\n").unwrap();
        let config = Config::resolve(Overrides {
            postgres,
            config: Some(path),
            ..Overrides::default()
        })
        .unwrap();
        assert_eq!(config.nats.as_deref(), Some("nats://file:4222"));
        assert_eq!(config.cluster, "eu-1");
        assert_eq!(Config::default().cluster, DEFAULT_CLUSTER);
    }

    #[test]
    fn the_example_config_is_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/porchlight.toml");
        let file = ConfigFile::load(&path).unwrap();
        assert_eq!(file.addr, Some("127.0.0.1:8080".parse().unwrap()));
        assert_eq!(file.ai.unwrap().provider, crate::ai::ProviderKind::None);
    }

    #[test]
    fn unknown_keys_and_bad_values_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, "adress = \"x\"\n").unwrap();
        let err = Config::resolve(Overrides {
            config: Some(path.clone()),
            ..Overrides::default()
        })
        .unwrap_err();
        assert!(err.to_string().contains("adress"), "{err}");
        std::fs::write(&path, "addr = \"not an address\"\n").unwrap();
        let err = ConfigFile::load(&path).unwrap_err();
        assert!(err.to_string().contains("addr"), "{err}");
        std::fs::write(&path, "outbound_allow = [\"intranet\"]\n").unwrap();
        let err = ConfigFile::load(&path).unwrap_err();
        assert!(
            err.to_string()
                .contains("\"intranet\" is not an IP address or network"),
            "{err}"
        );
        std::fs::write(
            &path,
            "[ai]\nprovider = \"openai\"\nchat_model = \"gpt-4o-mini\"\n",
        )
        .unwrap();
        let err = ConfigFile::load(&path).unwrap_err();
        assert!(
            err.to_string()
                .contains("ai.api_key is required for this provider"),
            "{err}"
        );
        let missing = ConfigFile::load(&dir.path().join("missing.toml")).unwrap_err();
        assert!(matches!(missing, ConfigError::Read { .. }));
    }

    #[test]
    fn the_commented_example_is_a_valid_config() {
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/porchlight.toml");
        let file = ConfigFile::load(&example).unwrap();
        assert_eq!(file.metrics, Some(MetricsSettings::default()));
    }
}
