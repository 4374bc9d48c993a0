//! Email: the SMTP settings (saved in the store; the password never leaves it), what
//! each email says (`compose`), and the sender that works through the store's outbox
//! (`sender`, over `smtp`).

pub mod compose;
pub mod sender;
pub mod smtp;
pub mod templates;

use lettre::message::Mailbox;
use porchlight_protocol::api::email::{EmailSettingsForm, EmailSettingsView, SmtpSecurity};
use serde::{Deserialize, Serialize};

use crate::store::{Store, StoreError};

/// The settings row's key.
pub const SETTINGS_KEY: &str = "email";

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq, Eq)]
pub struct EmailSettings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub user: String,
    pub password: String,
    pub from: String,
    pub team_to: String,
    #[serde(default)]
    pub transcript_at_end: bool,
}

impl EmailSettings {
    /// The saved settings (none saved: email off).
    pub async fn read(store: &dyn Store) -> Result<Self, StoreError> {
        Ok(match store.setting(SETTINGS_KEY).await? {
            Some(json) => serde_json::from_str(&json)
                .map_err(|err| StoreError::Backend(format!("the email settings: {err}")))?,
            None => Self::default(),
        })
    }

    /// The saved settings for a page or a check, email off when they cannot be read
    /// (logged).
    pub async fn load(store: &dyn Store) -> Self {
        Self::read(store).await.unwrap_or_else(|err| {
            tracing::error!(error = %err, "cannot read the email settings");
            Self::default()
        })
    }

    pub fn enabled(&self) -> bool {
        !self.host.is_empty()
    }

    pub fn view(&self) -> EmailSettingsView {
        EmailSettingsView {
            enabled: self.enabled(),
            host: self.host.clone(),
            port: self.port,
            security: self.security,
            user: self.user.clone(),
            password_set: !self.password.is_empty(),
            from: self.from.clone(),
            team_to: self.team_to.clone(),
            transcript_at_end: self.transcript_at_end,
        }
    }

    /// These settings changed by the form (an empty password keeps the saved one), or
    /// what is wrong with it.
    pub fn updated(&self, form: EmailSettingsForm) -> Result<Self, String> {
        let host = form.host.trim().to_owned();
        let password = if form.clear_password {
            String::new()
        } else if form.password.is_empty() {
            self.password.clone()
        } else {
            form.password
        };
        let settings = Self {
            host,
            port: form.port,
            security: form.security,
            user: form.user.trim().to_owned(),
            password,
            from: form.from.trim().to_owned(),
            team_to: form.team_to.trim().to_owned(),
            transcript_at_end: form.transcript_at_end,
        };
        if !settings.enabled() {
            return Ok(Self::default());
        }
        if settings.host.len() > 253
            || !settings
                .host
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || b".-:[]".contains(&byte))
        {
            return Err("The SMTP host must be a host name or an IP address.".into());
        }
        if settings.port == 0 {
            return Err("The SMTP port must be 1 to 65535 (usually 587, or 465 with TLS).".into());
        }
        if settings.from.parse::<Mailbox>().is_err() {
            return Err(format!(
                "\"{}\" is not a sender address: write support@example.com or Support <support@example.com>.",
                settings.from
            ));
        }
        if !settings.team_to.is_empty() && settings.team_to.parse::<Mailbox>().is_err() {
            return Err(format!(
                "\"{}\" is not an address for the team's emails.",
                settings.team_to
            ));
        }
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> EmailSettingsForm {
        EmailSettingsForm {
            host: " smtp.example.com ".into(),
            port: 587,
            security: SmtpSecurity::Starttls,
            user: "relay".into(),
            password: "secret".into(),
            clear_password: false,
            from: "Support <support@example.com>".into(),
            team_to: "team@example.com".into(),
            transcript_at_end: true,
        }
    }

    #[test]
    fn the_password_is_kept_when_left_empty_and_never_shown() {
        let saved = EmailSettings::default().updated(form()).unwrap();
        assert_eq!(saved.host, "smtp.example.com");
        let again = saved
            .updated(EmailSettingsForm {
                password: String::new(),
                ..form()
            })
            .unwrap();
        assert_eq!(again.password, "secret");
        let view = serde_json::to_string(&again.view()).unwrap();
        assert!(!view.contains("secret"), "{view}");
        assert!(again.view().password_set);
        let cleared = again
            .updated(EmailSettingsForm {
                clear_password: true,
                ..form()
            })
            .unwrap();
        assert!(cleared.password.is_empty());
    }

    #[test]
    fn bad_settings_say_what_is_wrong_and_an_empty_host_turns_email_off() {
        for bad in [
            EmailSettingsForm { port: 0, ..form() },
            EmailSettingsForm {
                host: "smtp example".into(),
                ..form()
            },
            EmailSettingsForm {
                from: "not an address".into(),
                ..form()
            },
            EmailSettingsForm {
                team_to: "team@".into(),
                ..form()
            },
        ] {
            assert!(EmailSettings::default().updated(bad).is_err());
        }
        let off = EmailSettings::default()
            .updated(EmailSettingsForm {
                host: String::new(),
                ..form()
            })
            .unwrap();
        assert!(!off.enabled());
        assert_eq!(off, EmailSettings::default());
    }
}
