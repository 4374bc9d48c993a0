//! The console's UI: log in, see waiting and active chats, join, reply, end.

use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use porchlight_protocol::sync::{Entry, reconnect_delay_ms};
use porchlight_protocol::{
    AgentEvent, AgentRequest, Author, CannedText, ChatSummary, ConversationStatus, QueueInfo,
    to_text,
};
use porchlight_widget::browser::{self, clock, new_client_msg_id, socket_url};
use porchlight_widget::files;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Request, RequestCredentials, RequestInit, Response};

use crate::ai_page::AiPage;
use crate::alert;
use crate::canned;
use crate::canned_page::{self, CannedPage};
use crate::people_page::PeoplePage;
use crate::profiles_page::ProfilesPage;
use crate::reports_page::ReportsPage;
use crate::state::{ConsoleState, Filter};
use crate::tickets_page::TicketsPage;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Checking,
    LoggedOut,
    LoggedIn,
}

/// A same-origin JSON call; returns the status and body.
pub(crate) async fn api(
    method: &str,
    path: &str,
    body: Option<String>,
) -> Result<(u16, String), JsValue> {
    let init = RequestInit::new();
    init.set_method(method);
    init.set_credentials(RequestCredentials::SameOrigin);
    if let Some(body) = &body {
        init.set_body(&JsValue::from_str(body));
    }
    let request = Request::new_with_str_and_init(path, &init)?;
    if body.is_some() {
        request.headers().set("Content-Type", "application/json")?;
    }
    let response: Response = JsFuture::from(window().fetch_with_request(&request))
        .await?
        .dyn_into()?;
    let text = JsFuture::from(response.text()?).await?;
    Ok((response.status(), text.as_string().unwrap_or_default()))
}

fn send_frame(request: &AgentRequest) {
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
            if let AgentEvent::Ring(chat) = &event {
                alert::chime();
                alert::notify(
                    "A visitor is waiting",
                    &format!("{} wants to chat", chat.visitor_name),
                );
            }
            let mut replies = Vec::new();
            state.update(|state| replies = state.apply(event));
            replies.iter().for_each(send_frame);
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
                match api("GET", "/api/me", None).await {
                    Ok((401, _)) => phase.set(Phase::LoggedOut),
                    _ => connect(state, phase, attempt),
                }
            });
        },
        Duration::from_millis(u64::from(delay)),
    );
}

pub fn mount() {
    leptos::mount::mount_to_body(Console);
}

#[component]
fn Console() -> impl IntoView {
    let phase = RwSignal::new(Phase::Checking);
    let state = RwSignal::new(ConsoleState::default());
    let admin = RwSignal::new(false);
    let attempt = StoredValue::new(0u32);
    spawn_local(async move {
        match api("GET", "/api/me", None).await {
            Ok((200, me)) => {
                admin.set(is_admin(&me));
                phase.set(Phase::LoggedIn);
                connect(state, phase, attempt);
            }
            _ => phase.set(Phase::LoggedOut),
        }
    });
    let on_login = Callback::new(move |me: String| {
        admin.set(is_admin(&me));
        phase.set(Phase::LoggedIn);
        connect(state, phase, attempt);
    });
    view! {
        {move || match phase.get() {
            Phase::Checking => view! { <p class="loading">"Loading…"</p> }.into_any(),
            Phase::LoggedOut => view! { <Login on_login=on_login/> }.into_any(),
            Phase::LoggedIn => view! { <Desk state=state phase=phase admin=admin/> }.into_any(),
        }}
    }
}

/// Whether `/api/me` (or the login answer) names an admin.
fn is_admin(me: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(me).is_ok_and(|me| me["role"] == "admin")
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tab {
    Chats,
    Ai,
    Profiles,
    Canned,
    People,
    Tickets,
    Reports,
}

#[component]
fn Login(on_login: Callback<String>) -> impl IntoView {
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let body = serde_json::json!({"email": email.get_untracked(), "password": password.get_untracked()});
        spawn_local(async move {
            match api("POST", "/api/login", Some(body.to_string())).await {
                Ok((200, me)) => on_login.run(me),
                Ok((_, text)) => {
                    let message = serde_json::from_str::<serde_json::Value>(&text)
                        .ok()
                        .and_then(|value| value["message"].as_str().map(str::to_owned))
                        .unwrap_or_else(|| "Login failed.".into());
                    problem.set(Some(message));
                }
                Err(_) => problem.set(Some("The relay cannot be reached.".into())),
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

#[component]
fn Desk(
    state: RwSignal<ConsoleState>,
    phase: RwSignal<Phase>,
    admin: RwSignal<bool>,
) -> impl IntoView {
    let logout = move |_| {
        spawn_local(async move {
            let _ = api("POST", "/api/logout", None).await;
            phase.set(Phase::LoggedOut);
            let _ = window().location().reload();
        });
    };
    let tab = RwSignal::new(Tab::Chats);
    let help = RwSignal::new(false);
    let canned = RwSignal::new(Vec::<CannedText>::new());
    // Through tickets: join the ticket's chat and show it.
    let join_from_ticket = Callback::new(move |conversation_id: i64| {
        send_frame(&AgentRequest::Join { conversation_id });
        let mut frame = None;
        state.update(|s| frame = Some(s.select(conversation_id)));
        if let Some(frame) = frame {
            send_frame(&frame);
        }
        tab.set(Tab::Chats);
    });
    spawn_local(canned_page::load(canned));
    let keys = window_event_listener(leptos::ev::keydown, move |event| {
        on_shortcut(&event, state, help, tab);
    });
    on_cleanup(move || keys.remove());
    view! {
        <div class="shell">
            {move || help.get().then(|| view! { <Shortcuts/> })}
            <nav class="top">
                <strong class="brand">"Porchlight"</strong>
                <button class="tab" class:current=move || tab.get() == Tab::Chats on:click=move |_| tab.set(Tab::Chats)>"Chats"</button>
                <button class="tab" class:current=move || tab.get() == Tab::Tickets on:click=move |_| tab.set(Tab::Tickets)>"Tickets"</button>
                <Show when=move || admin.get()>
                    <button class="tab" class:current=move || tab.get() == Tab::Profiles on:click=move |_| tab.set(Tab::Profiles)>"Profiles"</button>
                    <button class="tab" class:current=move || tab.get() == Tab::Canned on:click=move |_| tab.set(Tab::Canned)>"Canned text"</button>
                    <button class="tab" class:current=move || tab.get() == Tab::People on:click=move |_| tab.set(Tab::People)>"People"</button>
                    <button class="tab" class:current=move || tab.get() == Tab::Reports on:click=move |_| tab.set(Tab::Reports)>"Reports"</button>
                    <button class="tab" class:current=move || tab.get() == Tab::Ai on:click=move |_| tab.set(Tab::Ai)>"AI"</button>
                </Show>
                <Show when=move || state.with(|s| !s.ringing.is_empty())>
                    <button class="ringing-badge" on:click=move |_| tab.set(Tab::Chats)>
                        {move || match state.with(|s| s.ringing.len()) {
                            1 => "1 chat is ringing".to_owned(),
                            n => format!("{n} chats are ringing"),
                        }}
                    </button>
                </Show>
                <span class="spacer"></span>
                <Show when=move || alert::can_ask()>
                    <button class="ghost" on:click=move |_| alert::ask()>"Enable notifications"</button>
                </Show>
                <label class="status-pick">
                    <span class="sr">"Status"</span>
                    <select aria-label="Status"
                        prop:value=move || state.with(|s| s.status_id.map(|id| id.to_string()).unwrap_or_default())
                        on:change=move |event| {
                            if let Ok(status_id) = event_target_value(&event).parse() {
                                send_frame(&AgentRequest::SetStatus { status_id });
                            }
                        }>
                        {move || state.with(|s| s.statuses.clone()).into_iter().map(|status| {
                            let label = if status.online { status.name.clone() } else { format!("{} (no chats)", status.name) };
                            view! { <option value=status.id.to_string()>{label}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <strong>{move || state.with(|s| s.me.as_ref().map(|me| me.name.clone()).unwrap_or_default())}</strong>
                <span class="link">{move || if state.with(|s| s.online) { "Online" } else { "Reconnecting…" }}</span>
                <button class="ghost" on:click=logout>"Log out"</button>
            </nav>
            {move || match tab.get() {
                Tab::Chats => view! { <Chats state=state canned=canned/> }.into_any(),
                Tab::Profiles => view! { <ProfilesPage/> }.into_any(),
                Tab::Canned => view! { <CannedPage texts=canned/> }.into_any(),
                Tab::People => view! { <PeoplePage/> }.into_any(),
                Tab::Reports => view! { <ReportsPage/> }.into_any(),
                Tab::Ai => view! { <AiPage/> }.into_any(),
                Tab::Tickets => view! { <TicketsPage state=state on_join=join_from_ticket/> }.into_any(),
            }}
        </div>
    }
}

/// The console's keys (listed by `?`); ignored while typing in a field.
fn on_shortcut(
    event: &leptos::ev::KeyboardEvent,
    state: RwSignal<ConsoleState>,
    help: RwSignal<bool>,
    tab: RwSignal<Tab>,
) {
    let typing = event
        .target()
        .and_then(|target| target.dyn_into::<web_sys::Element>().ok())
        .is_some_and(|element| {
            matches!(element.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
        });
    if typing || event.ctrl_key() || event.meta_key() || event.alt_key() {
        return;
    }
    let open = |id| {
        let mut frame = None;
        state.update(|s| frame = Some(s.select(id)));
        if let Some(frame) = frame {
            send_frame(&frame);
        }
    };
    match event.key().as_str() {
        "?" => help.update(|shown| *shown = !*shown),
        "Escape" => help.set(false),
        "j" => {
            tab.set(Tab::Chats);
            if let Some(id) = state.with_untracked(|s| s.neighbour(1)) {
                open(id);
            }
        }
        "k" => {
            tab.set(Tab::Chats);
            if let Some(id) = state.with_untracked(|s| s.neighbour(-1)) {
                open(id);
            }
        }
        "a" => {
            if let Some(id) = state.with_untracked(ConsoleState::to_join) {
                tab.set(Tab::Chats);
                send_frame(&AgentRequest::Join {
                    conversation_id: id,
                });
            }
        }
        "r" => {
            let reply = document()
                .query_selector("textarea[aria-label='Message']")
                .ok()
                .flatten()
                .and_then(|element| element.dyn_into::<web_sys::HtmlElement>().ok());
            if let Some(reply) = reply {
                event.prevent_default();
                let _ = reply.focus();
            }
        }
        _ => {}
    }
}

#[component]
fn Shortcuts() -> impl IntoView {
    view! {
        <div class="shortcuts" role="dialog" aria-label="Keyboard shortcuts">
            <h2>"Keyboard shortcuts"</h2>
            <dl>
                <dt><kbd>"j"</kbd>" / "<kbd>"k"</kbd></dt><dd>"Next / previous chat"</dd>
                <dt><kbd>"a"</kbd></dt><dd>"Join the selected waiting chat, or the oldest ringing one"</dd>
                <dt><kbd>"r"</kbd></dt><dd>"Reply: focus the message box"</dd>
                <dt><kbd>"Enter"</kbd></dt><dd>"Send (Shift+Enter: new line)"</dd>
                <dt><kbd>"?"</kbd></dt><dd>"Show or hide this list"</dd>
                <dt><kbd>"Esc"</kbd></dt><dd>"Close this list"</dd>
            </dl>
        </div>
    }
}

#[component]
fn Chats(state: RwSignal<ConsoleState>, canned: RwSignal<Vec<CannedText>>) -> impl IntoView {
    view! {
        <div class="desk">
            <aside class="side">
                <h2>"Chats"</h2>
                <div class="filters" role="group" aria-label="Show">
                    {Filter::ALL.into_iter().map(|filter| view! {
                        <button class="filter"
                            class:current=move || state.with(|s| s.filter == filter)
                            aria-pressed=move || state.with(|s| (s.filter == filter).to_string())
                            on:click=move |_| state.update(|s| s.filter = filter)>
                            {filter.label()}
                        </button>
                    }).collect_view()}
                </div>
                <ul class="chats">
                    <For
                        each=move || state.with(ConsoleState::chat_list)
                        key=|chat| (chat.conversation_id, chat.status, chat.agent.as_ref().map(|a| a.id))
                        children=move |chat| {
                            let id = chat.conversation_id;
                            let queued = chat.status == ConversationStatus::Queued;
                            let status = match chat.status {
                                ConversationStatus::Bot => "With the bot".to_owned(),
                                ConversationStatus::Queued => "Waiting".to_owned(),
                                ConversationStatus::Active => chat.agent.as_ref().map(|a| format!("With {}", a.name)).unwrap_or_default(),
                                ConversationStatus::Ended => "Ended".to_owned(),
                            };
                            view! {
                                <li class="chat"
                                    class:selected=move || state.with(|s| s.selected == Some(id))
                                    class:ringing=move || state.with(|s| s.is_ringing(id))>
                                    <button class="open" on:click=move |_| {
                                        let mut frame = None;
                                        state.update(|s| frame = Some(s.select(id)));
                                        if let Some(frame) = frame { send_frame(&frame); }
                                    }>
                                        <span class="visitor">{chat.visitor_name.clone()}</span>
                                        <span class="state">{status}</span>
                                        {move || state.with(|s| s.unread.get(&id).copied()).map(|n| view! { <span class="unread">{n}</span> })}
                                    </button>
                                    <Show when=move || queued>
                                        <button class="join" on:click=move |_| send_frame(&AgentRequest::Join { conversation_id: id })>"Join"</button>
                                    </Show>
                                </li>
                            }
                        }
                    />
                </ul>
            </aside>
            <Conversation state=state canned=canned/>
        </div>
    }
}

#[component]
fn Conversation(state: RwSignal<ConsoleState>, canned: RwSignal<Vec<CannedText>>) -> impl IntoView {
    let draft = RwSignal::new(String::new());
    // With an AI provider: the suggested reply, summary and translation helpers.
    let helpers = RwSignal::new(false);
    let summary = RwSignal::new(None::<String>);
    let ask_ai_about = move |id: i64, what: &'static str| {
        summary.set(Some("Asking the AI…".into()));
        spawn_local(async move {
            let answer = api("POST", &format!("/api/conversations/{id}/ai/{what}"), None).await;
            let (status, text) = match answer {
                Ok((status, body)) => (status, ai_text(&body)),
                Err(_) => (0, "The relay is unreachable.".into()),
            };
            if status == 200 && what == "suggest" {
                summary.set(None);
                draft.set(text);
            } else {
                summary.set(Some(text));
            }
        });
    };
    spawn_local(async move {
        if let Ok((200, body)) = api("GET", "/api/ai", None).await {
            helpers.set(body.contains("\"helpers\":true"));
        }
    });
    let ask_ai = move |what: &'static str| {
        let Some(id) = state.with_untracked(|s| s.selected) else {
            return;
        };
        ask_ai_about(id, what);
    };
    // A chat that reaches people from the bot or the AI agent is summarised once,
    // when an agent first opens it.
    let summarised = StoredValue::new(std::collections::HashSet::<i64>::new());
    Effect::new(move |_| {
        if !helpers.get() {
            return;
        }
        let Some(id) = state.with(ConsoleState::selected_was_handed_over) else {
            return;
        };
        if summarised.with_value(|done| done.contains(&id)) {
            return;
        }
        summarised.update_value(|done| {
            done.insert(id);
        });
        ask_ai_about(id, "summary");
    });
    // The highlighted line of the canned-text picker.
    let pick = RwSignal::new(0_usize);
    let post = move |body: String| {
        let Some(id) = state.with_untracked(|s| s.selected) else {
            return;
        };
        if body.trim().is_empty() {
            return;
        }
        draft.set(String::new());
        let mut frame = None;
        state.update(|s| frame = Some(s.write(id, new_client_msg_id('a'), body)));
        if let Some(frame) = frame {
            send_frame(&frame);
        }
    };
    let matches = move || {
        let draft = draft.get();
        canned::query(&draft).map_or_else(Vec::new, |query| {
            canned.with(|texts| canned::search(texts, query).into_iter().cloned().collect())
        })
    };
    let post_canned = move |text: CannedText| {
        let (visitor, agent, chat) = state.with_untracked(|s| {
            (
                s.selected_chat()
                    .map(|chat| chat.visitor_name.clone())
                    .unwrap_or_default(),
                s.me.as_ref().map(|me| me.name.clone()).unwrap_or_default(),
                s.selected,
            )
        });
        let body = canned::fill(&text.body, &visitor, &agent);
        match chat.filter(|_| canned::needs_queue(&body)) {
            // The queue's figures come from the relay, as it stands now.
            Some(id) => spawn_local(async move {
                let path = format!("/api/conversations/{id}/estimate");
                let info = match api("GET", &path, None).await {
                    Ok((200, answer)) => serde_json::from_str::<QueueInfo>(&answer).ok(),
                    _ => None,
                };
                let (wait, position) = info.map_or((None, None), |info| (info.wait, info.position));
                post(canned::fill_queue(&body, wait.as_deref(), position));
            }),
            None => post(body),
        }
    };
    let submit = move || {
        let found = matches();
        if found.is_empty() {
            post(draft.get_untracked());
        } else if let Some(text) = found.get(pick.get_untracked().min(found.len() - 1)) {
            post_canned(text.clone());
        }
    };
    let on_file = move |event: leptos::ev::Event| {
        let (Some(file), Some(id)) = (files::picked(&event), state.with_untracked(|s| s.selected))
        else {
            return;
        };
        spawn_local(async move {
            if let Err(refused) = files::upload(id, &file, &new_client_msg_id('f'), None).await {
                state.update(|s| s.notice = Some(refused));
            }
        });
    };
    let end = move |_| {
        if let Some(id) = state.with_untracked(|s| s.selected) {
            send_frame(&AgentRequest::EndChat {
                conversation_id: id,
            });
        }
    };
    let on_key = move |event: leptos::ev::KeyboardEvent| {
        let picking = canned::query(&draft.get_untracked()).is_some();
        match event.key().as_str() {
            "Enter" if !event.shift_key() && !event.is_composing() => {
                event.prevent_default();
                submit();
            }
            "ArrowDown" if picking => {
                event.prevent_default();
                let last = matches().len().saturating_sub(1);
                pick.update(|line| *line = (*line + 1).min(last));
            }
            "ArrowUp" if picking => {
                event.prevent_default();
                pick.update(|line| *line = line.saturating_sub(1));
            }
            "Escape" if picking => draft.set(String::new()),
            _ => {}
        }
    };
    let entries = move || {
        state.with(|s| {
            s.selected
                .and_then(|id| s.transcripts.get(&id))
                .map(|transcript| transcript.entries().to_vec())
                .unwrap_or_default()
        })
    };
    view! {
        <main class="room">
            <Show when=move || state.with(|s| s.notice.is_some())>
                <p class="notice" role="alert">{move || state.with(|s| s.notice.clone().unwrap_or_default())}</p>
            </Show>
            <Show
                when=move || state.with(|s| s.selected_chat().is_some())
                fallback=|| view! { <p class="empty">"Pick a chat on the left. Waiting chats are at the top."</p> }
            >
                <header class="room-head">
                    <div>
                        <h2>{move || state.with(|s| s.selected_chat().map(|c| c.visitor_name.clone()).unwrap_or_default())}</h2>
                        <dl class="context" aria-label="Visitor">
                            {move || state.with(|s| s.selected_chat().map(context_rows))}
                        </dl>
                    </div>
                    <Show when=move || state.with(ConsoleState::holds_selected)>
                        <div class="actions">
                            <select aria-label="Transfer" on:change=move |event| {
                                let choice = event_target_value(&event);
                                if let Some(frame) = state.with_untracked(|s| s.transfer(&choice)) {
                                    send_frame(&frame);
                                }
                            }>
                                <option value="" selected=true>"Transfer to…"</option>
                                {move || state.with(ConsoleState::transfer_choices).into_iter().map(|(value, label)| {
                                    view! { <option value=value>{label}</option> }
                                }).collect_view()}
                            </select>
                            {move || state.with(ConsoleState::uploads_switch).map(|on| view! {
                                <label class="uploads-switch">
                                    <input type="checkbox" prop:checked=on on:change=move |event| {
                                        if let Some(id) = state.with_untracked(|s| s.selected) {
                                            send_frame(&AgentRequest::SetVisitorUploads { conversation_id: id, allowed: event_target_checked(&event) });
                                        }
                                    }/>
                                    "Visitor can send files"
                                </label>
                            })}
                            <button class="end" on:click=end>"End chat"</button>
                        </div>
                    </Show>
                </header>
                <Show when=move || helpers.get()>
                    <div class="ai-tools">
                        <button type="button" class="ghost" on:click=move |_| ask_ai("summary")>"Summarise"</button>
                        <Show when=move || state.with(ConsoleState::holds_selected)>
                            <button type="button" class="ghost" on:click=move |_| ask_ai("suggest")>"Suggest a reply"</button>
                        </Show>
                    </div>
                </Show>
                <Show when=move || summary.with(Option::is_some)>
                    <p class="ai-summary" role="status">{move || summary.get().unwrap_or_default()}
                        <button type="button" class="ghost" aria-label="Close" on:click=move |_| summary.set(None)>"×"</button>
                    </p>
                </Show>
                <ol class="log" aria-live="polite">
                    <For each=entries key=|entry| (entry.key(), entry.seq) children=move |entry| {
                        let chat = state.with_untracked(|s| s.selected).unwrap_or_default();
                        view! { <Line entry=entry chat=chat helpers=helpers/> }
                    }/>
                </ol>
                <Show when=move || state.with(ConsoleState::holds_selected)>
                    <Show when=move || canned::query(&draft.get()).is_some()>
                        <ul class="canned-pick" role="listbox" aria-label="Canned text">
                            {move || {
                                let found = matches();
                                if found.is_empty() {
                                    return view! { <li class="none">"No canned text matches."</li> }.into_any();
                                }
                                let current = pick.get().min(found.len() - 1);
                                found.into_iter().enumerate().map(|(line, text)| {
                                    let label = format!("{} · {}", text.group, text.title);
                                    let preview = text.body.clone();
                                    view! {
                                        <li role="option" aria-selected=(line == current).to_string()>
                                            <button type="button" class:current=line == current
                                                on:click=move |_| post_canned(text.clone())>
                                                <strong>{label}</strong>
                                                <span class="gist">{preview}</span>
                                            </button>
                                        </li>
                                    }
                                }).collect_view().into_any()
                            }}
                        </ul>
                    </Show>
                    <form class="composer" on:submit=move |event| { event.prevent_default(); submit(); }>
                        <label class="attach" title="Send a file">
                            <input type="file" class="file-input" aria-label="Send a file" on:change=on_file/>
                            <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true">
                                <path d="M16.5 6.5v10a4.5 4.5 0 0 1-9 0V5a3 3 0 0 1 6 0v10.5a1.5 1.5 0 0 1-3 0V6.5" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round"></path>
                            </svg>
                        </label>
                        <textarea aria-label="Message" rows="2" placeholder="Reply… (/ for canned text)"
                            prop:value=move || draft.get()
                            on:input=move |event| { pick.set(0); draft.set(event_target_value(&event)); }
                            on:keydown=on_key></textarea>
                        <button type="submit" aria-label="Send">"Send"</button>
                    </form>
                </Show>
            </Show>
        </main>
    }
}

/// The context panel's lines: where the visitor is and came from, and their browser.
fn context_rows(chat: &ChatSummary) -> AnyView {
    let rows = [
        ("Page", chat.page_url.clone()),
        ("Came from", chat.referrer.clone()),
        ("Browser", chat.browser.clone()),
    ];
    rows.into_iter()
        .filter_map(|(label, value)| {
            value
                .filter(|value| !value.is_empty())
                .map(|value| (label, value))
        })
        .map(|(label, value)| view! { <dt>{label}</dt><dd>{value}</dd> })
        .collect_view()
        .into_any()
}

/// The text of a helper's answer, or the relay's sentence saying why not.
fn ai_text(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|value| {
            value["text"]
                .as_str()
                .or_else(|| value["message"].as_str())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "The AI could not answer; try again.".into())
}

#[component]
fn Line(entry: Entry, chat: i64, helpers: RwSignal<bool>) -> impl IntoView {
    let class = match entry.author {
        Author::Agent | Author::Bot => "line mine",
        Author::System => "line system",
        Author::Visitor => "line theirs",
    };
    let pending = entry.is_pending();
    let content = match &entry.attachment {
        Some(file) => files::attachment_view(file),
        None => view! { <span class="body">{entry.body.clone()}</span> }.into_any(),
    };
    let sources = (!entry.sources.is_empty()).then(|| {
        let titles: Vec<String> = entry
            .sources
            .iter()
            .map(|source| source.title.clone())
            .collect();
        view! { <span class="sources">"Sources: "{titles.join(" · ")}</span> }
    });
    // Visitor text can be translated into the agent's language.
    let translation = RwSignal::new(None::<String>);
    let translatable = entry.author == Author::Visitor && entry.attachment.is_none();
    let text = entry.body.clone();
    let translate = move |_| {
        let language = window()
            .navigator()
            .language()
            .unwrap_or_else(|| "en".into());
        let payload = serde_json::json!({ "text": text, "language": language }).to_string();
        translation.set(Some("Translating…".into()));
        spawn_local(async move {
            let path = format!("/api/conversations/{chat}/ai/translate");
            let answer = match api("POST", &path, Some(payload)).await {
                Ok((_, body)) => ai_text(&body),
                Err(_) => "The relay is unreachable.".into(),
            };
            translation.set(Some(answer));
        });
    };
    view! {
        <li class=class class:pending=pending>
            {entry.author_name.clone().map(|name| view! { <span class="who">{name}</span> })}
            {content}
            {sources}
            <Show when=move || translation.with(Option::is_some)>
                <span class="translation">{move || translation.get().unwrap_or_default()}</span>
            </Show>
            <Show when=move || translatable && helpers.get() && translation.with(Option::is_none)>
                <button type="button" class="link-button" on:click=translate.clone()>"Translate"</button>
            </Show>
            <time class="at">{clock(entry.at)}</time>
        </li>
    }
}
