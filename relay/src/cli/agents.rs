//! `porchlight agents reset-password EMAIL`: a way back in for an operator who lost
//! the admin's password (or never used the first one in time): a new one-time password,
//! printed once, and every session of that agent ended.

use clap::Subcommand;
use porchlight_relay::auth::{hash_password, random_password};
use porchlight_relay::http::ONE_TIME_PASSWORD_DAYS;
use porchlight_relay::store::now_ms;

use super::{StoreArgs, open_store};

#[derive(Subcommand)]
pub(crate) enum AgentsCommand {
    /// Give an agent a new one-time password (printed once; they choose their own at
    /// next login). Their sessions end (a running relay's open consoles at their next
    /// reconnect).
    ResetPassword {
        email: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

pub(crate) async fn run(command: AgentsCommand) -> anyhow::Result<()> {
    match command {
        AgentsCommand::ResetPassword { email, store } => {
            let store = open_store(store)?;
            let agent = store
                .agent_by_email(email.trim())
                .await?
                .ok_or_else(|| anyhow::anyhow!("there is no agent with the email {email}"))?;
            let password = random_password();
            let to_hash = password.clone();
            let hash = tokio::task::spawn_blocking(move || hash_password(&to_hash)).await??;
            let until = now_ms() + ONE_TIME_PASSWORD_DAYS * 24 * 3600 * 1000;
            store.set_password(agent.id, hash, Some(until)).await?;
            store.flush().await?;
            println!(
                "{}: one-time password {password} (choose your own at login; unused, it expires in {ONE_TIME_PASSWORD_DAYS} days)",
                agent.email
            );
            Ok(())
        }
    }
}
