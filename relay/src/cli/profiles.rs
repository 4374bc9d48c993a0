//! `porchlight profiles …`: check, import and export chat profiles.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use porchlight_relay::flow::{Format, Problem, Severity};
use porchlight_relay::outbound::OutboundPolicy;
use porchlight_relay::profiles;

use super::{StoreArgs, config_of, open_store};

#[derive(Subcommand)]
pub(crate) enum ProfilesCommand {
    /// Check a profile file (TOML, or JSON by extension); exits non-zero on errors.
    Check {
        file: PathBuf,
        /// TOML config file (its `outbound_allow` says which private webhooks pass)
        #[arg(long, env = "PORCHLIGHT_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Check a profile file and make it the site's chat profile.
    Import {
        file: PathBuf,
        /// The site's key
        #[arg(long, default_value = "demo")]
        site: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Print the site's chat profile.
    Export {
        /// The site's key
        #[arg(long, default_value = "demo")]
        site: String,
        #[arg(long, value_enum, default_value = "toml")]
        format: FormatArg,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub(crate) enum FormatArg {
    Toml,
    Json,
}

fn print_problems(problems: &[Problem]) {
    for problem in problems {
        eprintln!("{problem}");
    }
}

pub(crate) async fn run(command: ProfilesCommand) -> anyhow::Result<()> {
    match command {
        ProfilesCommand::Check { file, config } => {
            let policy = outbound_policy(StoreArgs { data: None, config })?;
            check(&file, &policy).await
        }
        ProfilesCommand::Import { file, site, store } => {
            let policy = outbound_policy(store.clone())?;
            let store = open_store(store)?;
            match profiles::import_file(store.as_ref(), &site, &file, &policy).await {
                Ok((stored, warnings)) => {
                    print_problems(&warnings);
                    store.flush().await?;
                    println!(
                        "imported profile \"{}\" (#{}); it is now the chat profile of site \"{site}\"",
                        stored.name, stored.id
                    );
                    Ok(())
                }
                Err(profiles::FileError::Invalid { problems, .. }) => {
                    print_problems(&problems);
                    anyhow::bail!("{} is not valid; nothing was imported", file.display())
                }
                Err(err) => Err(err.into()),
            }
        }
        ProfilesCommand::Export {
            site,
            format,
            store,
        } => {
            let store = open_store(store)?;
            let format = match format {
                FormatArg::Toml => Format::Toml,
                FormatArg::Json => Format::Json,
            };
            print!("{}", profiles::export(store.as_ref(), &site, format).await?);
            Ok(())
        }
    }
}

fn outbound_policy(args: StoreArgs) -> anyhow::Result<OutboundPolicy> {
    Ok(OutboundPolicy {
        allowed: config_of(args)?.outbound_allow,
    })
}

async fn check(file: &Path, policy: &OutboundPolicy) -> anyhow::Result<()> {
    match profiles::check_file(file, policy).await {
        Ok((flow, warnings)) => {
            print_problems(&warnings);
            println!(
                "ok: profile \"{}\" ({} steps, {} warning(s))",
                flow.profile.name,
                flow.profile.steps.len(),
                warnings.len()
            );
            Ok(())
        }
        Err(profiles::FileError::Invalid { problems, .. }) => {
            print_problems(&problems);
            let errors = problems
                .iter()
                .filter(|problem| problem.severity == Severity::Error)
                .count();
            anyhow::bail!("{} is not valid: {errors} error(s)", file.display())
        }
        Err(err) => Err(err.into()),
    }
}
