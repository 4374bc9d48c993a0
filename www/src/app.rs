//! The console's frame: logging in (and choosing a password after a one-time one),
//! the agent socket (with reconnects), and the desk once logged in.

use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use porchlight_protocol::api::session::{Login, Me};
use porchlight_protocol::sync::{TYPING_SHOWN_MS, reconnect_delay_ms};
use porchlight_protocol::{AgentEvent, AgentRequest, to_text};
use porchlight_widget::browser::{self, socket_url};

use crate::alert;
use crate::api;
use crate::desk::Desk;
use crate::password::PasswordForm;
use crate::state::ConsoleState;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Checking,
    LoggedOut,
    /// Logged in with a one-time password: nothing works until they choose their own.
    ChoosingPassword,
    LoggedIn,
}

pub(crate) fn send_frame(request: &AgentRequest) {
    browser::send(&to_text(request));
}

fn connect(state: RwSignal<ConsoleState>, phase: RwSignal<Phase>, attempt: StoredValue<u32>) {
    let opened = browser::connect(
        &socket_url("/ws/agent"),
        move || {
            attempt.set_value(0);
            send_frame(&ConsoleState::hello());
        },
        move |text| {
            let Ok(event) = serde_json::from_str::<AgentEvent>(&text) else {
                return;
            };
            match &event {
                AgentEvent::Ring(chat) => {
                    alert::chime();
                    alert::notify(
                        "A visitor is waiting",
                        &format!("{} wants to chat", chat.visitor_name),
                        "porchlight-ring",
                    );
                }
                AgentEvent::Assigned { conversation_id } => {
                    let name = state.with_untracked(|state| {
                        state
                            .chats
                            .get(conversation_id)
                            .map(|chat| chat.visitor_name.clone())
                    });
                    alert::chime();
                    alert::notify(
                        "A chat was assigned to you",
                        &format!("{} is yours", name.unwrap_or_else(|| "A visitor".into())),
                        &format!("porchlight-chat-{conversation_id}"),
                    );
                }
                // A visitor writes in a chat this agent holds while they look elsewhere.
                AgentEvent::Message(message) if document().hidden() => {
                    let now = js_sys::Date::now() as i64;
                    if let Some((title, body)) =
                        state.with_untracked(|state| state.message_alert(message, now))
                    {
                        alert::chime();
                        alert::notify(
                            &title,
                            &body,
                            &format!("porchlight-chat-{}", message.conversation_id),
                        );
                    }
                }
                _ => {}
            }
            let typing = match &event {
                AgentEvent::Typing { conversation_id } => Some(*conversation_id),
                _ => None,
            };
            let mut replies = Vec::new();
            state.update(|state| replies = state.apply(event));
            replies.iter().for_each(send_frame);
            // A pulse shows for a while unless a newer one comes.
            if let Some((id, pulse)) = typing.and_then(|id| {
                state.with_untracked(|state| state.typing.get(&id).map(|pulse| (id, *pulse)))
            }) {
                set_timeout(
                    move || state.update(|state| state.typing_expired(id, pulse)),
                    Duration::from_millis(TYPING_SHOWN_MS),
                );
            }
        },
        move || {
            state.update(ConsoleState::disconnected);
            if phase.get_untracked() == Phase::LoggedIn {
                reconnect_later(state, phase, attempt);
            }
        },
    );
    if !opened {
        reconnect_later(state, phase, attempt);
    }
}

fn reconnect_later(
    state: RwSignal<ConsoleState>,
    phase: RwSignal<Phase>,
    attempt: StoredValue<u32>,
) {
    let tries = attempt.get_value();
    attempt.set_value(tries.saturating_add(1));
    let delay = reconnect_delay_ms(tries, js_sys::Math::random());
    set_timeout(
        move || {
            // A failed upgrade may mean the session expired: check before retrying.
            spawn_local(async move {
                match api::get::<Me>("/api/me").await {
                    Err(failure) if failure.status == 401 => phase.set(Phase::LoggedOut),
                    _ => connect(state, phase, attempt),
                }
            });
        },
        Duration::from_millis(u64::from(delay)),
    );
}

pub(crate) fn mount() {
    leptos::mount::mount_to_body(Console);
}

#[component]
fn Console() -> impl IntoView {
    let phase = RwSignal::new(Phase::Checking);
    let state = RwSignal::new(ConsoleState::default());
    let admin = RwSignal::new(false);
    let attempt = StoredValue::new(0u32);
    // The one-time password just typed, so the new-password form need not ask again.
    let typed = StoredValue::new(None::<String>);
    let on_login = Callback::new(move |me: Me| {
        admin.set(me.is_admin());
        if me.must_change_password {
            phase.set(Phase::ChoosingPassword);
            return;
        }
        phase.set(Phase::LoggedIn);
        connect(state, phase, attempt);
    });
    spawn_local(async move {
        match api::get::<Me>("/api/me").await {
            Ok(me) => on_login.run(me),
            Err(_) => phase.set(Phase::LoggedOut),
        }
    });
    view! {
        {move || match phase.get() {
            Phase::Checking => view! { <p class="loading">"Loading…"</p> }.into_any(),
            Phase::LoggedOut => view! { <LoginForm on_login=on_login typed=typed/> }.into_any(),
            Phase::ChoosingPassword => view! {
                <main class="login">
                    <PasswordForm heading="Choose your password" known=typed.get_value() on_done=on_login/>
                </main>
            }.into_any(),
            Phase::LoggedIn => view! { <Desk state=state phase=phase admin=admin/> }.into_any(),
        }}
    }
}

#[component]
fn LoginForm(on_login: Callback<Me>, typed: StoredValue<Option<String>>) -> impl IntoView {
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let login = Login {
            email: email.get_untracked(),
            password: password.get_untracked(),
        };
        spawn_local(async move {
            match api::send::<Me>("POST", "/api/login", &login).await {
                Ok(me) => {
                    typed.set_value(Some(login.password));
                    on_login.run(me);
                }
                Err(failure) => problem.set(Some(failure.message())),
            }
        });
    };
    view! {
        <main class="login">
            <form on:submit=submit>
                <h1>"Porchlight console"</h1>
                <label>"Email"
                    <input type="email" name="email" autocomplete="username" required
                        on:input=move |event| email.set(event_target_value(&event))/>
                </label>
                <label>"Password"
                    <input type="password" name="password" autocomplete="current-password" required
                        on:input=move |event| password.set(event_target_value(&event))/>
                </label>
                <Show when=move || problem.get().is_some()>
                    <p class="problem" role="alert">{move || problem.get().unwrap_or_default()}</p>
                </Show>
                <button type="submit">"Log in"</button>
            </form>
        </main>
    }
}
