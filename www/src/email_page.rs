//! The admins' Email page: the SMTP server (the password is write-only), a test email,
//! each site's templates (`email_templates.rs`), and the outbox with "Retry now".

use leptos::prelude::*;
use leptos::task::spawn_local;
use porchlight_protocol::api::email::{
    EmailSettingsForm, EmailSettingsView, EmailTest, OutboxLine, SmtpSecurity, TestEmail,
};

use crate::api;
use crate::email_templates::EmailTemplates;

/// The form as typed: every field a string, read when saved.
#[derive(Clone, Copy)]
struct Form {
    host: RwSignal<String>,
    port: RwSignal<String>,
    security: RwSignal<SmtpSecurity>,
    user: RwSignal<String>,
    password: RwSignal<String>,
    password_set: RwSignal<bool>,
    from: RwSignal<String>,
    team_to: RwSignal<String>,
    transcript_at_end: RwSignal<bool>,
}

impl Form {
    fn show(self, view: EmailSettingsView) {
        self.host.set(view.host);
        // Nothing saved yet: the usual submission port.
        self.port.set(if view.port == 0 {
            "587".to_owned()
        } else {
            view.port.to_string()
        });
        self.security.set(view.security);
        self.user.set(view.user);
        self.password.set(String::new());
        self.password_set.set(view.password_set);
        self.from.set(view.from);
        self.team_to.set(view.team_to);
        self.transcript_at_end.set(view.transcript_at_end);
    }

    fn read(self) -> EmailSettingsForm {
        EmailSettingsForm {
            host: self.host.get_untracked(),
            port: self.port.get_untracked().trim().parse().unwrap_or(0),
            security: self.security.get_untracked(),
            user: self.user.get_untracked(),
            password: self.password.get_untracked(),
            clear_password: false,
            from: self.from.get_untracked(),
            team_to: self.team_to.get_untracked(),
            transcript_at_end: self.transcript_at_end.get_untracked(),
        }
    }
}

fn security_word(security: SmtpSecurity) -> &'static str {
    match security {
        SmtpSecurity::Starttls => "starttls",
        SmtpSecurity::Tls => "tls",
        SmtpSecurity::None => "none",
    }
}

#[component]
pub(crate) fn EmailPage() -> impl IntoView {
    let note = RwSignal::new(None::<String>);
    view! {
        <main class="admin-page">
            <h2>"Email"</h2>
            <p class="hint">"New tickets (messages left out of hours, chats handed over) are emailed to the team through your SMTP server, and, if you choose, each chat's transcript to its visitor. Leave the host empty to send nothing."</p>
            <Show when=move || note.with(Option::is_some)>
                <p class="notice" role="status">{move || note.get().unwrap_or_default()}</p>
            </Show>
            <SmtpServer note=note/>
            <TestSend note=note/>
            <EmailTemplates note=note/>
            <Outbox note=note/>
        </main>
    }
}

#[component]
fn SmtpServer(note: RwSignal<Option<String>>) -> impl IntoView {
    let form = Form {
        host: RwSignal::new(String::new()),
        port: RwSignal::new("587".into()),
        security: RwSignal::new(SmtpSecurity::Starttls),
        user: RwSignal::new(String::new()),
        password: RwSignal::new(String::new()),
        password_set: RwSignal::new(false),
        from: RwSignal::new(String::new()),
        team_to: RwSignal::new(String::new()),
        transcript_at_end: RwSignal::new(false),
    };
    spawn_local(async move {
        if let Ok(view) = api::get::<EmailSettingsView>("/api/admin/email").await {
            form.show(view);
        }
    });
    let save = move |_| {
        spawn_local(async move {
            match api::send::<EmailSettingsView>("PUT", "/api/admin/email", &form.read()).await {
                Ok(view) => {
                    form.show(view);
                    note.set(Some("Email settings saved.".into()));
                }
                Err(failure) => note.set(Some(failure.message())),
            }
        });
    };
    let text_field = |label: &'static str, signal: RwSignal<String>, kind: &'static str| {
        view! {
            <label class="setting">{label}
                <input type=kind aria-label=label prop:value=move || signal.get() on:input=move |event| signal.set(event_target_value(&event))/></label>
        }
    };
    view! {
        <section aria-label="SMTP server">
            {text_field("SMTP host", form.host, "text")}
            {text_field("Port", form.port, "number")}
            <label class="setting">"Security"
                <select aria-label="Security" on:change=move |event| form.security.set(match event_target_value(&event).as_str() {
                    "tls" => SmtpSecurity::Tls,
                    "none" => SmtpSecurity::None,
                    _ => SmtpSecurity::Starttls,
                })>
                    {[(SmtpSecurity::Starttls, "STARTTLS (port 587)"), (SmtpSecurity::Tls, "TLS (port 465)"), (SmtpSecurity::None, "None (a relay on this network only)")]
                        .into_iter().map(|(value, label)| view! {
                            <option value=security_word(value) selected=move || form.security.get() == value>{label}</option>
                        }).collect_view()}
                </select></label>
            {text_field("User", form.user, "text")}
            <label class="setting">"Password"
                <input type="password" aria-label="Password" autocomplete="new-password"
                    placeholder=move || if form.password_set.get() { "saved (type to replace)" } else { "" }
                    prop:value=move || form.password.get() on:input=move |event| form.password.set(event_target_value(&event))/></label>
            {text_field("From", form.from, "text")}
            {text_field("Team's address", form.team_to, "email")}
            <label class="setting"><input type="checkbox"
                prop:checked=move || form.transcript_at_end.get()
                on:change=move |event| form.transcript_at_end.set(event_target_checked(&event))/>
                "Email each chat's transcript to its visitor when it ends (when they gave an email)"</label>
            <button on:click=save>"Save email settings"</button>
        </section>
    }
}

#[component]
fn TestSend(note: RwSignal<Option<String>>) -> impl IntoView {
    let test_to = RwSignal::new(String::new());
    let test = move |_| {
        let request = TestEmail {
            to: test_to.get_untracked(),
        };
        note.set(Some("Sending…".into()));
        spawn_local(async move {
            let said = match api::send::<EmailTest>("POST", "/api/admin/email/test", &request).await
            {
                Ok(result) => result.message,
                Err(failure) => failure.message(),
            };
            note.set(Some(said));
        });
    };
    view! {
        <section aria-label="Test email" class="inline-form">
            <input type="email" aria-label="Send a test email to" placeholder="you@example.com"
                prop:value=move || test_to.get() on:input=move |event| test_to.set(event_target_value(&event))/>
            <button on:click=test>"Send test email"</button>
        </section>
    }
}

#[component]
fn Outbox(note: RwSignal<Option<String>>) -> impl IntoView {
    let outbox = RwSignal::new(Vec::<OutboxLine>::new());
    let reload = move || {
        spawn_local(async move {
            if let Ok(lines) = api::get("/api/admin/email/outbox").await {
                outbox.set(lines);
            }
        });
    };
    reload();
    let retry = move |_| {
        spawn_local(async move {
            if let Err(failure) = api::act("POST", "/api/admin/email/retry", None::<&()>).await {
                note.set(Some(failure.message()));
            }
            reload();
        });
    };
    view! {
        <section aria-label="Outbox">
            <h3>"Outbox"</h3>
            <button class="ghost" on:click=retry>"Retry now"</button>
            <table class="canned-list">
                <thead><tr><th>"Email"</th><th>"To"</th><th>"Status"</th><th>"Tries"</th><th>"Last error"</th></tr></thead>
                <tbody>
                    {move || outbox.get().into_iter().map(|line| view! {
                        <tr>
                            <td>{line.subject.unwrap_or(line.kind)}</td>
                            <td>{line.to.unwrap_or_default()}</td>
                            <td>{line.status}</td>
                            <td>{line.attempts}</td>
                            <td>{line.last_error.unwrap_or_default()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}
