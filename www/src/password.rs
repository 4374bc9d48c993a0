//! Choosing a password: at the first login with a one-time password (nothing else
//! works until then), and whenever an agent wants a new one.

use leptos::prelude::*;
use leptos::task::spawn_local;
use porchlight_protocol::api::session::{Me, PasswordChange, weak_password};

use crate::api;

/// Why the form cannot be sent yet, in words.
fn problem(current: &str, new: &str, repeat: &str) -> Option<&'static str> {
    if current.is_empty() {
        return Some("Enter your current password.");
    }
    if new != repeat {
        return Some("The two new passwords differ.");
    }
    weak_password(new, current)
}

/// The form. `known` is the one-time password just used to log in (not asked again);
/// `on_done` gets the agent once the new password is saved (every other session of
/// theirs has ended, this browser has a new one).
#[component]
pub(crate) fn PasswordForm(
    #[prop(into)] heading: String,
    known: Option<String>,
    on_done: Callback<Me>,
) -> impl IntoView {
    let asks_current = known.is_none();
    let current = RwSignal::new(known.unwrap_or_default());
    let new = RwSignal::new(String::new());
    let repeat = RwSignal::new(String::new());
    let note = RwSignal::new(None::<String>);
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let change = PasswordChange {
            current: current.get_untracked(),
            new: new.get_untracked(),
        };
        if let Some(problem) = problem(&change.current, &change.new, &repeat.get_untracked()) {
            note.set(Some(problem.to_owned()));
            return;
        }
        spawn_local(async move {
            match api::send::<Me>("POST", "/api/password", &change).await {
                Ok(me) => on_done.run(me),
                Err(failure) => note.set(Some(failure.message())),
            }
        });
    };
    let field = move |label: &'static str, value: RwSignal<String>, autocomplete: &'static str| {
        view! {
            <label>{label}
                <input type="password" autocomplete=autocomplete required
                    on:input=move |event| value.set(event_target_value(&event))/>
            </label>
        }
    };
    view! {
        <form class="password-form" on:submit=submit>
            <h2>{heading}</h2>
            <p class="hint">"At least 10 characters. Your other sessions end when you save it."</p>
            {asks_current.then(|| field("Current password", current, "current-password"))}
            {field("New password", new, "new-password")}
            {field("New password again", repeat, "new-password")}
            <Show when=move || note.with(Option::is_some)>
                <p class="problem" role="alert">{move || note.get().unwrap_or_default()}</p>
            </Show>
            <button type="submit">"Save password"</button>
        </form>
    }
}

/// The desk's Password page: the form, then a word that it is done.
#[component]
pub(crate) fn PasswordPage() -> impl IntoView {
    let saved = RwSignal::new(false);
    let on_done = Callback::new(move |_: Me| saved.set(true));
    view! {
        <main class="admin-page">
            {move || if saved.get() {
                view! { <p class="notice" role="status">"Password saved. Your other sessions have ended."</p> }.into_any()
            } else {
                view! { <PasswordForm heading="Change your password" known=None on_done=on_done/> }.into_any()
            }}
        </main>
    }
}
