//! `porchlight serve` (the default): the relay on its address until SIGINT or SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use porchlight_relay::config::{Config, Overrides};
use porchlight_relay::server::{Relay, StartError};
use porchlight_relay::store::Durability;

#[derive(Args, Clone, Default)]
pub(crate) struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, env = "PORCHLIGHT_ADDR")]
    addr: Option<SocketAddr>,
    /// Folder for the SQLite database [default: ./data]
    #[arg(long, env = "PORCHLIGHT_DATA")]
    data: Option<PathBuf>,
    /// TOML config file (see examples/porchlight.toml)
    #[arg(long, env = "PORCHLIGHT_CONFIG")]
    config: Option<PathBuf>,
    /// Folder with the built widget and console [default: ./dist]
    #[arg(long, env = "PORCHLIGHT_ASSETS")]
    assets: Option<PathBuf>,
    /// When an acknowledged message is safe: full (survives power loss) or normal
    /// (survives a crash) [default: full]
    #[arg(long, env = "PORCHLIGHT_DURABILITY")]
    durability: Option<Durability>,
    /// Keep the store in PostgreSQL (postgres://user:password@host/database) instead
    /// of SQLite in the data folder
    #[arg(long, env = "PORCHLIGHT_POSTGRES", hide_env_values = true)]
    postgres: Option<String>,
    /// Cluster mode: the NATS server (nats://host:4222) the relays sharing the
    /// PostgreSQL store talk through
    #[arg(long, env = "PORCHLIGHT_NATS", hide_env_values = true)]
    nats: Option<String>,
    /// The cluster's name on the NATS server, so clusters can share one
    /// [default: porchlight]
    #[arg(long, env = "PORCHLIGHT_CLUSTER")]
    cluster: Option<String>,
}

pub(crate) async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let config = Config::resolve(Overrides {
        addr: args.addr,
        data: args.data,
        assets: args.assets,
        durability: args.durability,
        postgres: args.postgres,
        nats: args.nats,
        cluster: args.cluster,
        config: args.config,
    })?;
    let addr = config.addr;
    let data_dir = config.data_dir.clone();
    // Where the store is, for an error a person can act on (never the URL itself:
    // it may hold a password).
    let store_place = match &config.postgres {
        Some(_) => "the PostgreSQL database --postgres names".to_owned(),
        None => format!("the data folder {}", data_dir.display()),
    };
    let (relay, admin) = Relay::open(config).await.map_err(|err| {
        let context = match &err {
            StartError::Cluster(_) => "cannot join the cluster".to_owned(),
            _ => format!("cannot start the relay on {store_place}"),
        };
        anyhow::Error::new(err).context(context)
    })?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    println!("Porchlight is listening on http://{local}");
    println!("  Demo page: http://{local}/");
    println!("  AI demo:   http://{local}/ai");
    println!("  Console:   http://{local}/console/");
    let metrics = &relay.state().config.metrics;
    if metrics.enabled {
        let at = relay.metrics_addr().unwrap_or(local);
        println!("  Metrics:   http://{at}/metrics");
    }
    if let Some(admin) = admin {
        println!(
            "  First start: log in as {} with the one-time password {} (you choose your own at once; unused, it expires in 7 days)",
            admin.email, admin.password
        );
    }
    tracing::info!(%local, data = %data_dir.display(), "relay started");
    relay.run(listener, shutdown_signal()).await?;
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
}
